"""Time the stages of import_datapackage (not a test: it records).

Run under the DATABASE_URL of an empty, migrated archive:

    DATABASE_URL=sqlite:////tmp/imp/db.sqlite3 DJANGO_SECRET_KEY=… \\
      /usr/bin/time -v .venv/bin/python bench/import_stages.py /tmp/c100/pkg

prints the seconds of the structure check, of the load, of each role table's INSERTs,
of the searched names and of the footprint refresh, of the wait for frictionless's
verdict once the load is done (a large package is validated while it loads), then the
total.
"""

import functools
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "archive_api.settings")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def timed(module, name, label=None):
    original = getattr(module, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            shown = label(*args) if label else f"{module.__name__}.{name}"
            print(f"{shown}: {time.perf_counter() - started:.1f} s", flush=True)

    setattr(module, name, wrapper)


def main() -> None:
    django.setup()
    from datapackage import load, validation
    from letters import bulk, footprint, search

    timed(load, "check_structure", lambda *a: "check (structure)")
    timed(validation.Validation, "errors", lambda *a: "waiting for the verdict")
    timed(load, "_load", lambda *a: "load (all tables)")
    timed(bulk, "insert_rows", lambda model, *a: f"  INSERT {model._meta.db_table}")
    timed(search, "refresh_names", lambda *a: "searched names")
    timed(footprint, "refresh", lambda *a, **k: "footprint (with names)")
    started = time.perf_counter()
    counts = load.import_package(sys.argv[1])
    print(f"total: {time.perf_counter() - started:.1f} s for {counts}", flush=True)


if __name__ == "__main__":  # validation workers are spawned processes
    main()
