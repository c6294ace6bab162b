"""Benchmark the archive against Datasette on the same data (not a test: it records).

For each engine and size it: creates a database, loads the seeds, generates a synthetic
corpus (generate_corpus), serves the archive with gunicorn on 127.0.0.1, and measures
requests/s at 1 and 8 connections with p50/p95/p99 latency for each scenario, each hit
with many distinct queries (different date windows, persons, organisations) so no
single cached answer is measured. On SQLite it serves the same file with Datasette and
measures the equivalent SQL. It also counts SQL queries per request (in-process) and
times the data package: build (with peak memory), validation, import.

Every load loop is bounded in count and in time and targets 127.0.0.1 only.

    .venv/bin/python bench/run.py --sizes 1000,10000,100000 --engines sqlite
    scripts/with-postgresql.sh .venv/bin/python bench/run.py --engines postgresql

With --existing SCENARIO,... it only serves the corpus already at DATABASE_URL and
loads those scenarios at one connection (to alternate two checkouts on one database).

Results are printed as Markdown (and appended to --out if given).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
HOST = "127.0.0.1"
MAX_REQUESTS = 400  # per scenario and concurrency
MAX_SECONDS = 8.0  # per scenario and concurrency


def yardstick() -> dict:
    """The machine's speed on fixed work that involves nothing of the archive (ms,
    median of five): a pure-Python loop, and SQLite reading a 200,000-row table in
    memory through an index. The bench takes it at the start and the end of each
    run: a shared host's speed varies within an hour (the twenty-first session's
    two runs gave the letters page 33 ms against 22 the session before, with the
    same code 25-35 ms in that hour: docs/benchmarks.md), and a run's figures are
    only comparable with another's next to their yardsticks."""
    import sqlite3
    import statistics

    def python_work():
        counts: dict[str, int] = {}
        for i in range(200_000):
            key = f"k{i % 5000}"
            counts[key] = counts.get(key, 0) + i

    rows = random.Random(7)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (a INTEGER, b INTEGER, c TEXT)")
    db.executemany(
        "INSERT INTO t VALUES (?, ?, ?)",
        (
            (rows.randrange(10**6), rows.randrange(100), "x" * 40)
            for _ in range(200_000)
        ),
    )
    db.execute("CREATE INDEX t_b_a ON t (b, a)")

    def sqlite_work():
        for b in range(100):
            db.execute(
                "SELECT COUNT(*) FROM t WHERE b = ? AND a BETWEEN 250000 AND 750000",
                (b,),
            ).fetchone()
            db.execute("SELECT SUM(length(c)) FROM t WHERE b = ?", (b,)).fetchone()

    def median_ms(work) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1000

    try:
        return {
            "python_ms": median_ms(python_work),
            "sqlite_ms": median_ms(sqlite_work),
        }
    finally:
        db.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def manage(env, *args, capture=False):
    """Run a management command; a failure stops the run with its own output (a
    captured one would otherwise be lost in a CalledProcessError)."""
    done = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env,
        capture_output=capture, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        sys.exit(
            f"manage.py {' '.join(args)} failed ({done.returncode}):\n"
            f"{done.stdout or ''}{done.stderr or ''}"
        )
    return done


