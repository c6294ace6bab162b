"""Validation spread over processes finds exactly what one process finds: the same
errors, in the same order, naming the same resource, row and field."""

import contextlib
import csv
import json
import multiprocessing
import os
import shutil
import signal
import time

import pytest

from datapackage import build, validation


@pytest.fixture
def folder(seeded, tmp_path):
    published = build.build(target=tmp_path / "pkg")
    copy = tmp_path / "copy"
    shutil.copytree(published.path.resolve(), copy)
    return copy


def _replace(folder, resource, old, new):
    path = folder / f"data/{resource}.csv"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_valid_package_is_valid_in_parallel(folder):
    assert validation.validate(folder, workers=2) == []


def test_parallel_and_sequential_report_the_same_errors(folder):
    _replace(folder, "signatories", ",jonas-fernandez,", ",nobody,")  # foreign key
    _replace(folder, "letters", ",letter,", ",memo,")  # enum
    _replace(folder, "mentions", "adv-000", "ADV-000")  # pattern and foreign key
    sequential = validation.validate(folder, workers=1)
    assert {"signatories", "letters", "mentions"} <= {e["resource"] for e in sequential}
    assert validation.validate(folder, workers=2) == sequential


@pytest.mark.parametrize("workers", [1, 2])
def test_an_invalid_descriptor_is_reported_not_raised(folder, workers):
    descriptor = json.loads((folder / "datapackage.json").read_text())
    descriptor["resources"][0]["title"] = 7  # a title is a string
    (folder / "datapackage.json").write_text(json.dumps(descriptor))
    errors = validation.validate(folder, workers=workers)
    assert errors
    assert {e["resource"] for e in errors} == {"datapackage.json"}
    assert any("title" in e["message"] for e in errors)


def test_parallel_reports_content_errors_by_resource_in_descriptor_order(folder):
    _replace(folder, "signatories", ",jonas-fernandez,", ",nobody,")
    _replace(folder, "letters", ",letter,", ",memo,")
    errors = validation.validate(folder, workers=2)
    resources = [e["resource"] for e in errors]
    # letters precede signatories in the descriptor; each names row and field
    assert resources.index("letters") < resources.index("signatories")
    bad_kind = next(e for e in errors if e["resource"] == "letters")
    assert bad_kind["field"] == "kind"
    assert bad_kind["row"] >= 2
    fk = [e for e in errors if e["resource"] == "signatories"]
    assert any("nobody" in e["message"] for e in fk)
    # the edits changed the files, so their hashes no longer match either
    assert any("hash" in e["message"] for e in errors)


@pytest.fixture
def pools(monkeypatch):
    """The max_workers of every process pool validation opens, in order."""
    seen = []
    real = validation.ProcessPoolExecutor

    def spy(*args, **kwargs):
        seen.append(kwargs.get("max_workers"))
        return real(*args, **kwargs)

    monkeypatch.setattr(validation, "ProcessPoolExecutor", spy)
    return seen


def test_large_packages_use_the_pool_by_default(folder, monkeypatch, pools):
    seen = pools
    assert validation.validate(folder) == []
    assert seen == []  # the seed package is small: one process
    monkeypatch.setattr(validation, "PARALLEL_BYTES", 0)
    assert validation.validate(folder) == []
    resources = json.loads((folder / "datapackage.json").read_text())["resources"]
    # one lane (a one-process pool) per core, as many as there are resources
    assert seen == [1] * min(os.cpu_count(), len(resources))


def test_a_busy_caller_gets_one_lane_until_it_asks(folder, pools):
    """The import loads rows while frictionless works: one lane beside it, and the
    other lanes only once it asks for the verdict, for the resources still waiting."""
    _replace(folder, "signatories", ",jonas-fernandez,", ",nobody,")
    _replace(folder, "letters", ",letter,", ",memo,")
    sequential = validation.validate(folder, workers=1)
    seen = pools
    with validation.Validation(folder, workers=3, busy_caller=True) as running:
        assert seen == [1, 1]
        time.sleep(0.3)  # still starting its interpreter: the rest is waiting
        errors = running.errors()
    assert seen == [1, 1, 1]
    assert errors == sequential


