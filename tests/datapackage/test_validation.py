"""Validation spread over processes finds exactly what one process finds: the same
errors, in the same order, naming the same resource, row and field."""

import json
import multiprocessing
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


def test_large_packages_use_the_pool_by_default(folder, monkeypatch):
    seen = []
    real = validation.ProcessPoolExecutor

    def spy(*args, **kwargs):
        seen.append(kwargs.get("max_workers"))
        return real(*args, **kwargs)

    monkeypatch.setattr(validation, "ProcessPoolExecutor", spy)
    assert validation.validate(folder) == []
    assert seen == []  # the seed package is small: one process
    monkeypatch.setattr(validation, "PARALLEL_BYTES", 0)
    assert validation.validate(folder) == []
    assert len(seen) == 1
    assert seen[0] >= 1


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
