"""Time the letters lists of persons with each plan of the person filters forced: the
walk (`PROLIFIC = 0`) and the set (`PROLIFIC` above every footprint), to find where
`letters.filters.PROLIFIC` should stand (not a test: it records). With `--constant
WALK_COUNT_RATIO --plans window:1000000000,index:0`, the same for how a walked list is
counted: by walking its date window, or by reading the person's letters by index.
In-process (the Django test client), under the DATABASE_URL of a generated corpus:

    DATABASE_URL=sqlite:////tmp/c100/db.sqlite3 DJANGO_SECRET_KEY=… \\
      .venv/bin/python bench/prolific.py --signed 50,250,1000,2000 \\
      'signatory={key}' 'signatory={key}&page_size=10&page=3'

For each number of letters signed it takes the person who signed the fewest letters
at or above it, and prints one JSON line a URL: the best of --repeat runs after a
warm-up of each plan, the plans alternated twice, the better of the two (ms, under
each plan's name); with `window_letters`, the number of published letters in the URL's
date window (`date_after`/`date_before`), and `ratio`, that number per letter signed.
"""

import argparse
import json
import re
import time

import in_process_setup

in_process_setup.setup()  # the slow side of a plan is what is being measured

from urllib.parse import urlsplit  # noqa: E402

from django.http import QueryDict  # noqa: E402
from django.test import Client  # noqa: E402

from letters import filters  # noqa: E402
from letters.models import Person  # noqa: E402

PLANS = "walk:0,set:1000000000"
ROW_KEYS = ("url", "signed", "window_letters", "ratio")  # beside each plan's ms


def best_ms(client: Client, url: str, repeat: int) -> float:
    client.get(url)  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return round(min(times) * 1000, 1)


def window_size(client: Client, url: str) -> int | None:
    """The published letters in the URL's date window, or None without one."""
    query = QueryDict(urlsplit(url).query)
    bounds = {k: query[k] for k in ("date_after", "date_before") if k in query}
    if not bounds:
        return None
    response = client.get("/api/v1/letters/", {**bounds, "page_size": 1})
    assert response.status_code == 200, (bounds, response.status_code)
    return response.json()["count"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signed", default="50,100,250,500,1000,2000")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--constant", default="PROLIFIC")
    parser.add_argument(
        "--plans", default=PLANS, help="name:value,… (default %(default)s)"
    )
    parser.add_argument("queries", nargs="*", default=["signatory={key}"])
    args = parser.parse_args()
    if not hasattr(filters, args.constant):
        parser.error(f"letters.filters has no {args.constant}")
    plans = {}
    for item in args.plans.split(","):
        name, _, value = item.partition(":")
        if not re.fullmatch(r"[a-z_]+", name) or not re.fullmatch(r"[0-9]+", value):
            parser.error(f"--plans: {item!r} is not name:whole-number")
        if name in ROW_KEYS:
            parser.error(f"--plans: {name!r} names a column of the output")
        plans[name] = int(value)
    client = Client()
    for signed in (int(n) for n in args.signed.split(",")):
        person = (
            Person.objects.filter(letters_signed__gte=signed)
            .order_by("letters_signed")
            .first()
        )
        for query in args.queries:
            url = "/api/v1/letters/?" + query.format(key=person.key)
            row = {"url": url, "signed": person.letters_signed}
            window = window_size(client, url)
            if window is not None:
                row["window_letters"] = window
                row["ratio"] = round(window / person.letters_signed, 2)
            for _round in range(2):
                for plan, value in plans.items():
                    setattr(filters, args.constant, value)
                    ms = best_ms(client, url, args.repeat)
                    row[plan] = min(row.get(plan, ms), ms)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
