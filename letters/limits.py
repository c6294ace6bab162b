"""A time limit on the database work of each API request, the same on both engines:
PostgreSQL's statement_timeout, and on SQLite a progress handler that interrupts a
statement running past the deadline. A request that hits it gets a 503 that says so,
never a request that runs for seconds (CSV streams, which run after the view returns,
are not limited; they are chunked instead)."""

from __future__ import annotations

import contextlib
import threading
import time

from django.conf import settings
from django.db import connection

_current = threading.local()


@contextlib.contextmanager
def unlimited():
    """Lift the limit for work the request must finish, such as rebuilding the data
    package on demand: the rest of the request runs without it."""
    guard = getattr(_current, "guard", None)
    if guard is not None:
        guard.disable()
    yield


class QueryTimeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.API_QUERY_TIME_LIMIT_MS
        if not limit or not request.path.startswith("/api/"):
            return self.get_response(request)
        guard = _Guard(limit)
        _current.guard = guard
        try:
            with connection.execute_wrapper(guard):
                return self.get_response(request)
        finally:
            guard.release()
            _current.guard = None


class _Guard:
    def __init__(self, limit_ms: int):
        self.limit_ms = limit_ms
        self.armed_vendor: str | None = None
        self.deadline = 0.0
        self.disabled = False

    def __call__(self, execute, sql, params, many, context):
        if self.armed_vendor is None and not self.disabled:
            self.arm(context["connection"])
        return execute(sql, params, many, context)

    def disable(self) -> None:
        self.release()
        self.armed_vendor = None
        self.disabled = True

    def arm(self, wrapper) -> None:
        self.armed_vendor = wrapper.vendor
        if wrapper.vendor == "postgresql":
            with wrapper.connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {int(self.limit_ms)}")
        elif wrapper.vendor == "sqlite":
            self.deadline = time.monotonic() + self.limit_ms / 1000
            wrapper.connection.set_progress_handler(self._interrupt, 1_000)

    def _interrupt(self) -> int:
        return 1 if time.monotonic() > self.deadline else 0

    def release(self) -> None:
        if self.armed_vendor is None or connection.connection is None:
            return
        if self.armed_vendor == "postgresql":
            try:
                with connection.connection.cursor() as cursor:
                    cursor.execute("SET statement_timeout = DEFAULT")
            except Exception:  # noqa: BLE001 - a broken connection is closed anyway
                connection.close()
        elif self.armed_vendor == "sqlite":
            connection.connection.set_progress_handler(None, 0)


def is_time_limit_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return (
        "statement timeout" in text
        or "interrupted" in text
        or ("canceling statement" in text)
    )
