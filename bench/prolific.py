"""Time the letters lists of persons with each plan of the person filters forced: the
walk (`PROLIFIC = 0`) and the set (`PROLIFIC` above every footprint), to find where
`letters.filters.PROLIFIC` should stand (not a test: it records). In-process (the
Django test client), under the DATABASE_URL of a generated corpus:

    DATABASE_URL=sqlite:////tmp/c100/db.sqlite3 DJANGO_SECRET_KEY=… \\
      DJANGO_ALLOWED_HOSTS=testserver API_QUERY_TIME_LIMIT_MS=0 \\
      .venv/bin/python bench/prolific.py --signed 50,250,1000,2000 \\
      'signatory={key}' 'signatory={key}&page_size=10&page=3'

For each number of letters signed it takes the person who signed the fewest letters
at or above it, and prints one JSON line a URL: the best of --repeat runs after a
warm-up of each plan, the plans alternated twice, the better of the two (ms).
"""

import argparse
import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "archive_api.settings")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
django.setup()

from django.test import Client  # noqa: E402

from letters import filters  # noqa: E402
from letters.models import Person  # noqa: E402

PLANS = {"walk": 0, "set": 10**9}


def best_ms(client: Client, url: str, repeat: int) -> float:
    client.get(url)  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return round(min(times) * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signed", default="50,100,250,500,1000,2000")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("queries", nargs="*", default=["signatory={key}"])
    args = parser.parse_args()
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
            for _round in range(2):
                for plan, prolific in PLANS.items():
                    filters.PROLIFIC = prolific
                    ms = best_ms(client, url, args.repeat)
                    row[plan] = min(row.get(plan, ms), ms)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