def in_process(env, *args, data=None):
    """Run bench/queries.py (in-process measurements under env's DATABASE_URL) with
    these arguments and `data` as JSON on stdin; its JSON answer. On failure, its
    error output is shown (a request that was not answered 200, say)."""
    done = subprocess.run(
        [PY, "bench/queries.py", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, input=None if data is None else json.dumps(data),
    )  # fmt: skip
    if done.returncode:
        sys.exit(f"bench/queries.py {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)


def wait_for(port: int, path: str, timeout=60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server on port {port} did not answer {path}")


def load(port: int, urls: list[str], concurrency: int, headers=None) -> dict:
    """Bounded closed-loop load: `concurrency` keep-alive clients take URLs in turn."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(MAX_REQUESTS))
    deadline = time.monotonic() + MAX_SECONDS

    def client():
        nonlocal errors
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            url = urls[n % len(urls)]
            started = time.perf_counter()
            try:
                conn.request("GET", url, headers=headers or {})
                response = conn.getresponse()
                response.read()
                ok = response.status in (200, 304)
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / wall if wall else 0.0,
        "p50": pct(0.50),
        "p95": pct(0.95),
        "p99": pct(0.99),
    }


# --- scenarios -----


def scenarios(env, rng: random.Random) -> dict[str, list[str]]:
    return scenario_urls(in_process(env, "--info"), rng)


def scenario_urls(info: dict, rng: random.Random) -> dict[str, list[str]]:
    """The scenarios' URLs for the keys of bench/queries.py --info (also read by
    bench/statements.py)."""
    orgs, prolific, letters = info["organisations"], info["prolific"], info["letters"]
    out: dict[str, list[str]] = {}
    windows = []
    for _ in range(60):
        year = rng.randint(2010, 2020)
        month = rng.randint(1, 10)
        windows.append((f"{year}-{month:02d}", f"{year}-{month + 2:02d}"))
    out["letters page (date range + organisation)"] = [
        f"/api/v1/letters/?date_after={a}&date_before={b}&organisation={rng.choice(orgs)}"
        "&page_size=50"
        for a, b in windows
    ]
    out["letters signed by a prolific person"] = [
        f"/api/v1/letters/?signatory={p}&page_size=50&page={rng.randint(1, 3)}"
        for p in prolific
        for _ in range(6)
    ]
    out["letter detail"] = [f"/api/v1/letters/{x}/" for x in letters]
    out["persons by letters signed"] = [
        f"/api/v1/persons/?ordering=-letters_signed&page_size={s}&page={p}"
        for s in (10, 20, 50)
        for p in range(1, 4)
    ]
    out["search, rare word"] = [
        f"/api/v1/letters/?search={info['rare_word']}&year={y}"
        for y in range(2010, 2021)
    ] + [f"/api/v1/letters/?search={info['rare_word']}"]
    out["search, common word"] = [
        f"/api/v1/letters/?search={info['common_word']}&year={y}&page_size=50"
        for y in range(2010, 2021)
    ]
    out["facets"] = [
        f"/api/v1/letters/?facets=kind,year,place,organisation&date_after={a}"
        f"&date_before={b}&page_size=10"
        for a, b in windows
    ]
    out["_prolific"] = prolific
    out["_organisations"] = orgs
    out["_windows"] = [f"{a}|{b}" for a, b in windows]
    return out


DATASETTE_LETTERS = """
select l.identifier, l.title, l.date,
  (select json_group_array(json_object('position', s.position,
     'name_as_written', s.name_as_written, 'person', p.display_name,
     'certainty', s.certainty))
   from letters_signatory s left join letters_person p on p.id = s.person_id
   where s.letter_id = l.id) as signatories,
  (select json_group_array(json_object('role', a.role, 'person', ap.display_name,
     'organisation', ao.name, 'office_as_written', a.office_as_written))
   from letters_addressee a left join letters_person ap on ap.id = a.person_id
   left join letters_organisation ao on ao.id = a.organisation_id
   where a.letter_id = l.id) as addressees
from letters_letter l
where l.status = 'published' and l.date_latest >= :after and l.date_earliest <= :before
  and l.id in (
    select letter_id from letters_issuer where organisation_id = (select id from letters_organisation where key = :org)
    union select letter_id from letters_signatory where organisation_id = (select id from letters_organisation where key = :org)
    union select letter_id from letters_addressee where organisation_id = (select id from letters_organisation where key = :org)
    union select letter_id from letters_mention where organisation_id = (select id from letters_organisation where key = :org))
order by l.date_earliest, l.identifier limit 50
"""  # noqa: E501

DATASETTE_SIGNED = """
select l.identifier, l.title, l.date from letters_letter l
where l.status = 'published' and l.id in (
  select letter_id from letters_signatory
  where person_id = (select id from letters_person where key = :person))
order by l.date_earliest, l.identifier limit 50 offset :offset
"""


def datasette_urls(db_name: str, sc: dict, rng: random.Random) -> dict[str, list[str]]:
    def url(sql, **params):
        query = {"sql": " ".join(sql.split()), "_shape": "array", **params}
        return f"/{db_name}.json?" + urllib.parse.urlencode(query)

    letters = []
    for window in sc["_windows"]:
        a, b = window.split("|")
        letters.append(
            url(DATASETTE_LETTERS, after=f"{a}-01", before=f"{b}-28",
                org=rng.choice(sc["_organisations"]), _json="signatories")
            + "&_json=addressees"
        )  # fmt: skip
    signed = [
        url(DATASETTE_SIGNED, person=p, offset=str(50 * rng.randint(0, 2)))
        for p in sc["_prolific"]
        for _ in range(6)
    ]
    return {
        "letters page (date range + organisation)": letters,
        "letters signed by a prolific person": signed,
    }


# --- one engine, one size -----


def bench_env(base_env: dict) -> dict:
    """The settings the archive is measured under: production-like (no debug),
    the throttle opened, persistent connections, plain HTTP on loopback."""
    return {
        **base_env,
        "DJANGO_SECRET_KEY": "bench-only-not-secret",
        "DJANGO_DEBUG": "0",
        "API_ANON_THROTTLE_RATE": "100000000/second",
        "DATABASE_CONN_MAX_AGE": "600",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
    }


@contextmanager
def served(env):
    """The archive under gunicorn on a free loopback port, as the benchmark serves
    it (2 workers of 2 threads); yields the port, stops the server at the end."""
    port = free_port()
    server = subprocess.Popen(
        [PY, "-m", "gunicorn", "archive_api.wsgi", "-b", f"{HOST}:{port}", "-w", "2",
         "--threads", "2", "-k", "gthread", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        wait_for(port, "/api/v1/")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def run_one(engine: str, size: int, work: Path, base_env: dict, rng) -> dict:
    env = bench_env(base_env)
    env["DATAPACKAGE_DIR"] = str(work / f"pkg-{engine}-{size}")
    if engine == "sqlite":
        db = work / f"bench-{size}.sqlite3"
        db.unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{db}"
    else:
        base = base_env["DATABASE_URL"]
        import psycopg

        name = f"bench_{size}"
        admin = base.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        env["DATABASE_URL"] = base.rsplit("/", 1)[0] + f"/{name}"
    result: dict = {"engine": engine, "size": size, "scenarios": {}}
    result["yardstick"] = {"start": yardstick()}
    manage(env, "migrate", "-v0")
    manage(env, "load_seeds", capture=True)
    started = time.perf_counter()
    manage(env, "generate_corpus", "--letters", str(size), "--seed", "1",
           "--no-cards", capture=True)  # fmt: skip
    result["generate_s"] = time.perf_counter() - started
    started = time.perf_counter()
    manage(env, "letter_cards", capture=True)
    result["cards_s"] = time.perf_counter() - started
    if engine == "sqlite":
        result["db_mb"] = db.stat().st_size / 2**20

    # The data package: build (+ peak memory), validation, import.
    result["package"] = package_figures(env, work, engine, size)

    sc = scenarios(env, rng)
    queries = in_process(
        env, data={k: v[0] for k, v in sc.items() if not k.startswith("_")}
    )
    result["time_limited_in_process"] = queries.pop("_time_limited", {})
    manage(env, "export_datapackage", capture=True)  # published, as after a deploy
    with served(env) as port:
        urllib_get(port, "/api/v1/datapackage.zip")  # publish once
        for name, urls in sc.items():
            if name.startswith("_"):
                continue
            rng.shuffle(urls)
            result["scenarios"][name] = {
                "queries": queries.get(name),
                "c1": load(port, urls, 1),
                "c8": load(port, urls, 8),
            }
        etag = urllib_get(port, "/api/v1/datapackage.zip")["ETag"]
        result["scenarios"]["304 by ETag (datapackage.zip)"] = {
            "queries": in_process(env, "--not-modified", "/api/v1/datapackage.zip"),
            "c1": load(port, ["/api/v1/datapackage.zip"], 1, {"If-None-Match": etag}),
            "c8": load(port, ["/api/v1/datapackage.zip"], 8, {"If-None-Match": etag}),
        }

    if engine == "sqlite":
        result["datasette"] = datasette_figures(env, work, size, sc, rng)
    result["yardstick"]["end"] = yardstick()
    return result


def urllib_get(port, path) -> dict:
    conn = http.client.HTTPConnection(HOST, port, timeout=600)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return dict(response.getheaders())


def package_figures(env, work: Path, engine: str, size: int) -> dict:
    out = work / f"export-{engine}-{size}"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    timed = subprocess.run(
        ["/usr/bin/time", "-f", "%M", PY, "manage.py", "export_datapackage", "--out",
         str(out)], cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    build_s = time.perf_counter() - started
    peak_mb = int(timed.stderr.strip().splitlines()[-1]) / 1024
    # "stages: write 9.8 s, validate 41.0 s (builder peak 66 MB after writing)"
    stages = re.search(
        r"stages: write ([0-9.]+) s, validate ([0-9.]+) s.*builder peak ([0-9]+) MB",
        timed.stdout,
    )
    write_s, build_validate_s, write_mb = map(float, stages.groups())
    code = (
        "import django,sys,time;django.setup();from datapackage import build;"
        "from pathlib import Path;t=time.perf_counter();"
        f"e=build.validate(Path({str(out)!r}).resolve());"
        "print(time.perf_counter()-t, len(e))"
    )
    validated = subprocess.run(
        [PY, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True,
        env={**env, "DJANGO_SETTINGS_MODULE": "archive_api.settings"},
    )  # fmt: skip
    validate_s, errors = validated.stdout.split()
    import_env = dict(env)
    if engine == "sqlite":
        target = work / f"import-{size}.sqlite3"
        target.unlink(missing_ok=True)
        import_env["DATABASE_URL"] = f"sqlite:///{target}"
    else:
        import psycopg

        name = f"bench_import_{size}"
        admin = env["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        import_env["DATABASE_URL"] = env["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"
    manage(import_env, "migrate", "-v0")
    started = time.perf_counter()
    manage(import_env, "import_datapackage", str(out), "--no-cards", capture=True)
    import_s = time.perf_counter() - started
    started = time.perf_counter()
    manage(import_env, "letter_cards", capture=True)
    import_cards_s = time.perf_counter() - started
    return {
        "build_s": build_s,
        "peak_mb": peak_mb,
        "write_s": write_s,
        "write_peak_mb": write_mb,
        "build_validate_s": build_validate_s,
        "validate_s": float(validate_s),
        "validation_errors": int(errors),
        "import_s": import_s,
        "import_cards_s": import_cards_s,
    }


def datasette_exe() -> str | None:
    """Datasette's command (the `bench` extra), or None when it is not installed."""
    beside = Path(PY).parent / "datasette"
    return shutil.which("datasette") or (str(beside) if beside.exists() else None)


def datasette_figures(env, work: Path, size: int, sc: dict, rng) -> dict:
    db = Path(env["DATABASE_URL"].removeprefix("sqlite:///"))
    port = free_port()
    exe = datasette_exe()
    server = subprocess.Popen(
        [exe, "serve", "-i", str(db), "-h", HOST, "-p", str(port),
         "--setting", "sql_time_limit_ms", "20000",
         "--setting", "num_sql_threads", "4"],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    figures = {}
    try:
        wait_for(port, "/-/versions.json")
        for name, urls in datasette_urls(db.stem, sc, rng).items():
            figures[name] = {"c1": load(port, urls, 1), "c8": load(port, urls, 8)}
    finally:
        server.terminate()
        server.wait(timeout=30)
    return figures


# --- report -----


def verdicts(r: dict) -> list[str]:
    """The issue's targets (set for 100k letters on SQLite), each met or missed."""
    sc, ds, pkg = r["scenarios"], r.get("datasette", {}), r["package"]
    page, signed = (
        "letters page (date range + organisation)",
        "letters signed by a prolific person",
    )

    def vs_datasette(name):
        if name not in ds:
            return None
        return sc[name]["c8"]["rps"] / max(ds[name]["c8"]["rps"], 1e-9)

    checks = []
    ratio = vs_datasette(page)
    if ratio is not None:
        checks.append((f"letters page ≥ 1.5× Datasette at 8 connections: {ratio:.2f}×",
                       ratio >= 1.5))  # fmt: skip
    p50 = sc[page]["c1"]["p50"]
    checks.append((f"letters page p50 < 10 ms at 1 connection: {p50:.1f} ms", p50 < 10))
    ratio = vs_datasette(signed)
    if ratio is not None:
        checks.append((f"signed-by ≥ Datasette at 8 connections: {ratio:.2f}×",
                       ratio >= 1.0))  # fmt: skip
    lists = [v["queries"] for k, v in sc.items() if k != "letter detail"]
    most = max((q for q in lists if isinstance(q, int)), default=0)
    checks.append((f"at most 5 SQL queries per list request (facets included): "
                   f"{most}", most <= 5))  # fmt: skip
    not_modified = sc.get("304 by ETag (datapackage.zip)", {}).get("queries")
    checks.append((f"a 304 by ETag without touching the database: {not_modified} "
                   "queries", not_modified == 0))  # fmt: skip
    checks += [
        (f"build < 15 s: {pkg['write_s']:.1f} s", pkg["write_s"] < 15),
        (f"build peak < 150 MB: {pkg['write_peak_mb']:.0f} MB",
         pkg["write_peak_mb"] < 150),
        (f"build + full validation < 30 s: {pkg['build_s']:.1f} s",
         pkg["build_s"] < 30),
        (f"import < 60 s: {pkg['import_s']:.1f} s (the letter cards after it: "
         f"{pkg['import_cards_s']:.1f} s)", pkg["import_s"] < 60),
    ]  # fmt: skip
    if (r["engine"], r["size"]) != ("sqlite", 100_000):
        return []  # the targets are set for this size and engine only
    head = "Targets (100k letters on SQLite):"
    return [
        head,
        "",
        *[f"- {'met' if ok else '**missed**'}: {text}" for text, ok in checks],
        "",
    ]


def yardstick_line(figures: dict) -> str:
    start, end = figures["start"], figures["end"]
    return (
        "Machine yardstick (fixed work outside the archive, median of 5, at the "
        f"start / end of the run): Python {start['python_ms']:.1f} / "
        f"{end['python_ms']:.1f} ms, SQLite {start['sqlite_ms']:.1f} / "
        f"{end['sqlite_ms']:.1f} ms."
    )


def markdown(results: list[dict]) -> str:
    lines = []
    for r in results:
        lines += [
            f"### {r['engine']}, {r['size']:,} letters",
            "",
            f"generate_corpus: {r['generate_s']:.1f} s, then the letter cards "
            f"{r['cards_s']:.1f} s"
            + (f" (database file {r['db_mb']:,.0f} MB)" if "db_mb" in r else "")
            + ". Data package: build "
            f"(writing the files) {r['package']['write_s']:.1f} s, builder peak "
            f"{r['package']['write_peak_mb']:.0f} MB; build + validation (the whole "
            f"export command) {r['package']['build_s']:.1f} s, of which validation "
            f"{r['package']['build_validate_s']:.1f} s, peak "
            f"{r['package']['peak_mb']:.0f} MB (the largest process, validation "
            f"workers included); validation alone {r['package']['validate_s']:.1f} s "
            f"({r['package']['validation_errors']} errors); import "
            f"{r['package']['import_s']:.1f} s, then its letter cards "
            f"{r['package']['import_cards_s']:.1f} s.",
            "",
            yardstick_line(r["yardstick"]),
            "",
            *verdicts(r),
            "| scenario | queries | req/s ×1 | p50 | p95 | p99 | req/s ×8 | p50 | p95 "
            "| p99 | errors | vs Datasette ×1 | ×8 |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        ds = r.get("datasette", {})
        for name, s in r["scenarios"].items():
            c1, c8 = s["c1"], s["c8"]
            ratio1 = ratio8 = "—"
            if name in ds:
                ratio1 = f"{c1['rps'] / max(ds[name]['c1']['rps'], 1e-9):.2f}×"
                ratio8 = f"{c8['rps'] / max(ds[name]['c8']['rps'], 1e-9):.2f}×"
            lines.append(
                f"| {name} | {s['queries']} | {c1['rps']:.0f} | {c1['p50']:.1f} | "
                f"{c1['p95']:.1f} | {c1['p99']:.1f} | {c8['rps']:.0f} | "
                f"{c8['p50']:.1f} | {c8['p95']:.1f} | {c8['p99']:.1f} | "
                f"{c1['errors'] + c8['errors']} | {ratio1} | {ratio8} |"
            )
        for name, s in ds.items():
            lines.append(
                f"| Datasette: {name} | 1 | {s['c1']['rps']:.0f} | "
                f"{s['c1']['p50']:.1f} | {s['c1']['p95']:.1f} | {s['c1']['p99']:.1f} | "
                f"{s['c8']['rps']:.0f} | {s['c8']['p50']:.1f} | {s['c8']['p95']:.1f} | "
                f"{s['c8']['p99']:.1f} | {s['c1']['errors'] + s['c8']['errors']} | | |"
            )
        for name, n in r.get("time_limited_in_process", {}).items():
            lines += [
                "",
                f"In-process, before the load: {name} was answered 503 by the "
                f"statement time limit {n} time(s) (a cold cache), then 200.",
            ]
        lines.append("")
    return "\n".join(lines)


def existing(names: list[str]) -> None:
    """--existing: load the named scenarios at one connection against the corpus
    already at DATABASE_URL, served as a run serves it, between two readings of the
    yardstick; one JSON line each. Run it from two checkouts in turn on one
    database to compare them through HTTP (docs/benchmarks.md)."""
    env = bench_env(dict(os.environ))
    urls = scenarios(env, random.Random(42))
    known = [name for name in urls if not name.startswith("_")]
    unknown = [name for name in names if name not in known]
    if unknown:
        sys.exit(f"unknown scenario(s) {unknown}; known: {known}")
    print(json.dumps({"yardstick": yardstick()}), flush=True)
    with served(env) as port:
        for name in names:
            order = list(urls[name])
            random.Random(1).shuffle(order)
            c1 = load(port, order, 1)
            figures = {k: round(c1[k], 1) for k in ("rps", "p50", "p95", "p99")}
            figures["errors"] = c1["errors"]
            print(json.dumps({"scenario": name, **figures}), flush=True)
    print(json.dumps({"yardstick": yardstick()}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--engines", default="sqlite")
    parser.add_argument("--out", type=Path, help="Append the Markdown table here.")
    parser.add_argument("--json", type=Path, help="Write the raw figures here.")
    parser.add_argument(
        "--existing",
        metavar="SCENARIO,...",
        help="Only load these scenarios, at one connection, against the corpus at "
        "DATABASE_URL (no corpus built, no Datasette).",
    )
    args = parser.parse_args()
    if args.existing:
        existing([name.strip() for name in args.existing.split(",") if name.strip()])
        return
    if "sqlite" in args.engines.split(",") and datasette_exe() is None:
        # Checked first: the run would otherwise fail after building the corpus.
        sys.exit(
            "sqlite: Datasette is not installed; "
            "pip install -e '.[dev,bench]' (make bench does)"
        )
    rng = random.Random(42)
    work = Path(tempfile.mkdtemp(prefix="archive-bench-"))
    results = []
    try:
        for engine in args.engines.split(","):
            if engine == "postgresql" and not os.environ.get(
                "DATABASE_URL", ""
            ).startswith("postgres"):
                sys.exit("postgresql: run under scripts/with-postgresql.sh")
            for size in (int(s) for s in args.sizes.split(",")):
                print(f"== {engine} {size}", file=sys.stderr, flush=True)
                results.append(run_one(engine, size, work, dict(os.environ), rng))
                print(markdown(results[-1:]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.out:
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(markdown(results) + "\n")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
