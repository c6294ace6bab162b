"""Text folding for accent- and case-insensitive matching ("jonas fernandez" finds
"Jonás Fernández", "boguslaw" finds "Bogusław"). Used for the stored search columns and
for every search term, so both sides fold the same way on every database engine."""

import unicodedata

# Letters that NFKD does not decompose into a base letter plus a combining mark.
_EXTRA = str.maketrans(
    {
        "ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ð": "d",
        "þ": "th", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ß": "ss",
        "ı": "i", "’": "'", "‘": "'", "ʼ": "'",
    }
)  # fmt: skip


def fold(text: str) -> str:
    """Lower-case, strip accents and collapse white space."""
    if text.isascii():  # fast path: nothing to strip
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text.translate(_EXTRA))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())
