"""Letter cards: each letter's list representation, serialized once and stored.

A page of 50 letters at 100k holds about 1,300 nested role records (signatories,
addressees, issuers, mentions); attaching and serializing them was about two thirds of
the page's time. A card is the letter's LetterSerializer output as JSON text, with
site-relative URLs. The letters list reads it with the page (a LEFT JOIN, no extra
query), completes the URLs with the request's origin and embeds it unparsed; the
letters CSV reads it the same way and parses it once for its columns.

Cards are **exact or absent**:

- every write that changes what a card shows rebuilds it in the same transaction: a
  letter's own fields, its roles, the name or key of a person, organisation or place
  it shows (footprint's signal handlers report the letters, :func:`rebuild` writes);
- the bulk loaders (``generate_corpus``, ``import_datapackage``) commit their rows
  first and then build the cards in chunks (:func:`build_missing`);
- a letter without a card is serialized live, exactly as before cards existed.

Each rebuild locks its letters' rows first (``SELECT … FOR UPDATE`` on PostgreSQL;
SQLite has one writer), so a card cannot be built from rows another transaction is
changing and then outlive that change. ``manage.py letter_cards --check`` serializes
every letter afresh and lists the cards that differ. Data still flows one way: cards
are written from the records, and nothing reads a card to decide what to write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import contextmanager

import orjson
from django.db import transaction
from django.db.models.query import ModelIterable, get_related_populators
from django.urls import get_script_prefix, set_script_prefix

from letters import bulk

CHUNK = 500  # letters per rebuild statement and transaction
URL_KEY = '"url":"/'  # a URL in a card; never inside a JSON string, where " is \"


@contextmanager
def _site_relative():
    """Reverse URLs without the current request's script prefix: a card written
    during an admin request must not carry that request's mount point."""
    previous = get_script_prefix()
    set_script_prefix("/")
    try:
        yield
    finally:
        set_script_prefix(previous)


def _fallback(value):
    from letters.renderers import FastJSONRenderer

    return FastJSONRenderer._fallback(value)  # the renderer's encoding, exactly


def serialize(letters) -> list[tuple[int, str]]:
    """(letter id, card body) for these letters, roles attached in one query."""
    from letters.querysets import attach_roles
    from letters.serializers import LetterSerializer

    letters = attach_roles(letters)
    with _site_relative():
        data = LetterSerializer(letters, many=True, context={}).data
    return [
        (letter.pk, orjson.dumps(item, default=_fallback).decode())
        for letter, item in zip(letters, data, strict=True)
    ]


def _letters(ids):
    from letters.models import Letter
    from letters.querysets import LIST_DEFERRED

    return (
        Letter.objects.filter(pk__in=ids)
        .select_related("place")
        .defer(*LIST_DEFERRED)
        .order_by("pk")
    )


def _chunks(ids: Iterable[int]):
    ids = sorted({pk for pk in ids if pk is not None})
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def rebuild(letter_ids: Iterable[int]) -> int:
    """Write the cards of these letters afresh (inside the caller's transaction, or
    one of its own). Letters that no longer exist are skipped. Returns cards written."""
    from letters.models import Letter, LetterCard

    written = 0
    for chunk in _chunks(letter_ids):
        with transaction.atomic():
            # Lock in id order (sorted chunks), so two rebuilds cannot deadlock on
            # each other; SQLite ignores FOR UPDATE (one writer at a time).
            list(
                Letter.objects.select_for_update()
                .filter(pk__in=chunk)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            cards = serialize(_letters(chunk))
            LetterCard.objects.filter(letter_id__in=chunk).delete()
            # COPY on PostgreSQL: bulk_create's array parameters escaped every quote
            # of the JSON in Python (60% of a rebuild's time there).
            bulk.insert_rows(LetterCard, ["letter_id", "body"], cards)
            written += len(cards)
    return written


def build_missing() -> int:
    """Build every absent card, a chunk per transaction (the bulk loaders' step after
    their commit; `manage.py letter_cards`). Returns cards written."""
    from letters.models import Letter

    return rebuild(
        Letter.objects.filter(card__isnull=True).values_list("pk", flat=True)
    )


def drift(limit: int = 20) -> tuple[list[str], int]:
    """(differences, absent cards): every stored card compared with the letter
    serialized afresh. Read-only."""
    from letters.models import Letter, LetterCard

    problems: list[str] = []
    absent = 0
    with transaction.atomic():
        for chunk in _chunks(Letter.objects.values_list("pk", flat=True)):
            stored = dict(
                LetterCard.objects.filter(letter_id__in=chunk).values_list(
                    "letter_id", "body"
                )
            )
            for pk, body in serialize(_letters(chunk)):
                if pk not in stored:
                    absent += 1
                elif orjson.loads(stored[pk]) != orjson.loads(body):
                    problems.append(f"Letter {pk}: the card differs from the letter")
                    if len(problems) >= limit:
                        return problems, absent
    return problems, absent


def origin(request) -> str:
    """What a card's site-relative URLs are completed with: scheme, host and the
    script prefix of this request, without its trailing slash."""
    return request.build_absolute_uri(get_script_prefix())[:-1]


class Card(Mapping):
    """A stored card in a response. The compact JSON renderer embeds its text as it
    is (FastJSONRenderer turns it into an orjson.Fragment); anything else that reads
    it (the indented or browsable rendering, a test reading response.data) sees the
    mapping the text parses to."""

    __slots__ = ("json", "_parsed")

    def __init__(self, body: str, origin: str):
        self.json = body.replace(URL_KEY, f'"url":"{origin}/')
        self._parsed = None

    def _data(self) -> dict:
        if self._parsed is None:
            self._parsed = orjson.loads(self.json)
        return self._parsed

    def __getitem__(self, key):
        return self._data()[key]

    def __iter__(self):
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())

    def __repr__(self) -> str:
        return f"Card({self.json[:60]!r}…)"


