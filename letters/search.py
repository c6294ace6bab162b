"""Full-text matching of letters on each engine: SQLite's FTS5 (migrations 0004 and
0008) and PostgreSQL's tsvector, stored in a generated column with a GIN index
(migration 0011), with the same semantics.

A letter's search document is two stored, folded columns: ``search_text`` (identifier,
title, summary, transcription; set by ``Letter.save``) and ``names_text`` (the folded
names of every person and organisation the letter involves: signatories and the bodies
they sign for, addressees and copy-to recipients, mentions, issuing bodies). The
query is folded like the stored text (letters.text.fold), split into word tokens, and
every token must be the beginning of a word of the document ("fabi" finds "Fabius",
"stehres" finds "Delvaux-Stehres"): one index lookup, whatever the number of tokens.

``names_text`` is derived, never curated: :func:`refresh_names` rewrites it from the
role rows and the persons' and organisations' own folded names. ``letters.footprint``
calls it, in the writing transaction, whenever a role row, a person's or an
organisation's name changes; bulk writes call it for everything before they commit;
:func:`names_drift` lists stored documents that differ from the records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.db.models.lookups import In, Lookup

TOKEN = re.compile(r"[^\W_]+")
CHUNK = 900  # ids per statement: far below every engine's bound-parameter limit

# Which names a letter's document carries: (role table, named table, its column).
_ROLE_NAMES = (
    ("letters_signatory", "letters_person", "person_id"),
    ("letters_signatory", "letters_organisation", "organisation_id"),
    ("letters_addressee", "letters_person", "person_id"),
    ("letters_addressee", "letters_organisation", "organisation_id"),
    ("letters_mention", "letters_person", "person_id"),
    ("letters_mention", "letters_organisation", "organisation_id"),
    ("letters_issuer", "letters_organisation", "organisation_id"),
)


NAMES_SEPARATOR = " | "


def names_document(texts: Iterable[str]) -> str:
    """A letter's ``names_text`` from its names, each once, in code point order (the
    order of SQLite's and of a C-collated PostgreSQL's ORDER BY; the names pass
    rewrites any letter a database orders otherwise)."""
    return NAMES_SEPARATOR.join(sorted(set(texts)))


def name_sources() -> list[tuple[str, str]]:
    """(role table, its column) pairs whose persons and organisations a letter's
    names carry, from _ROLE_NAMES: bulk loaders computing the names outside the
    database read the same columns."""
    return [(role, column) for role, _named, column in _ROLE_NAMES]


def _names_union(select: str, where: str) -> str:
    """One SELECT per role and named table, UNIONed (each name once)."""
    return "\nUNION ".join(
        f"SELECT {select} FROM {role} r JOIN {named} n ON n.id = r.{column} "
        f"WHERE {where}"
        for role, named, column in _ROLE_NAMES
    )


# The names one letter involves (each at most once), as rows of one column `t`.
_NAMES = _names_union("n.search_text AS t", "r.letter_id = {letter}")
# The names of the letters of an id range, as (letter, t) rows.
_RANGE_NAMES = _names_union(
    "r.letter_id AS letter, n.search_text AS t",
    "r.letter_id >= %s AND r.letter_id < %s",
)
RANGE = 5000  # letters per statement of a whole-archive refresh or check
_AGGREGATE = {
    # Sorted, so the document does not depend on the order rows were written in.
    "sqlite": f"SELECT COALESCE(group_concat(t, '{NAMES_SEPARATOR}'), '') FROM "
    "(SELECT t FROM ({names}) ORDER BY t)",
    "postgresql": f"SELECT COALESCE(string_agg(t, '{NAMES_SEPARATOR}' ORDER BY t), '') "
    "FROM ({names}) n",
}
# The whole document on PostgreSQL: a stored generated tsvector column of the letters
# table with a GIN index (migration 0011), unknown to the Django model.
PG_DOCUMENT = "search_document"


class DocumentMatches(Lookup):
    """``search_text__document_matches=tsquery``: the stored document of the same
    row (PostgreSQL) matches the tsquery. A lookup on the row's own column rather
    than ``id IN (SELECT … matching)``: the planner can then combine the GIN index
    with the other conditions on the letter (counting a word in most letters within
    one year at 100k: 604 ms as a subquery, 150 ms as a condition, EXPLAIN ANALYZE in
    docs/benchmarks.md), and the table's alias is the query's own, also inside
    subqueries."""

    lookup_name = "document_matches"

    def as_sql(self, compiler, connection):
        alias = compiler.quote_name_unless_alias(self.lhs.alias)
        rhs, params = self.process_rhs(compiler, connection)
        return (
            f"{alias}.{PG_DOCUMENT} @@ to_tsquery('simple'::regconfig, {rhs})",
            params,
        )


def tokens(terms: list[str]) -> list[str]:
    """Word tokens of already folded terms ("delvaux-stehres" -> two tokens)."""
    out: list[str] = []
    for term in terms:
        for token in TOKEN.findall(term):
            if token not in out:
                out.append(token)
    return out


# A word matching more letters than this is "common" (see text_match_q).
COMMON_MATCHES = 2000


def _fts_expression(words: list[str]) -> str:
    return " ".join(f'"{word}"*' for word in words)


def _tsquery(words: list[str]) -> str:
    return " & ".join(f"{word}:*" for word in words)


class Probe(NamedTuple):
    common: bool  # more than COMMON_MATCHES letters match
    ids: list[int] | None  # PostgreSQL, rare words: the matching letters (drafts too)


def common_probe(words: list[str]) -> tuple[str, list]:
    """SQL (a scalar subquery) and parameters of the bounded probe that chooses the
    plan (text_match_q), run by the letters filter with its other plan probes; at
    most COMMON_MATCHES + 1 matches are read. SQLite: how many full-text matches;
    PostgreSQL: the matching letters' ids, joined by commas. read_probe reads it."""
    if connection.vendor == "postgresql":
        return (
            "(SELECT string_agg(t.id::text, ',') FROM (SELECT id FROM letters_letter "
            f"WHERE {PG_DOCUMENT} @@ to_tsquery('simple'::regconfig, %s) LIMIT %s) t)",
            [_tsquery(words), COMMON_MATCHES + 1],
        )
    return (
        "(SELECT count(*) FROM (SELECT 1 FROM letters_letter_fts "
        "WHERE letters_letter_fts MATCH %s LIMIT %s))",
        [_fts_expression(words), COMMON_MATCHES + 1],
    )


