from datetime import date

import pytest

from letters import dates


@pytest.mark.parametrize(
    ("text", "earliest", "latest", "precision"),
    [
        ("2015-05-18", date(2015, 5, 18), date(2015, 5, 18), "day"),
        ("2015-05", date(2015, 5, 1), date(2015, 5, 31), "month"),
        ("2016-02", date(2016, 2, 1), date(2016, 2, 29), "month"),
        ("2015", date(2015, 1, 1), date(2015, 12, 31), "year"),
        ("2015-05/2015-06-15", date(2015, 5, 1), date(2015, 6, 15), "range"),
        ("2015/2016", date(2015, 1, 1), date(2016, 12, 31), "range"),
    ],
)
def test_parse_gives_bounds_and_precision(text, earliest, latest, precision):
    value = dates.parse(text)
    assert (value.earliest, value.latest, value.precision, value.text) == (
        earliest,
        latest,
        precision,
        text,
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "15-05-2015",
        "2015-13",
        "2015-02-30",
        "2015-5",
        "0000",
        "2016/2015",
        "2015-05-18T10:00",
        "May 2015",
        "2015-06/2015-05",
    ],
)
def test_parse_refuses_what_is_not_a_partial_date(text):
    with pytest.raises(dates.PartialDateError):
        dates.parse(text)


def test_a_month_overlaps_a_day_inside_it():
    may = dates.parse("2015-05")
    assert may.overlaps(date(2015, 5, 20), None)
    assert may.overlaps(None, date(2015, 5, 1))
    assert not may.overlaps(date(2015, 6, 1), None)
    assert not may.overlaps(None, date(2015, 4, 30))


def test_the_published_pattern_accepts_exactly_the_parsed_forms():
    import re

    for good in ["2015", "2015-05", "2015-05-18", "2015-05/2015-06-15"]:
        assert re.match(dates.PATTERN, good)
    for bad in ["15", "2015-5", "2015-05-18/", "x2015"]:
        assert not re.match(dates.PATTERN, bad)


def test_no_date_spans_more_days_than_its_precision_allows():
    """The date-window plan (LetterFilter._window_probe) reads each precision as a
    range starting MAX_SPAN days before the window: a longer date would be missed."""
    spans = {}
    for year in (1900, 2000, 2015, 2016):  # common, leap, common, leap
        for text in [str(year)] + [f"{year}-{m:02d}" for m in range(1, 13)]:
            value = dates.parse(text)
            span = (value.latest - value.earliest).days
            spans[value.precision] = max(spans.get(value.precision, 0), span)
    assert spans == {dates.MONTH: 30, dates.YEAR: 365}
    assert spans.items() <= dates.MAX_SPAN.items()
    day = dates.parse("2016-02-29")
    assert day.latest == day.earliest
    assert dates.MAX_SPAN[dates.DAY] == 0
