"""Bounded load test: N concurrent clients for S seconds against gunicorn on 127.0.0.1,
on a mix of list, filter, search, detail, facet and data-package requests. Reports
errors, throughput, latency percentiles and the memory (RSS) of the gunicorn workers
after a warm-up and at the end, to show that memory does not grow.

    DATABASE_URL=sqlite:////tmp/c100/db.sqlite3 .venv/bin/python bench/load.py \\
        --clients 50 --seconds 60

The database must be migrated and loaded (load_seeds, optionally generate_corpus).
Every loop is bounded by --seconds and --max-requests and targets 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import HOST, PY, ROOT, free_port, in_process, manage, wait_for  # noqa: E402


def rss_mb(master_pid: int) -> float:
    """Resident memory of the gunicorn master and its workers, in MB."""
    pids = [master_pid]
    children = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master_pid)], capture_output=True, text=True
    ).stdout.split()
    pids += [int(p) for p in children]
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def mix(rng: random.Random, prolific: list[str], letters: list[str]) -> list[str]:
    urls = []
    pages = max(1, min(5, len(letters) // 20))  # only pages that exist
    for _ in range(400):
        year = rng.randint(2010, 2020)
        month = rng.randint(1, 10)
        who = rng.choice(prolific)
        urls += [
            f"/api/v1/letters/?page={rng.randint(1, pages)}&page_size=20",
            f"/api/v1/letters/?date_after={year}-{month:02d}&date_before={year}-"
            f"{month + 2:02d}&page_size=20",
            f"/api/v1/letters/?signatory={who}&page_size=20",
            f"/api/v1/letters/?search=fabius&year={year}",
            f"/api/v1/letters/{rng.choice(letters)}/",
            f"/api/v1/letters/?facets=kind,year,place&year={year}&page_size=5",
            "/api/v1/datapackage/",
        ]
    rng.shuffle(urls)
    return urls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=500_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--threads",
        type=int,
        default=2,
        help="threads per worker: more than the cores only time-slice queries, "
        "which then run into the query time limit",
    )
    args = parser.parse_args()
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": os.environ.get(
            "DJANGO_SECRET_KEY", "load-only-" + "x" * 40
        ),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "API_ANON_THROTTLE_RATE": "100000000/second",
        "DATABASE_CONN_MAX_AGE": "600",
    }
    info = in_process(env, "--info")
    prolific = info["prolific"] or ["laurent-fabius", "manuel-valls"]
    letters = info["letters"] or ["adv-0001", "adv-0005"]
    manage(env, "export_datapackage", capture=True)
    urls = mix(random.Random(7), prolific, letters)

    port = free_port()
    server = subprocess.Popen(
        [PY, "-m", "gunicorn", "archive_api.wsgi", "-b", f"{HOST}:{port}",
         "-w", str(args.workers), "--threads", str(args.threads), "-k", "gthread",
         "--backlog", "2048", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        wait_for(port, "/api/v1/")
        for url in urls[:50]:  # warm-up
            conn = http.client.HTTPConnection(HOST, port, timeout=30)
            conn.request("GET", url)
            conn.getresponse().read()
            conn.close()
        rss_start = rss_mb(server.pid)
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        counter = iter(range(args.max_requests))
        deadline = time.monotonic() + args.seconds

        def client(seed: int):
            conn = http.client.HTTPConnection(HOST, port, timeout=60)
            rng = random.Random(seed)
            while time.monotonic() < deadline:
                with lock:
                    if next(counter, None) is None:
                        break
                url = rng.choice(urls)
                started = time.perf_counter()
                try:
                    conn.request("GET", url)
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    status = 0
                    conn.close()
                    conn = http.client.HTTPConnection(HOST, port, timeout=60)
                with lock:
                    latencies.append(time.perf_counter() - started)
                    statuses[status] = statuses.get(status, 0) + 1
            conn.close()

        started = time.perf_counter()
        threads = [
            threading.Thread(target=client, args=(i,)) for i in range(args.clients)
        ]
        for t in threads:
            t.start()
        rss_mid = None
        while any(t.is_alive() for t in threads):
            time.sleep(1)
            if rss_mid is None and time.perf_counter() - started > args.seconds / 2:
                rss_mid = rss_mb(server.pid)
        wall = time.perf_counter() - started
        rss_end = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    errors = sum(n for s, n in statuses.items() if s not in (200, 304))
    print(
        f"clients {args.clients}, {wall:.0f} s, {len(latencies)} requests, "
        f"{len(latencies) / wall:.0f} req/s, errors {errors}, statuses {statuses}"
    )
    print(f"latency ms: p50 {pct(0.5):.0f}, p95 {pct(0.95):.0f}, p99 {pct(0.99):.0f}")
    print(
        f"gunicorn RSS MB: after warm-up {rss_start:.0f}, half-way {rss_mid:.0f}, "
        f"end {rss_end:.0f}"
    )
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
