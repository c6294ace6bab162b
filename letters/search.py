"""Full-text matching of letters' own text on each engine: SQLite's FTS5 and
PostgreSQL's tsvector with a GIN index (migration 0004), with the same semantics: the
query is folded like the stored text (letters.text.fold), split into word tokens, and
each token must be the beginning of a word of the text ("fabi" finds "Fabius")."""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

TOKEN = re.compile(r"[^\W_]+")


def tokens(terms: list[str]) -> list[str]:
    """Word tokens of already folded terms ("delvaux-stehres" -> two tokens)."""
    out: list[str] = []
    for term in terms:
        for token in TOKEN.findall(term):
            if token not in out:
                out.append(token)
    return out


def text_match_q(token: str) -> Q:
    """Letters whose own text has a word starting with `token`."""
    vendor = connection.vendor
    if vendor == "sqlite":
        return Q(
            pk__in=RawSQL(
                "SELECT rowid FROM letters_letter_fts WHERE letters_letter_fts "
                "MATCH %s",
                [f'"{token}"*'],
            )
        )
    if vendor == "postgresql":
        return Q(
            pk__in=RawSQL(
                "SELECT id FROM letters_letter WHERE to_tsvector('simple'::regconfig, "
                "search_text) @@ to_tsquery('simple'::regconfig, %s)",
                [f"{token}:*"],
            )
        )
    return Q(search_text__regex=rf"(^|[^\w]){re.escape(token)}")  # pragma: no cover
