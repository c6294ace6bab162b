"""Time each SQL statement of a request and the request itself, in-process (not a
test: it records), under the DATABASE_URL of a generated corpus. What an index or a
plan changes shows here apart from the HTTP and Python around it: run it, apply or
reverse the migration, run it again, and alternate.

    DATABASE_URL=sqlite:////tmp/c100/db.sqlite3 DJANGO_SECRET_KEY=… \\
      .venv/bin/python bench/statements.py [--only 'first page,place='] [--urls 30]

For each family of URLs it prints one JSON line: `statements`, each statement's best
of --repeat runs (executed and fetched to the end), the median over the family's
URLs, in the order the request runs them (ms); their `sum`; and `p50`, the whole
request through the Django test client (ms, at least 180 requests). The benchmark's
letters page comes from bench/run.py's own generator (the first --urls of its 60).
"""

import argparse
import json
import random
import statistics
import time

import in_process_setup

in_process_setup.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from queries import info  # noqa: E402
from run import scenario_urls  # noqa: E402

from letters.models import Place  # noqa: E402

BENCHMARK_PAGE = "letters page (date range + organisation)"


def families(count: int) -> dict[str, list[str]]:
    page = scenario_urls(info(), random.Random(42))[BENCHMARK_PAGE][:count]
    places = list(Place.objects.order_by("key").values_list("key", flat=True)[:12])
    window = "date_after=2015-01&date_before=2015-06"
    return {
        BENCHMARK_PAGE: page,
        "date window alone": [url.split("&organisation=")[0] for url in page],
        "first page": ["/api/v1/letters/?page_size=50"],
        "kind=letter": ["/api/v1/letters/?kind=letter&page_size=50"],
        "place=": [f"/api/v1/letters/?place={key}" for key in places],
        "place= with a window": [
            f"/api/v1/letters/?place={key}&{window}" for key in places
        ],
        "places list": ["/api/v1/places/"],
        "place facet": [
            "/api/v1/letters/?facets=place&date_after=2015-01&date_before=2015-03"
        ],
    }


def statements(client: Client, url: str, repeat: int) -> list[float]:
    caught = []

    def catch(execute, sql, params, many, context):
        caught.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(catch):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    with connection.cursor() as cursor:
        for sql, params in caught:
            best = float("inf")
            for _ in range(repeat):
                started = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchall()
                best = min(best, time.perf_counter() - started)
            times.append(best * 1000)
    return times


def p50(client: Client, urls: list[str]) -> float:
    times = []
    for _ in range(3):
        for url in urls * max(1, 60 // len(urls)):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="Comma-separated family names.")
    parser.add_argument("--urls", type=int, default=30, help="Benchmark URLs used.")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    client = Client()
    chosen = set(args.only.split(",")) if args.only else None
    for name, urls in families(args.urls).items():
        if chosen is not None and name not in chosen:
            continue
        for url in urls[:10]:
            client.get(url)  # warm-up
        rows = [statements(client, url, args.repeat) for url in urls]
        medians = [
            round(statistics.median(column), 2) for column in zip(*rows, strict=True)
        ]
        print(json.dumps({
            "family": name, "statements": medians,
            "sum": round(sum(medians), 2), "p50": round(p50(client, urls), 1),
        }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
