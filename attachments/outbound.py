"""Files going to a customer: an agent's emailed attachments, kept like a
customer's (typed by their bytes), then uploaded through the Attachment Upload
API and sent with their `attachment_id`, each by an outbox call (`FILE_CALL`)
that follows the reply's text under the same window rule. A file Messenger
refuses is marked `refused`: the ticket screen links it instead."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlmodel import Session

from attachments.models import MAX_BYTES, Attachment, utcnow
from attachments.sniff import clean_name, content_type, named_for
from attachments.store import blob_store
from bot import instagram
from bot.echoes import metadata_for
from core.db import session_scope
from core.runtime import Runtime
from core.throttle import send_throttle
from messenger.errors import BadRequest, GraphError

if TYPE_CHECKING:
    from bot.decisions import Call
    from bot.models import Customer

log = logging.getLogger(__name__)

FILE_CALL = "send_file"  # the outbox call kind (bot.outbox)
# What Messenger shows inline, by the type found in the bytes; anything else goes as "file".
_KINDS = {"image/jpeg": "image", "image/png": "image", "image/gif": "image",
          "video/mp4": "video", "audio/mpeg": "audio", "audio/mp4": "audio", "audio/x-wav": "audio",
          "audio/ogg": "audio", "audio/aac": "audio"}


def keep_reply_files(session: Session, *, reply_id: int, ticket_id: int, customer_id: int,
                     files: Iterable[tuple[str, bytes]]) -> list[int]:
    """Store an agent reply's files (in the caller's transaction); returns their ids."""
    ids = []
    for index, (name, data) in enumerate(files):
        mime, extension = content_type(data)
        row = Attachment(key=f"reply:{reply_id}#{index}", customer_id=customer_id,
                         ticket_id=ticket_id, reply_id=reply_id, direction="out",
                         kind=_KINDS.get(mime, "file"), content_type=mime, size=len(data),
                         name=named_for(clean_name(name) or f"file-{index + 1}", extension),
                         status="stored" if len(data) <= MAX_BYTES else "too_large",
                         stored_at=utcnow())
        session.add(row)
        session.flush()
        assert row.id is not None
        if row.status == "stored":
            blob_store().put(session, row.id, data)
        ids.append(row.id)
    return ids


def send_file(rt: Runtime, customer: Customer, call: Call) -> str | None:
    """The outbox executor of `FILE_CALL`: upload once, then send; Meta's message id."""
    body = call.body
    attachment_id = int(body["attachment"])
    with Session(rt.engine) as session:
        row = session.get(Attachment, attachment_id)
        data = blob_store().get(session, attachment_id) if row is not None else None
    if row is None or data is None:
        raise ValueError(f"attachment {attachment_id} has no stored bytes")
    uploaded = row.messenger_attachment_id or _upload(rt, customer, row, data)
    send_throttle(rt.redis, rt.settings.send_rate_per_page).wait(rt.page_id_of(customer.page_id))
    answer = rt.graph_for(customer.page_id).send_message(
        customer.psid, {"attachment": {"type": row.kind, "payload": {"attachment_id": uploaded}}},
        messaging_type=body.get("messaging_type", "RESPONSE"), tag=body.get("tag"),
        metadata=metadata_for(call.key))
    _mark(rt, attachment_id, "sent")
    return answer.get("message_id")


def _upload(rt: Runtime, customer: Customer, row: Attachment, data: bytes) -> str:
    on_instagram = instagram.is_instagram(customer.channel)
    try:
        if on_instagram and not instagram.takes_file(row.kind, row.content_type):
            raise BadRequest(f"Instagram does not take {row.content_type} files")
        uploaded = rt.graph_for(customer.page_id).upload_attachment(
            kind=row.kind, data=data, filename=row.name,
            content_type=row.content_type or "application/octet-stream",
            platform=instagram.CHANNEL if on_instagram else None)
    except GraphError as exc:
        if not exc.retryable:
            log.warning("attachment %s: Messenger refused the upload (%s); linked on the ticket",
                        row.id, exc)
            _mark(rt, row.id, "refused", str(exc))  # type: ignore[arg-type]
        raise
    with session_scope(rt.engine) as session:
        fresh = session.get(Attachment, row.id)
        assert fresh is not None
        fresh.messenger_attachment_id = uploaded
        session.add(fresh)
    return uploaded


def _mark(rt: Runtime, attachment_id: int, state: str, error: str | None = None) -> None:
    with session_scope(rt.engine) as session:
        row = session.get(Attachment, attachment_id)
        assert row is not None
        row.messenger = state
        row.error = error[:500] if error else row.error
        session.add(row)
