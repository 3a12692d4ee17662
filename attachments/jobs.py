"""The worker's fetch job: one RQ job per attachment, on its own queue, so a slow
or dead CDN never holds up a customer's conversation. Transient failures raise
(RQ retries with backoff, ~20 minutes in all, while Messenger's URL may still
work); the last one, a dead URL, a refused host or a file over 25 MiB is
recorded on the row and the job ends."""

from __future__ import annotations

import logging
from functools import cache

import requests
from sqlmodel import Session

from attachments.fetch import AllowList, FetchError, Gone, TooLarge, fetch
from attachments.models import MAX_BYTES, Attachment, utcnow
from attachments.sniff import content_type, named_for
from attachments.store import blob_store
from core import runtime
from core.db import session_scope
from core.jobs import ATTACHMENTS_QUEUE
from core.runtime import Runtime

log = logging.getLogger(__name__)

FETCH_QUEUE = ATTACHMENTS_QUEUE
FETCH_RETRIES = 8  # backoff 5 s, 10 s ... 600 s: about 20 minutes


def enqueue_fetches(rt: Runtime, attachment_ids: list[int]) -> None:
    for attachment_id in attachment_ids:
        rt.dispatcher.enqueue(fetch_attachment, attachment_id, queue=FETCH_QUEUE,
                              retries=FETCH_RETRIES)


def fetch_attachment(attachment_id: int) -> str:
    """Fetch and keep one pending attachment; returns its status ("skipped" if not pending)."""
    rt = runtime.current()
    with Session(rt.engine) as session:
        row = session.get(Attachment, attachment_id)
        url = row.source_url if row is not None and row.status == "pending" else None
    if not url:
        return "skipped"
    try:
        data = fetch(url, allowed=allowed_hosts(rt.settings.attachment_hosts), max_bytes=MAX_BYTES,
                     session=_session())
    except TooLarge as exc:
        return _record(rt, attachment_id, "too_large", str(exc), size=exc.size)
    except Gone as exc:
        return _record(rt, attachment_id, "unreachable", str(exc))
    except FetchError as exc:
        if _count_attempt(rt, attachment_id, str(exc)) > FETCH_RETRIES:
            return _record(rt, attachment_id, "unreachable", f"gave up: {exc}")
        raise
    return keep(rt, attachment_id, data)


def keep(rt: Runtime, attachment_id: int, data: bytes | bytearray) -> str:
    """Store `data` as the attachment's bytes, typed by its content."""
    mime, extension = content_type(data)
    with session_scope(rt.engine) as session:
        row = session.get(Attachment, attachment_id)
        assert row is not None
        blob_store().put(session, attachment_id, data)
        row.content_type, row.size, row.status, row.error = mime, len(data), "stored", None
        row.name, row.stored_at = named_for(row.name, extension), utcnow()
        row.attempts += 1
        session.add(row)
    log.info("attachment %s: stored %d bytes (%s)", attachment_id, len(data), mime)
    return "stored"


def _record(rt: Runtime, attachment_id: int, status: str, error: str, *,
            size: int | None = None) -> str:
    with session_scope(rt.engine) as session:
        row = session.get(Attachment, attachment_id)
        assert row is not None
        row.status, row.error, row.size = status, error[:500], size
        row.attempts += 1
        session.add(row)
    log.warning("attachment %s: %s (%s)", attachment_id, status, error)
    return status


def _count_attempt(rt: Runtime, attachment_id: int, error: str) -> int:
    with session_scope(rt.engine) as session:
        row = session.get(Attachment, attachment_id)
        assert row is not None
        row.attempts += 1
        row.error = error[:500]
        session.add(row)
        return row.attempts


@cache
def allowed_hosts(setting: str) -> AllowList:
    return AllowList.parse(setting)


@cache
def _session() -> requests.Session:
    """One pooled session per process; no proxies or .netrc from the environment."""
    session = requests.Session()
    session.trust_env = False
    session.headers["User-Agent"] = "support-desk-attachments"
    return session
