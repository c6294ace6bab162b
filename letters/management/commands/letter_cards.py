"""Build the letters' stored cards (the list's serialized letters), or check them."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from letters import cards
from letters.models import Letter


class Command(BaseCommand):
    help = (
        "Build the absent letter cards (kept exact automatically; the bulk loaders "
        "build them after their commit). --rebuild rewrites every card (after writing "
        "to the database by hand); --check compares every card with the letter "
        "serialized afresh and exits 1 if any differs."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--check", action="store_true", help="Report differences only."
        )
        action.add_argument(
            "--rebuild", action="store_true", help="Rewrite every card."
        )

    def handle(self, *args, **options):
        try:
            if options["check"]:
                problems, absent = cards.drift()
                for problem in problems:
                    self.stderr.write(problem)
                if problems:
                    raise CommandError(
                        f"{len(problems)} letter card(s) differ from their letters "
                        "(first ones shown); run letter_cards --rebuild to fix them."
                    )
                self.stdout.write(
                    f"Every stored letter card matches its letter ({absent} letter(s) "
                    "without a card are serialized live)."
                )
                return
            if options["rebuild"]:
                written = cards.rebuild(Letter.objects.values_list("pk", flat=True))
            else:
                written = cards.build_missing()
        except DatabaseError as exc:
            raise CommandError(
                f"The database refused the cards ({str(exc).strip()})."
            ) from exc
        self.stdout.write(f"Wrote {written} letter card(s).")
