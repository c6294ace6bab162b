"""Frictionless validation of a data package folder, one resource per process.

Frictionless validates a package's resources one after the other (its own parallel
mode is off as soon as a schema has foreign keys, which every role table has). Each
resource can be validated on its own within its package (``Package.validate(name=)``:
schema, constraints, primary and foreign keys against the other resources, bytes and
hash), so large packages are spread over worker processes, biggest files first. At
100k letters the resources take 0.1-30 s each (signatories being the long pole); two
processes validate the whole package in about the time of the largest. ``Validation``
starts them and returns at once, so the import loads rows while frictionless reads
them; ``validate`` waits.

Every row of every table carries an ``updated`` timestamp, and frictionless reads
those with ``datetime.strptime`` (5.4 us a cell, 1.6M cells at 100k letters). The
``Timestamps`` plugin reads the same format in 1 us when the text is plain ASCII digits
in place, and hands anything else to frictionless's own reader, so each cell gets the
same value or the same error as without it.

Five resources reference the letters, and frictionless builds each one's lookup of
the letters' identifiers anew by reading letters.csv (150 MB, 2.3 s at 100k letters).
A lane validates resource after resource of one package in one process, so
``use_shared_lookups`` builds each lookup once per lane (and once per whole-package
validation in this process): keyed by the source file's path, size and modification
time, and the same set frictionless would have built.

This module imports nothing from Django: pool workers are fresh interpreters
(``spawn``), which is safe from any caller, threads or open connections included.
"""

from __future__ import annotations

import contextvars
import json
import os
import re
import threading
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path

DESCRIPTOR = "datapackage.json"
# The one textual form of a timestamp in the package (datapackage.fields.text).
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z"
)
# Below this many bytes of data one process is faster than starting workers (each
# worker spends about half a second importing frictionless).
PARALLEL_BYTES = 16 * 1024 * 1024


def read_timestamp(cell: str) -> datetime | None:
    """``datetime.strptime(cell, TIMESTAMP_FORMAT)`` for text in the package's own
    form (ASCII digits, two per field, four for the year), None for text that is not
    in that form (the caller falls back to strptime). A form that names no real
    moment (a 31st of February, a 25th hour) raises ValueError, as strptime does."""
    match = _TIMESTAMP.fullmatch(cell)
    if match is None:
        return None
    return datetime(*map(int, match.groups()))


_registered = False
_registering = threading.Lock()


def use_timestamps_plugin() -> None:
    """Register the ``Timestamps`` plugin with frictionless (once per process)."""
    global _registered
    with _registering:
        if _registered:
            return
        from frictionless import Plugin, fields, system

        class TimestampField(fields.DatetimeField):
            """frictionless's datetime field, with a fast path for TIMESTAMP_FORMAT."""

            def create_value_reader(self):
                stock = super().create_value_reader()
                if self.format != TIMESTAMP_FORMAT:
                    return stock

                def value_reader(cell):
                    if isinstance(cell, str):
                        try:
                            parsed = read_timestamp(cell)
                        except ValueError:
                            return None  # in the form, but no such moment
                        if parsed is not None:
                            return parsed
                    return stock(cell)

                return value_reader

        class Timestamps(Plugin):
            def select_field_class(self, type=None):
                return TimestampField if type == "datetime" else None

        system.register("letters_archive_timestamps", Timestamps())
        _registered = True


# The lookups being shared, by (source file, size, mtime, resource, key fields); None
# where lookups are not shared (frictionless builds its own, as it always does).
_lookups: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "letters_archive_lookups", default=None
)
# A lane's worker process serves one Validation, then exits: its lookups live as long.
_lane_lookups: dict | None = None
_patched = False


def _lane_started() -> None:
    """Initialiser of a lane's worker process: its resources share their lookups."""
    global _lane_lookups
    _lane_lookups = {}


@contextmanager
def shared_lookups(lookups: dict):
    """Within the block, a foreign-key lookup already in ``lookups`` is reused, and
    one built by frictionless is stored there."""
    use_shared_lookups()
    token = _lookups.set(lookups)
    try:
        yield lookups
    finally:
        _lookups.reset(token)


