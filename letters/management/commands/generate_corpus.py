"""Generate a synthetic corpus for benchmarks (deterministic for a seed).

Records are marked synthetic, their keys start with `syn-`, and the whole corpus is
written in one transaction: an interrupted run leaves the database as it was.
"""

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from datapackage import state
from letters import cards, synthetic


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument(
            "--letters",
            type=int,
            required=True,
            help="Number of letters to generate (1 to 10,000,000).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=1,
            help="Random seed: the same seed gives the same corpus.",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete an existing synthetic corpus first.",
        )
        cards.add_arguments(parser)

    def handle(self, *args, **options):
        if not 1 <= options["letters"] <= 10_000_000:
            raise CommandError("--letters must be between 1 and 10,000,000")
        bar = None
        progress = None
        if sys.stderr.isatty() and options["verbosity"] > 0:
            from tqdm import tqdm

            bar = tqdm(total=options["letters"], unit=" letters", file=sys.stderr)
            progress = bar.update
        started = time.perf_counter()
        try:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET statement_timeout = 0")
            report = synthetic.generate(
                letters=options["letters"],
                seed=options["seed"],
                replace=options["replace"],
                progress=progress,
            )
        except synthetic.SyntheticCorpusExists as exc:
            raise CommandError(str(exc)) from exc
        except DatabaseError as exc:
            raise CommandError(
                f"Nothing was generated: the database failed or refused the change "
                f"({str(exc).strip()})"
            ) from exc
        finally:
            if bar is not None:
                bar.close()
        state.mark_stale()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated {report.letters} letters, {report.signatories} signatures, "
                f"{report.addressees} addressees, {report.mentions} mentions, "
                f"{report.issuers} issuers, {report.persons} persons, "
                f"{report.organisations} organisations, {report.memberships} "
                f"memberships in {elapsed:.1f} s (seed {options['seed']})."
            )
        )
        cards.build_after_load(self, options)
