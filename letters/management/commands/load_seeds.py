"""Load the curated seed catalogue (seeds/catalogue.yaml) into the database.

Idempotent: a second run changes nothing and says so. Each document's sha256 is checked
against the catalogue; a curator's edit to a curated field is never overwritten. The
whole catalogue loads in one transaction: on any error nothing is written, and the
message names the file, the entry and the field.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from letters import catalogue, services


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument(
            "--catalogue",
            type=Path,
            default=Path(settings.BASE_DIR) / "seeds" / "catalogue.yaml",
            help="Catalogue file to load (default: seeds/catalogue.yaml).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check and report what would change, then roll everything back.",
        )

    def handle(self, *args, **options):
        try:
            records = catalogue.read(options["catalogue"])
            report = services.catalogue_load(
                catalogue=records, dry_run=options["dry_run"]
            )
        except (catalogue.CatalogueError, services.ServiceError) as exc:
            raise CommandError(f"Nothing was loaded. {exc}") from exc
        except DatabaseError as exc:
            raise CommandError(
                f"Nothing was loaded: the database refused the change ({exc})."
            ) from exc
        for line in report.lines():
            self.stdout.write(f"  {line}")
        prefix = "Dry run, rolled back: " if options["dry_run"] else ""
        if report.changes == 0:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{prefix}nothing to change: the database already matches "
                    f"{options['catalogue']}."
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{prefix}{report.changes} change(s) from {len(records.letters)} "
                    f"letters in {options['catalogue']}."
                )
            )