def of(letter) -> str | None:
    """The card selected with this letter (select_related("card")), or None: a
    letter read without its card never costs a query here."""
    if letter.__class__ is Carded:
        return letter.body
    card = letter._meta.get_field("card").get_cached_value(letter, default=None)
    return None if card is None else card.body


class Carded:
    """A letter of a list read with its stored card (CardedLetters): its id and the
    card's text, all that a page or a CSV chunk reads of it."""

    __slots__ = ("pk", "body")

    def __init__(self, pk: int, body: str):
        self.pk, self.body = pk, body

    def __repr__(self) -> str:
        return f"Carded({self.pk})"


class CardedLetters(ModelIterable):
    """The rows of a letters list read with their cards (LetterQuerySet.with_cards):
    a letter that has a card comes as a Carded, and only a letter without one as
    the Letter that Django builds, with its place.

    The list shows a carded letter's card and nothing else of it; building the
    Letter, its Place and its LetterCard with every column converted was most of
    reading a page of 50 at 100k letters (2.2 ms of SQL and Python against 0.35 ms
    for the ids and cards alone, docs/benchmarks.md). Same query, same rows, same
    order: only the objects differ."""

    def __iter__(self):
        queryset = self.queryset
        query = queryset.query
        if (
            not isinstance(query.select_related, dict)
            or "card" not in query.select_related
            or query.annotation_select
            or queryset._known_related_objects
        ):
            yield from super().__iter__()  # nothing to skip: Django's own reading
            return
        db = queryset.db
        compiler = query.get_compiler(using=db)
        results = compiler.execute_sql(
            chunked_fetch=self.chunked_fetch, chunk_size=self.chunk_size
        )
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        names = [column[0].target.attname for column in select[start:end]]
        pk_at = start + names.index(queryset.model._meta.pk.attname)
        (card,) = (
            info
            for info in klass_info["related_klass_infos"]
            if info["model"]._meta.label == "letters.LetterCard"
        )
        body_at = next(
            i for i in card["select_fields"] if select[i][0].target.attname == "body"
        )
        populators = get_related_populators(klass_info, select, db)
        converters = compiler.get_converters(
            [column[0] for column in select[: compiler.col_count]]
        )
        model, carded = klass_info["model"], (pk_at, body_at)
        for chunk in results:
            for row in chunk:
                if row[body_at] is not None:
                    yield Carded(*_converted(compiler, row, carded, converters))
                    continue
                if converters:
                    row = next(compiler.apply_converters([row], converters))
                letter = model.from_db(db, names, row[start:end])
                for populator in populators:
                    populator.populate(row, letter)
                yield letter


def _converted(compiler, row, positions, converters) -> list:
    """The values at these positions of a raw row, through the backend's converters
    where it has any (none for an integer id or a text column on SQLite or
    PostgreSQL)."""
    values = []
    for position in positions:
        value = row[position]
        if position in converters:
            functions, expression = converters[position]
            for convert in functions:
                value = convert(value, expression, compiler.connection)
        values.append(value)
    return values


def add_arguments(parser) -> None:
    """The bulk loaders' --no-cards option."""
    parser.add_argument(
        "--no-cards",
        action="store_true",
        help="Commit without building the letter cards (the list serializes letters "
        "live until `manage.py letter_cards` builds them).",
    )


def build_after_load(command, options) -> None:
    """The bulk loaders' last step, after their commit: build the absent cards and
    say how long it took (or why it failed; the loaded rows stay committed)."""
    import time

    from django.core.management.base import CommandError
    from django.db import DatabaseError

    if options["no_cards"]:
        return
    started = time.perf_counter()
    try:
        written = build_missing()
    except DatabaseError as exc:
        raise CommandError(
            f"The records are committed, but building the letter cards failed "
            f"({str(exc).strip()}); run `manage.py letter_cards` to build them."
        ) from exc
    command.stdout.write(
        f"Built {written} letter cards in {time.perf_counter() - started:.1f} s."
    )