def use_shared_lookups() -> None:
    """Wrap frictionless's lookup building (once per process) so that, inside
    ``shared_lookups``, it builds only the lookups not already there. Outside it,
    and if frictionless no longer has the method, frictionless works as always."""
    global _patched
    with _registering:
        if _patched:
            return
        from frictionless.resources import TableResource

        build = getattr(TableResource, "_TableResource__open_lookup", None)
        if build is None:
            _patched = True
            return

        def open_lookup(resource):
            lookups = _lookups.get()
            if lookups is None or resource.package is None:
                return build(resource)
            keys = [_lookup_key(resource, fk) for fk in resource.schema.foreign_keys]
            foreign_keys = resource.schema.foreign_keys
            resource.schema.foreign_keys = [
                fk
                for fk, key in zip(foreign_keys, keys, strict=True)
                if key not in lookups
            ]
            try:
                build(resource)  # the lookups missing, as frictionless builds them
            finally:
                resource.schema.foreign_keys = foreign_keys
            built = resource._TableResource__lookup
            for fk, key in zip(foreign_keys, keys, strict=True):
                source, fields = fk["reference"]["resource"], key[-1]  # as written
                if key in lookups:
                    built.setdefault(source, {})[fields] = lookups[key]
                elif key[0] is not None and fields in built.get(source, {}):
                    lookups[key] = built[source][fields]

        TableResource._TableResource__open_lookup = open_lookup
        _patched = True


def _lookup_key(resource, fk: dict) -> tuple:
    """What a lookup depends on: the source resource's file as it is now (None when
    it is not one plain local file: never shared), its name and the key's fields."""
    source = fk["reference"]["resource"] or resource.name
    fields = tuple(fk["reference"]["fields"])
    path = None
    if resource.package.has_resource(source):
        target = resource.package.get_resource(source)
        if isinstance(target.path, str) and not target.multipart:
            try:
                stat = os.stat(target.normpath)
                path = (target.normpath, stat.st_size, stat.st_mtime_ns)
            except (OSError, TypeError):
                path = None
    return (path, source, fields)


def _resource_errors(folder: str, name: str | None) -> list[dict]:
    """Errors of one resource (of the whole package with None), as plain dicts."""
    from frictionless import FrictionlessException, Package, system

    use_timestamps_plugin()
    lookups = _lane_lookups if _lane_lookups is not None else {}
    with system.use_context(trusted=False), shared_lookups(lookups):
        try:
            package = Package(str(Path(folder) / DESCRIPTOR), basepath=folder)
        except FrictionlessException as exc:  # the descriptor itself is invalid
            return [_package_error(e.message) for e in exc.to_errors()]
        report = package.validate(name=name)
    errors = [_package_error(e.message) for e in report.errors]
    for task in report.tasks:
        for error in task.errors:
            errors.append(
                {
                    "resource": task.name,
                    "row": getattr(error, "row_number", None),
                    "field": getattr(error, "field_name", None),
                    "message": error.message,
                }
            )
    return errors


def _package_error(message: str) -> dict:
    return {"resource": DESCRIPTOR, "row": None, "field": None, "message": message}


def _plan(folder: Path) -> tuple[list[str], int]:
    """Resource names, largest file first, and the data's total size in bytes."""
    descriptor = json.loads((folder / DESCRIPTOR).read_text("utf-8"))
    sizes = {}
    for resource in descriptor.get("resources", []):
        name, path = resource.get("name"), resource.get("path")
        try:
            size = (folder / path).stat().st_size if isinstance(path, str) else 0
        except OSError:
            size = 0  # frictionless reports the missing file
        sizes[name] = size
    order = sorted(sizes, key=lambda n: -sizes[n])
    return order, sum(sizes.values())


def validate(folder: Path, *, workers: int | None = None) -> list[dict]:
    """Validate with frictionless: schemas, constraints, foreign keys, bytes and
    hashes. Returns the errors (empty when valid), package-level ones first, then by
    resource in the descriptor's order. ``workers`` forces the number of processes
    (1: all in this process); by default, one per CPU once the data is large."""
    with Validation(folder, workers=workers) as running:
        return running.errors()


