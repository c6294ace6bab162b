"""Interrupted commands lose nothing: each command runs as a separate process on its
own SQLite file, and is killed (SIGKILL) at several points of its run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
pytestmark = pytest.mark.sqlite  # engine-independent: one run is enough


def env_for(tmp_path: Path) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DATAPACKAGE_DIR": str(tmp_path / "published" / "datapackage"),
        "DJANGO_SECRET_KEY": "test-only-not-a-secret",
        "DJANGO_DEBUG": "0",
    }


def manage(env, *args, check=True):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=check,
    )


def killed_after(env, seconds: float, *args) -> int:
    process = subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(seconds)
    process.send_signal(signal.SIGKILL)
    return process.wait()


def count(env, sql: str) -> int:
    import sqlite3

    path = env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchone()[0]


@pytest.fixture
def migrated(tmp_path):
    env = env_for(tmp_path)
    manage(env, "migrate", "-v0")
    return env


@pytest.mark.parametrize("delay", [0.6, 0.9, 1.2, 1.6])
def test_a_killed_load_seeds_leaves_nothing_half_written(migrated, delay):
    killed_after(migrated, delay, "load_seeds")
    letters = count(migrated, "select count(*) from letters_letter")
    signatories = count(migrated, "select count(*) from letters_signatory")
    assert (letters, signatories) in {(0, 0), (5, 21)}
    output = manage(migrated, "load_seeds").stdout
    assert count(migrated, "select count(*) from letters_signatory") == 21
    assert "change(s)" in output or "nothing to change" in output


@pytest.mark.parametrize("delay", [1.0, 2.0])
def test_a_killed_generate_corpus_leaves_the_database_as_it_was(migrated, delay):
    manage(migrated, "load_seeds")
    killed_after(migrated, delay, "generate_corpus", "--letters", "20000")
    assert count(migrated, "select count(*) from letters_letter") in {5, 20005}
    assert count(migrated, "select count(*) from letters_letter where synthetic") in {
        0,
        20000,
    }


def _published_files(env) -> dict:
    folder = Path(env["DATAPACKAGE_DIR"]).resolve()
    return {p.name: p.read_bytes() for p in sorted((folder / "data").iterdir())}


@pytest.mark.parametrize("delay", [1.2, 3.0])
def test_a_killed_export_leaves_the_published_package_intact_and_valid(migrated, delay):
    manage(migrated, "load_seeds")
    manage(migrated, "export_datapackage")
    before = _published_files(migrated)
    manage(migrated, "generate_corpus", "--letters", "3000")
    killed_after(migrated, delay, "export_datapackage")
    after = Path(migrated["DATAPACKAGE_DIR"])
    assert after.is_symlink()
    frictionless = Path(sys.executable).parent / "frictionless"
    result = subprocess.run(
        [str(frictionless), "validate", "datapackage.json"],
        cwd=after,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    current = _published_files(migrated)
    assert current == before or len(current["letters.csv"]) > len(
        before["letters.csv"]
    )  # the kill came after publishing: the new package


def test_an_unwritable_output_folder_is_a_clear_error(migrated, tmp_path):
    manage(migrated, "load_seeds")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user that ignores file permissions")
        result = manage(
            migrated, "export_datapackage", "--out", str(locked / "pkg"), check=False
        )
    finally:
        locked.chmod(0o700)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "could not write the package" in result.stderr


def test_a_missing_output_parent_on_a_read_only_path_is_a_clear_error(migrated):
    manage(migrated, "load_seeds")
    result = manage(
        migrated, "export_datapackage", "--out", "/proc/archive/pkg", check=False
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "could not write the package" in result.stderr


@pytest.mark.parametrize("delay", [1.5, 3.0])
def test_a_killed_import_leaves_the_database_empty_or_complete(tmp_path, delay):
    source = env_for(tmp_path / "source")
    (tmp_path / "source").mkdir()
    manage(source, "migrate", "-v0")
    manage(source, "load_seeds")
    manage(source, "generate_corpus", "--letters", "2000")
    manage(source, "export_datapackage", "--out", str(tmp_path / "pkg"))
    target = env_for(tmp_path / "target")
    (tmp_path / "target").mkdir()
    manage(target, "migrate", "-v0")
    killed_after(target, delay, "import_datapackage", str(tmp_path / "pkg"))
    letters = count(target, "select count(*) from letters_letter")
    assert letters in {
        0,
        2005
        - count(
            source, "select count(*) from letters_letter where status != 'published'"
        ),
    }
    if letters == 0:
        manage(target, "import_datapackage", str(tmp_path / "pkg"))
        assert count(target, "select count(*) from letters_letter") > 0


def test_a_locked_sqlite_database_is_a_clear_error_and_writes_nothing(migrated):
    import sqlite3

    path = migrated["DATABASE_URL"].removeprefix("sqlite:///")
    holder = sqlite3.connect(path)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        result = manage(
            {**migrated, "DATABASE_SQLITE_TIMEOUT": "0.5"}, "load_seeds", check=False
        )
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "database is locked" in result.stderr
    assert count(migrated, "select count(*) from letters_letter") == 0


def journal_mode(env) -> str:
    import sqlite3

    path = env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]


JOURNAL_PROBE = """
from django.db import connection
from letters import bulk
def mode():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        return cursor.fetchone()[0]
before = mode()
with bulk.rollback_journal():
    during = mode()
print(before, during, mode())
"""


def test_a_bulk_load_runs_on_a_rollback_journal_then_back_to_wal(migrated):
    result = manage(migrated, "shell", "-v", "0", "-c", JOURNAL_PROBE)
    assert result.stdout.split() == ["wal", "delete", "wal"]
    assert journal_mode(migrated) == "wal"


def test_a_bulk_load_keeps_the_wal_while_another_connection_has_the_file(migrated):
    import sqlite3

    path = migrated["DATABASE_URL"].removeprefix("sqlite:///")
    other = sqlite3.connect(path)
    other.execute("SELECT count(*) FROM letters_letter").fetchone()  # open, idle
    try:
        result = manage(
            {**migrated, "DATABASE_SQLITE_TIMEOUT": "0.5"},
            "shell",
            "-v",
            "0",
            "-c",
            JOURNAL_PROBE,
        )
    finally:
        other.close()
    assert result.stdout.split() == ["wal", "wal", "wal"]


def test_an_import_commits_through_the_rollback_journal_and_leaves_wal(tmp_path):
    source = env_for(tmp_path / "source")
    (tmp_path / "source").mkdir()
    manage(source, "migrate", "-v0")
    manage(source, "load_seeds")
    manage(source, "export_datapackage", "--out", str(tmp_path / "pkg"))
    target = env_for(tmp_path / "target")
    (tmp_path / "target").mkdir()
    manage(target, "migrate", "-v0")
    manage(target, "import_datapackage", str(tmp_path / "pkg"))
    assert count(target, "select count(*) from letters_letter") == 5
    assert journal_mode(target) == "wal"
    assert not Path(
        target["DATABASE_URL"].removeprefix("sqlite:///") + "-journal"
    ).exists()
