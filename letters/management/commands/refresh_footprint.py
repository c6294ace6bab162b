"""Recompute, or check, the stored public footprint of persons and organisations."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction

from letters import footprint, search


class Command(BaseCommand):
    help = (
        "Recompute which persons and organisations are public, their letter "
        "counts and the names in each letter's search document (kept "
        "automatically; run after writing to the database by hand). "
        "With --check, only report differences and exit 1 if there are any."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Report differences without changing anything.",
        )

    def handle(self, *args, **options):
        try:
            if options["check"]:
                problems = footprint.drift() + search.names_drift()
                for problem in problems:
                    self.stderr.write(problem)
                if problems:
                    raise CommandError(
                        f"The stored footprint differs from the records "
                        f"({len(problems)} difference(s) shown); run "
                        "refresh_footprint without --check to fix it."
                    )
                self.stdout.write("The stored footprint matches the records.")
                return
            with transaction.atomic():
                footprint.refresh(everything=True)
        except DatabaseError as exc:
            raise CommandError(f"The database refused the refresh ({exc}).") from exc
        self.stdout.write(
            "Recomputed the public footprint and the search names of every record."
        )