class Validation:
    """Frictionless's verdict on a package folder, worked out in worker processes
    while the caller goes on (the import loads the rows meanwhile, in a transaction it
    commits only once ``errors()`` is empty). A small package is validated at once, in
    this process, before the constructor returns (``finished`` is then true). Leaving
    the ``with`` block before the verdict stops the workers.

    The workers are lanes: one process each, taking the next resource (largest
    first) as it finishes the last. A caller that keeps a core busy until it asks for
    the verdict (``busy_caller``: the import, loading rows) gets one lane fewer at
    first; ``errors()`` opens the rest for whatever is still waiting. On two cores the
    import then runs one lane beside its load instead of three processes on two
    cores, and the second lane takes the resources left when the load is done."""

    def __init__(
        self, folder: Path, *, workers: int | None = None, busy_caller: bool = False
    ):
        self.folder = Path(folder)
        self._errors: list[dict] | None = None
        self._lanes: list[tuple[ProcessPoolExecutor, threading.Thread]] = []
        self._lock = threading.Lock()
        self._pending: deque[str] = deque()
        self._results: dict[str, list[dict]] = {}
        self._failure: BaseException | None = None
        self._stopped = False
        try:
            names, total = _plan(self.folder)
        except (OSError, ValueError, AttributeError, TypeError):
            names, total = [], 0  # frictionless names the fault
        if not names or len(names) != len(set(names)) or None in names:
            self._errors = _resource_errors(str(self.folder), None)
            return
        if workers is None:
            big = total >= PARALLEL_BYTES
            workers = min(os.cpu_count() or 1, len(names)) if big else 1
        if workers <= 1:
            self._errors = _resource_errors(str(self.folder), None)
            return
        self._workers = workers
        self._pending.extend(names)  # largest first: the long pole starts at once
        self._open_lanes(workers - 1 if busy_caller else workers)

    @property
    def finished(self) -> bool:
        return self._errors is not None

    def _open_lanes(self, count: int) -> None:
        """Open lanes up to ``count``, each started on the next waiting resource
        here, so its process is running when this returns."""
        with self._lock:
            while len(self._lanes) < count and self._pending and not self._stopped:
                pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=get_context("spawn"),
                    initializer=_lane_started,
                )
                name = self._pending.popleft()
                first = pool.submit(_resource_errors, str(self.folder), name)
                lane = threading.Thread(
                    target=self._run_lane, args=(pool, name, first), daemon=True,
                    name=f"validation-lane-{len(self._lanes) + 1}",
                )  # fmt: skip
                self._lanes.append((pool, lane))
                lane.start()

    def _run_lane(self, pool: ProcessPoolExecutor, name: str, running: Future) -> None:
        while True:
            try:
                errors = running.result()
            except BaseException as exc:  # the worker failed, or was stopped
                with self._lock:
                    if not self._stopped and self._failure is None:
                        self._failure = exc
                    self._stopped = True
                return
            with self._lock:
                self._results[name] = errors
                if self._stopped or not self._pending:
                    return
                name = self._pending.popleft()
                running = pool.submit(_resource_errors, str(self.folder), name)

    def errors(self) -> list[dict]:
        """The errors, waiting for the workers if they are still at it."""
        if self._errors is None:
            self._open_lanes(self._workers)
            for _pool, lane in self._lanes:
                lane.join()
            if self._failure is not None:
                raise self._failure
            for pool, _lane in self._lanes:
                pool.shutdown()
            self._lanes = []
            self._errors = _combined(self.folder, self._results)
        return self._errors

    def cancel(self) -> None:
        """Stop the workers (the caller gave up: a refusal or an interruption)."""
        with self._lock:
            self._stopped = True
            self._pending.clear()
            lanes, self._lanes = self._lanes, []
        for pool, _lane in lanes:
            _terminate(pool)
        for _pool, lane in lanes:
            lane.join()

    def __enter__(self) -> Validation:
        return self

    def __exit__(self, *exc) -> None:
        self.cancel()


def _terminate(pool: ProcessPoolExecutor) -> None:
    # A running resource would otherwise run to its end (tens of seconds at 100k
    # letters) and hold the interpreter's exit. Python 3.14 has terminate_workers();
    # before it, the pool's own process table (which shutdown() forgets, so it is
    # read first).
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


def _combined(folder: Path, results: dict[str, list[dict]]) -> list[dict]:
    """Each worker's errors, package-level ones once and first, then by resource in
    the descriptor's order."""
    package_level: list[dict] = []
    by_resource: dict[str, list[dict]] = {}
    for name, errors in results.items():
        for error in errors:
            if error["resource"] == DESCRIPTOR:
                if error not in package_level:  # every worker sees the same ones
                    package_level.append(error)
            else:
                by_resource.setdefault(name, []).append(error)
    descriptor_order = json.loads((folder / DESCRIPTOR).read_text("utf-8"))
    ordered = [r.get("name") for r in descriptor_order["resources"]]
    return package_level + [e for n in ordered for e in by_resource.get(n, [])]