def read_probe(value) -> Probe:
    if connection.vendor == "postgresql":
        ids = [int(i) for i in value.split(",")] if value else []
        common = len(ids) > COMMON_MATCHES
        return Probe(common, None if common else ids)
    return Probe(value > COMMON_MATCHES, None)


def probe(words: list[str]) -> Probe:
    """The plan probe alone (one bounded query)."""
    sql, params = common_probe(words)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + sql, params)
        return read_probe(cursor.fetchone()[0])


def text_match_q(
    words: list[str], *, common: bool | None = None, ids: list[int] | None = None
) -> Q:
    """Letters whose search document has, for every token, a word starting with it.

    Each engine has two plans, and neither planner can choose between them; a
    bounded probe (common_probe) does. `common` is its verdict (None: probe now,
    one more query) and `ids` the matches it read (PostgreSQL, rare words).

    SQLite takes every FTS5 match to be rare. `id IN (matches)` drives the query
    from the matches, one primary-key lookup each: best for a rare word (0.1 ms at
    100k letters), but 260 ms for a word in every letter. `+id IN (matches)` (the
    unary plus hides the primary key from the planner) turns the matches into one
    in-memory set, tested against the letters read through the other filters or the
    date index: at most ~60 ms at 100k, whatever the word.

    PostgreSQL estimates a prefix it has no statistics for at 0.5% of the letters,
    so for a page of 50 in date order it walks the dates and tests each letter:
    right for a common word (5 ms), 0.8 s for a name in two letters. A rare word's
    matches (at most COMMON_MATCHES) are therefore given as literal ids, which the
    planner counts exactly; a common word is a condition on the stored document,
    which the planner combines with the date index (a word in most letters within
    one year: 0.15 s to count at 100k letters).
    """
    vendor = connection.vendor
    if not words:
        return Q()
    if common is None:
        common, ids = probe(words)
    if vendor == "sqlite":
        from letters.querysets import UNINDEXED_PK

        matches = RawSQL(
            "SELECT rowid FROM letters_letter_fts WHERE letters_letter_fts MATCH %s",
            [_fts_expression(words)],
        )
        return Q(In(UNINDEXED_PK, matches)) if common else Q(pk__in=matches)
    if vendor == "postgresql":
        if not common and ids is not None:
            return Q(pk__in=ids)
        return Q(search_text__document_matches=_tsquery(words))
    raise NotImplementedError(f"full-text search on {vendor}")  # pragma: no cover


