"""Import a data package (a folder or its zip) into an empty archive.

The package is refused, with the reason, and nothing is written, if it is not this
archive's package or frictionless finds it invalid (a broken foreign key, a wrong
type, a missing file, a wrong hash).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from datapackage import load, state
from letters import cards


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="Package folder or zip file.")
        cards.add_arguments(parser)

    def handle(self, *args, **options):
        try:
            counts = load.import_package(options["path"])
        except load.ImportRefused as exc:
            raise CommandError(f"Nothing was imported: {exc}") from exc
        except DatabaseError as exc:
            raise CommandError(
                f"Nothing was imported: the database refused the change ({exc})"
            ) from exc
        state.mark_stale()
        for name, count in counts.items():
            self.stdout.write(f"  {name}: {count}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {counts['letters']} letters from {options['path']}."
            )
        )
        cards.build_after_load(self, options)
