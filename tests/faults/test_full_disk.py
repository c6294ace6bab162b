"""A full disk is a clear error that writes nothing: each command runs in a private
mount namespace (util-linux `unshare -m`) where the folder it writes to is a tmpfs too
small for what it writes. The kernel's real ENOSPC, not a mock."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.test_interruptions import ROOT, env_for, manage

pytestmark = pytest.mark.sqlite  # engine-independent: one run is enough


def _can_mount_tmpfs(tmp_path: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = tmp_path / "probe"
    probe.mkdir()
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {probe}"],
        capture_output=True,
    )
    return result.returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """Run a command with `folder` on a tmpfs of `size` bytes, after `prepare` (a
    shell line run on that tmpfs first). Returns the CompletedProcess."""
    if not _can_mount_tmpfs(tmp_path):
        pytest.skip("cannot mount a tmpfs in a private namespace here")

    def run(folder, size, env, *args, prepare="true", after="true"):
        folder.mkdir(parents=True, exist_ok=True)
        command = " ".join(
            [sys.executable, "manage.py", *[f"'{a}'" for a in args]]
        )  # arguments are test constants, quoted for sh
        script = (
            f"mount -t tmpfs -o size={size} tmpfs '{folder}' && ({prepare}) && "
            f"{command}; status=$?; ({after}); "
            # report what is left on the small disk, from inside the namespace
            f"find '{folder}' -mindepth 1 -printf '%P\\n' | sort > '{folder}.listing'; "
            f"cat '{folder}'/datapackage/data/letters.csv 2>/dev/null | sha256sum "
            f"> '{folder}.letters'; exit $status"
        )
        return subprocess.run(
            ["unshare", "-m", "sh", "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )

    return run


def test_an_export_onto_a_full_disk_fails_clearly_and_keeps_the_package(
    tmp_path, small_disk
):
    env = env_for(tmp_path)
    disk = tmp_path / "disk"
    env["DATAPACKAGE_DIR"] = str(disk / "datapackage")
    manage(env, "migrate", "-v0")
    manage(env, "load_seeds")
    # a published package, built on a roomy disk, then copied onto the small one
    roomy = tmp_path / "roomy"
    manage({**env, "DATAPACKAGE_DIR": str(roomy / "datapackage")}, "export_datapackage")
    size = sum(p.stat().st_size for p in roomy.rglob("*") if p.is_file())
    before = (roomy / "datapackage" / "data" / "letters.csv").read_bytes()
    manage(env, "generate_corpus", "--letters", "300")  # the next build is larger

    result = small_disk(
        disk,
        size + 96 * 1024,  # room for the old package, not for a new one beside it
        env,
        "export_datapackage",
        prepare=f"cp -a '{roomy}'/. '{disk}'/",
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "could not write the package (No space left on device)" in result.stderr
    listing = (tmp_path / "disk.listing").read_text().split()
    # the previous package is still published, and no half-written build is left
    builds = {n.split("/")[1] for n in listing if n.startswith(".datapackage.builds/")}
    assert {b for b in builds if b.startswith("build-")} == {
        os.readlink(roomy / "datapackage").split("/")[-1]
    }
    assert (tmp_path / "disk.letters").read_text().split()[0] == hashlib.sha256(
        before
    ).hexdigest()


def test_a_database_on_a_full_disk_fails_clearly_and_keeps_its_records(
    tmp_path, small_disk
):
    disk = tmp_path / "dbdisk"
    env = {**env_for(tmp_path), "DATABASE_URL": f"sqlite:///{disk / 'db.sqlite3'}"}
    seeded = tmp_path / "seeded.sqlite3"
    manage({**env, "DATABASE_URL": f"sqlite:///{seeded}"}, "migrate", "-v0")
    manage({**env, "DATABASE_URL": f"sqlite:///{seeded}"}, "load_seeds")
    size = seeded.stat().st_size

    result = small_disk(
        disk,
        size + 512 * 1024,  # the seeds fit; 5,000 more letters do not
        env,
        "generate_corpus",
        "--letters",
        "5000",
        prepare=f"cp '{seeded}' '{disk}/db.sqlite3'",
        after=f'{sys.executable} -c "import sqlite3; print(sqlite3.connect('
        f"'{disk}/db.sqlite3').execute('select count(*) from letters_letter')"
        f".fetchone()[0])\" > '{tmp_path}/letters-after'",
    )

    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    assert "Nothing was generated" in result.stderr
    assert "database or disk is full" in result.stderr
    assert (tmp_path / "letters-after").read_text().strip() == "5"
