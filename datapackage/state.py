"""Is the published package stale? A marker file beside the package says so.

Every committed change to an archive record writes a new token into the marker (signal
handlers, after commit). A build remembers the token it started from and removes the
marker after publishing only if no change came in meanwhile. The download endpoints
rebuild when the marker is there, so the package never lags the data silently, and a
fresh package is served without touching the database.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save


def target() -> Path:
    return Path(settings.DATAPACKAGE_DIR).absolute()


def marker() -> Path:
    path = target()
    return path.parent / f".{path.name}.stale"


def mark_stale() -> None:
    path = marker()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex}")
    temporary.write_text(uuid.uuid4().hex, encoding="ascii")
    os.replace(temporary, path)


def stale_token() -> str | None:
    try:
        return marker().read_text(encoding="ascii")
    except FileNotFoundError:
        return None


def clear(token: str | None) -> None:
    """Remove the marker if it still holds `token` (no change since the build began)."""
    if token is None:
        return
    if stale_token() == token:
        marker().unlink(missing_ok=True)


def is_fresh() -> bool:
    """Published, unchanged since, and servable: a folder published with
    ``export_datapackage --out`` and no ``--zip`` has no zip to download yet."""
    folder = target()
    return (
        stale_token() is None
        and (folder / "datapackage.json").is_file()
        and (folder / ".zip.sha256").is_file()
    )


def _changed(sender, using=None, **kwargs) -> None:
    """Schedule one marker write per transaction, however many rows it changes."""
    conn = transaction.get_connection(using)
    if conn.in_atomic_block and any(
        func is mark_stale for _, func, _ in conn.run_on_commit
    ):
        return
    transaction.on_commit(mark_stale, using=using)


def connect_signals() -> None:
    from letters import models

    for model in (
        models.Letter, models.Person, models.Organisation, models.Place, models.Post,
        models.Membership, models.Signatory, models.Addressee, models.Issuer,
        models.Mention, models.ExternalIdentifier,
    ):  # fmt: skip
        post_save.connect(_changed, sender=model, dispatch_uid=f"dp-save-{model}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"dp-del-{model}")


def ensure_fresh():
    """Rebuild the published package if it is missing or stale; returns the
    published folder. Concurrent callers wait for one build (build_lock)."""
    from datapackage import build

    if is_fresh():
        return target().resolve()
    with build.build_lock(target()):
        pass  # wait for a build in progress, then look again
    if is_fresh():
        return target().resolve()
    from letters.limits import unlimited

    token = stale_token()
    with unlimited():  # a rebuild is not an expensive query to cut short
        build.build()
    clear(token)
    return target().resolve()