def _names_sql(vendor: str, letter: str) -> str:
    return _AGGREGATE[vendor].format(names=_NAMES.format(letter=letter))


def _stale(conn) -> Iterable[tuple[int, str, str]]:
    """(id, identifier, expected names) of every letter whose stored names differ,
    computed range by range of ids, set-based: a correlated subquery per letter took
    PostgreSQL more than 9 minutes at 100k letters."""
    with conn.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM letters_letter")
        low, high = cursor.fetchone()
        if low is None:
            return
        for start in range(low, high + 1, RANGE):
            bounds = [start, start + RANGE]
            # Sorted here, in the database's collation, as _AGGREGATE sorts.
            cursor.execute(
                f"SELECT letter, t FROM ({_RANGE_NAMES}) u ORDER BY letter, t",
                bounds * len(_ROLE_NAMES),
            )
            names: dict[int, list[str]] = {}
            for letter, text in cursor.fetchall():
                if text is not None:
                    names.setdefault(letter, []).append(text)
            cursor.execute(
                "SELECT id, identifier, names_text FROM letters_letter "
                "WHERE id >= %s AND id < %s",
                bounds,
            )
            for pk, identifier, stored in cursor.fetchall():
                expected = NAMES_SEPARATOR.join(names.get(pk, ()))
                if stored != expected:
                    yield pk, identifier, expected


def refresh_names(letter_ids: Iterable[int] | None = None, *, using=None) -> None:
    """Rewrite ``names_text`` of these letters (of every letter with None), only where
    it changed, so the full-text index is touched no more than needed."""
    from django.db import connections

    conn = connections[using] if using else connection
    if letter_ids is None:
        batch: list[tuple[str, int]] = []
        with conn.cursor() as cursor:
            for pk, _identifier, expected in _stale(conn):
                batch.append((expected, pk))
                if len(batch) >= CHUNK:
                    _write_names(cursor, batch)
                    batch = []
            _write_names(cursor, batch)
        return
    expected = _names_sql(conn.vendor, "letters_letter.id")
    update = (
        f"UPDATE letters_letter SET names_text = ({expected}) "
        f"WHERE names_text <> ({expected})"
    )
    with conn.cursor() as cursor:
        ids = sorted({i for i in letter_ids if i is not None})
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"{update} AND id IN ({marks})", chunk)


def _write_names(cursor, batch: list[tuple[str, int]]) -> None:
    if batch:
        cursor.executemany(
            "UPDATE letters_letter SET names_text = %s WHERE id = %s", batch
        )


def letters_naming(*, persons: Iterable[int] = (), organisations: Iterable[int] = ()):
    """Ids of the letters whose document carries one of these names."""
    from letters.models import Addressee, Issuer, Mention, Signatory

    persons, organisations = list(persons), list(organisations)
    found: set[int] = set()
    for start in range(0, max(len(persons), len(organisations)), CHUNK):
        people = persons[start : start + CHUNK]
        bodies = organisations[start : start + CHUNK]
        involved = Q(person__in=people) | Q(organisation__in=bodies)
        for model in (Signatory, Addressee, Mention):
            found.update(
                model.objects.filter(involved).values_list("letter_id", flat=True)
            )
        found.update(
            Issuer.objects.filter(organisation__in=bodies).values_list(
                "letter_id", flat=True
            )
        )
    return found


def names_drift(limit: int = 20) -> list[str]:
    """Letters whose stored names differ from the records (empty when exact)."""
    stale = sorted(identifier for _pk, identifier, _names in _stale(connection))
    return [
        f"Letter {identifier}: names_text differs from its roles' names"
        for identifier in stale[:limit]
    ]