def test_leaving_before_the_verdict_stops_the_workers(folder):
    """An import refused early (a non-empty archive) must not wait for frictionless
    to finish, nor leave its workers running."""
    with validation.Validation(folder, workers=2) as running:
        assert not running.finished
        workers = [p for p in multiprocessing.active_children() if p.is_alive()]
        assert workers
    deadline = time.monotonic() + 10
    while any(p.is_alive() for p in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    # stopped, not left to finish: a worker spends its first half-second importing
    # frictionless, and one that finished would have exited with 0
    assert [p.exitcode for p in workers] == [-signal.SIGTERM] * len(workers)


def test_the_verdict_waits_for_the_workers(folder):
    _replace(folder, "letters", ",letter,", ",memo,")
    with validation.Validation(folder, workers=2) as running:
        errors = running.errors()
        assert running.finished
    assert any(e["resource"] == "letters" and e["field"] == "kind" for e in errors)
    assert running.errors() is errors


# --- the timestamps plugin: frictionless's verdict on every cell, only sooner -------


def _stock_and_fast_readers():
    from frictionless import fields, system

    validation.use_timestamps_plugin()
    fast_class = system.select_field_class("datetime")
    # frictionless asks the system for its field classes: the plugin answers
    assert fast_class is not fields.DatetimeField
    # Built directly: from_descriptor() would ask the system, so the plugin, again.
    stock = fields.DatetimeField(name="updated", format=validation.TIMESTAMP_FORMAT)
    fast = fast_class(name="updated", format=validation.TIMESTAMP_FORMAT)
    assert type(stock) is fields.DatetimeField
    assert type(fast) is fast_class
    return stock.create_value_reader(), fast.create_value_reader()


@pytest.mark.parametrize(
    "cell",
    [
        "2026-11-23T18:27:59Z",
        "1999-01-01T00:00:00Z",
        "2024-02-29T23:59:59Z",  # a leap day
        "2025-02-29T12:00:00Z",  # not a leap year
        "2026-04-31T12:00:00Z",
        "2026-13-01T12:00:00Z",
        "2026-00-10T12:00:00Z",
        "2026-11-00T12:00:00Z",
        "2026-11-23T24:00:00Z",
        "2026-11-23T18:60:00Z",
        "2026-11-23T18:27:60Z",
        "2026-11-23T18:27:61Z",
        "0000-01-01T00:00:00Z",
        "2026-1-5T1:2:3Z",  # strptime accepts single digits
        "2026-11-23T18:27:59",
        "2026-11-23T18:27:59+00:00",
        "2026-11-23 18:27:59Z",
        " 2026-11-23T18:27:59Z",
        "2026-11-23T18:27:59Z ",
        "2026-11-23T18:27:59z",
        "٢٠٢٦-١١-٢٣T١٨:٢٧:٥٩Z",  # Arabic-Indic digits: strptime's \d takes them
        "２０２６-11-23T18:27:59Z",  # fullwidth digits
        "2026-11-23",
        "",
        "soon",
    ],
)
def test_the_timestamp_reader_agrees_with_frictionless(cell):
    stock, fast = _stock_and_fast_readers()
    assert fast(cell) == stock(cell)


def test_the_timestamp_reader_agrees_on_any_text():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    stock, fast = _stock_and_fast_readers()
    digit = st.sampled_from("0123456789٣６ ")
    odd = st.lists(digit, min_size=0, max_size=5).map("".join)

    def part(width):  # mostly in the package's form, sometimes not
        plain = st.from_regex(f"[0-9]{{{width}}}", fullmatch=True)
        return st.one_of(plain, plain, plain, odd)

    shaped = st.builds(
        lambda *p: f"{p[0]}-{p[1]}-{p[2]}T{p[3]}:{p[4]}:{p[5]}Z",
        part(4),
        *[part(2)] * 5,
    )
    around = st.tuples(st.text(max_size=2), shaped, st.text(max_size=2)).map("".join)

    @settings(max_examples=3000, deadline=None, derandomize=True)
    @given(st.one_of(shaped, around, st.text(max_size=25)))
    def agree(cell):
        assert fast(cell) == stock(cell)

    agree()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_bad_timestamp_is_a_type_error_on_its_row(folder, workers):
    path = folder / "data/signatories.csv"
    lines = path.read_text().splitlines(keepends=True)
    cells = lines[3].rstrip("\n").split(",")
    cells[-1] = "2026-02-30T10:00:00Z"  # the form, but no such day
    lines[3] = ",".join(cells) + "\n"
    path.write_text("".join(lines))
    errors = validation.validate(folder, workers=workers)
    timestamp_errors = [e for e in errors if e["field"] == "updated"]
    assert [(e["resource"], e["row"]) for e in timestamp_errors] == [("signatories", 4)]
    assert 'type is "datetime/%Y-%m-%dT%H:%M:%SZ"' in timestamp_errors[0]["message"]


# --- shared lookups: each foreign-key lookup built once per lane, the same verdict --


def _without_letter(folder):
    """Remove the letter that the most other resources reference from letters.csv;
    returns its identifier and the resources that still reference it."""
    with (folder / "data/letters.csv").open(newline="") as fh:
        letters = list(csv.DictReader(fh))
    referencing = {}
    columns = {
        "signatories": "letter",
        "addressees": "letter",
        "mentions": "letter",
        "issuing_organisations": "letter",
        "memberships": "attested_by",
    }
    for resource, column in columns.items():
        with (folder / f"data/{resource}.csv").open(newline="") as fh:
            for row in csv.DictReader(fh):
                referencing.setdefault(row[column], set()).add(resource)
    gone = max(letters, key=lambda r: len(referencing.get(r["identifier"], ())))
    with (folder / "data/letters.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(letters[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(r for r in letters if r is not gone)
    return gone["identifier"], referencing[gone["identifier"]]


def _plain_verdict(folder, monkeypatch):
    """frictionless's own verdict: every lookup built anew, as frictionless does."""

    def unshared(lookups):
        return contextlib.nullcontext()

    with monkeypatch.context() as m:
        m.setattr(validation, "shared_lookups", unshared)
        return validation.validate(folder, workers=1)


def test_shared_lookups_give_frictionless_own_verdict(folder, monkeypatch):
    identifier, referencing = _without_letter(folder)
    assert len(referencing) >= 3
    _replace(folder, "signatories", ",jonas-fernandez,", ",nobody,")  # persons
    organisations = (folder / "data/organisations.csv").read_text().splitlines()
    header = organisations[0].split(",")
    assert "parent" in header  # a reference to the resource itself
    cells = organisations[1].split(",")
    cells[header.index("parent")] = "no-such-parent"
    organisations[1] = ",".join(cells)
    (folder / "data/organisations.csv").write_text("\n".join(organisations) + "\n")
    plain = _plain_verdict(folder, monkeypatch)
    missing = {e["resource"] for e in plain if f'"{identifier}"' in e["message"]}
    assert missing == referencing  # every resource that names the letter says so
    assert any("no-such-parent" in e["message"] for e in plain)
    assert any("nobody" in e["message"] for e in plain)
    assert validation.validate(folder, workers=1) == plain
    assert validation.validate(folder, workers=2) == plain


@pytest.fixture
def letters_reads(monkeypatch):
    """How many times frictionless opens letters.csv."""
    from frictionless.schemes.local.loader import LocalLoader

    reads = []
    real = LocalLoader.read_byte_stream_create

    def spy(self):
        if str(self.resource.normpath).endswith("letters.csv"):
            reads.append(self.resource.normpath)
        return real(self)

    monkeypatch.setattr(LocalLoader, "read_byte_stream_create", spy)
    return reads


def test_a_lane_reads_the_letters_once_for_all_its_lookups(
    folder, monkeypatch, letters_reads
):
    names = ["addressees", "mentions", "issuing_organisations"]
    for name in names:  # as frictionless alone: once per resource
        assert validation._resource_errors(str(folder), name) == []
    assert len(letters_reads) == len(names)
    letters_reads.clear()
    monkeypatch.setattr(validation, "_lane_lookups", None)
    validation._lane_started()  # as in a lane's process
    for name in names:
        assert validation._resource_errors(str(folder), name) == []
    assert len(letters_reads) == 1


def test_a_lane_does_not_reuse_a_lookup_whose_file_changed(folder, monkeypatch):
    monkeypatch.setattr(validation, "_lane_lookups", None)
    validation._lane_started()
    assert validation._resource_errors(str(folder), "mentions") == []
    identifier, referencing = _without_letter(folder)
    for name in referencing:
        errors = validation._resource_errors(str(folder), name)
        assert any(f'"{identifier}"' in e["message"] for e in errors), name
