"""Build the data package from the published records, validate it with frictionless,
and publish it atomically (to the folder the API serves, or to --out).

An invalid build is never published: the previous package stays as it was and the
error names the resource, row and field.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from datapackage import build, state


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument(
            "--out",
            type=Path,
            help="Publish to this folder instead of DATAPACKAGE_DIR (it becomes a "
            "link to the validated build).",
        )
        parser.add_argument(
            "--zip",
            action="store_true",
            help="Also write the zip (always written for DATAPACKAGE_DIR, which the "
            "API serves).",
        )

    def handle(self, *args, **options):
        out = options["out"]
        progress = None
        bar = None
        if sys.stderr.isatty() and options["verbosity"] > 0:
            from tqdm import tqdm

            bar = tqdm(unit=" rows", unit_scale=True, file=sys.stderr)

            def progress(resource, rows):
                bar.set_description(resource)
                bar.update(rows)

        token = state.stale_token() if out is None else None
        try:
            result = build.build(
                target=out, make_zip=options["zip"] or out is None, progress=progress
            )
        except build.PackageError as exc:
            raise CommandError(str(exc)) from exc
        except DatabaseError as exc:
            raise CommandError(f"the database could not be read: {exc}") from exc
        except OSError as exc:
            raise CommandError(
                f"could not write the package ({exc.strerror or exc}): "
                f"{exc.filename or out or ''}"
            ) from exc
        finally:
            if bar is not None:
                bar.close()
        if out is None:
            state.clear(token)
        for name, count in result.rows.items():
            self.stdout.write(f"  {name}: {count} rows")
        self.stdout.write(
            self.style.SUCCESS(
                f"Published version {result.version} (data as of {result.created}) "
                f"at {result.path}, valid."
            )
        )
        if result.zip_path is not None:
            self.stdout.write(f"  zip: {result.zip_path} sha256 {result.zip_sha256}")
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
        self.stdout.write(
            f"  stages: {stages} (builder peak {result.write_peak_mb:.0f} MB "
            "after writing)"
        )
