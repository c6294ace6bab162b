"""Partial and uncertain dates: the value type and its parser.

Letters are often known only to a month or a year, or only between two dates. The
archive writes such dates as a small subset of ISO 8601 / EDTF level 0:

    2015-05-18              a day
    2015-05                 a month
    2015                    a year
    2015-05-01/2015-06-15   a closed interval (each end a day, a month or a year)

A PartialDate knows its earliest and latest possible day, which is what the database
stores and what range filters compare (overlap semantics: a letter dated 2015-05
overlaps 2015-05-20).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

_PART = r"(?P<y{n}>\d{{4}})(?:-(?P<m{n}>\d{{2}})(?:-(?P<d{n}>\d{{2}}))?)?"
_SINGLE = re.compile(rf"^{_PART.format(n=1)}$")
_INTERVAL = re.compile(rf"^{_PART.format(n=1)}/{_PART.format(n=2)}$")

#: Regular expression for a partial date, also published in the data package schema.
PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?(/\d{4}(-\d{2}(-\d{2})?)?)?$"

DAY, MONTH, YEAR, RANGE = "day", "month", "year", "range"

#: The most days a date of each precision spans (latest - earliest): what lets a date
#: window be read from an index on (precision, earliest) as a few short ranges. Ranges
#: have no bound. Tests hold parse() to these for every month of leap and common years.
MAX_SPAN = {DAY: 0, MONTH: 30, YEAR: 365}


class PartialDateError(ValueError):
    """The text is not a partial date of the archive's form."""


@dataclass(frozen=True)
class PartialDate:
    """A date known to a day, a month, a year, or only between two bounds."""

    text: str
    earliest: date
    latest: date
    precision: str

    def __str__(self) -> str:
        return self.text

    def overlaps(self, start: date | None, end: date | None) -> bool:
        """True when the date may fall within [start, end] (open ends allowed)."""
        return (start is None or self.latest >= start) and (
            end is None or self.earliest <= end
        )


def _bounds(year: str, month: str | None, day: str | None) -> tuple[date, date, str]:
    y = int(year)
    if y < 1:
        raise PartialDateError("year 0000 does not exist")
    if month is None:
        return date(y, 1, 1), date(y, 12, 31), YEAR
    m = int(month)
    if not 1 <= m <= 12:
        raise PartialDateError(f"month {month} is not between 01 and 12")
    last = calendar.monthrange(y, m)[1]
    if day is None:
        return date(y, m, 1), date(y, m, last), MONTH
    d = int(day)
    if not 1 <= d <= last:
        raise PartialDateError(f"day {day} does not exist in {year}-{month}")
    return date(y, m, d), date(y, m, d), DAY


def parse(text: str) -> PartialDate:
    """Parse '2015', '2015-05', '2015-05-18' or 'A/B'; raise PartialDateError."""
    if not isinstance(text, str):
        raise PartialDateError(f"expected text, got {type(text).__name__}")
    value = text.strip()
    single = _SINGLE.match(value)
    if single:
        earliest, latest, precision = _bounds(single["y1"], single["m1"], single["d1"])
        return PartialDate(value, earliest, latest, precision)
    interval = _INTERVAL.match(value)
    if interval:
        start, _, _ = _bounds(interval["y1"], interval["m1"], interval["d1"])
        _, end, _ = _bounds(interval["y2"], interval["m2"], interval["d2"])
        if end < start:
            raise PartialDateError(f"the interval {value!r} ends before it starts")
        return PartialDate(value, start, end, RANGE)
    raise PartialDateError(
        f"{text!r} is not a partial date: use YYYY, YYYY-MM, YYYY-MM-DD "
        "or two of these joined by '/' for a range"
    )


def parse_bound(text: str, *, end: bool) -> date:
    """Parse a filter bound (a partial date): its earliest day, or latest if end."""
    value = parse(text)
    return value.latest if end else value.earliest
