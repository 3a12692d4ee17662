"""Recording what a customer sent, in the turn that hears it: one `attachment`
row per file (pending), written in the turn's own transaction, and an outbox
call (`FETCH_CALL`) that queues the fetch jobs once that transaction has
committed. A re-run of the event finds it decided and records nothing twice;
a crash before the call was made leaves the call pending, made on the re-run."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import object_session
from sqlmodel import Session, col, select, update

from attachments.jobs import enqueue_fetches
from attachments.models import Attachment
from attachments.sniff import name_from_url
from bot.turn import Turn
from core.runtime import Runtime

FETCH_CALL = "fetch_attachments"  # the outbox call kind (bot.outbox)
KINDS = ("image", "video", "audio", "file")


def files_of(event: dict[str, Any]) -> list[tuple[int, str, str]]:
    """(index, kind, url) of each file in a customer's message; stickers and likes (an
    image with a `sticker_id`) are not files."""
    message = event.get("message")
    items = message.get("attachments") if isinstance(message, dict) else None
    found = []
    for index, item in enumerate(items if isinstance(items, list) else []):
        payload = item.get("payload") if isinstance(item, dict) else None
        if not isinstance(payload, dict) or "sticker_id" in payload:
            continue
        url = payload.get("url")
        if item.get("type") in KINDS and isinstance(url, str) and url.startswith(("https://", "http://")):
            found.append((index, str(item["type"]), url))
    return found


def keys_of(turn: Turn) -> list[str]:
    """The keys of the rows `keep_files` records for this turn's event."""
    if turn.kind != "message":
        return []
    from bot.decisions import event_key  # bot.decisions imports the hooks' registry

    key = event_key(turn.item)
    return [f"{key}#{index}" for index, _kind, _url in files_of(turn.event)]


def keep_files(turn: Turn) -> bool:
    """Turn hook, first of all (also on standby: the transcript keeps what a customer sent
    while an agent chats). Never handles the event itself: returns False."""
    session = object_session(turn.customer)
    files = files_of(turn.event) if turn.kind == "message" else []
    if not files or not isinstance(session, Session):
        return False
    mid = turn.event["message"].get("mid")
    keys = keys_of(turn)
    with session.no_autoflush:
        for key, (index, kind, url) in zip(keys, files, strict=True):
            session.add(Attachment(
                key=key, customer_id=turn.customer.id, kind=kind, source_url=url,
                name=name_from_url(url, f"{kind}-{index + 1}"),
                message_mid=mid[:255] if isinstance(mid, str) else None))
    turn.call(FETCH_CALL, keys=keys)
    return False


def queue_fetches(rt: Runtime, _customer: object, call: Any) -> str:
    """The outbox executor of `FETCH_CALL`: the rows are committed, the jobs may start."""
    keys = call.body.get("keys") or []
    with Session(rt.engine) as session:
        ids = session.exec(select(Attachment.id).where(
            col(Attachment.key).in_(keys), Attachment.status == "pending")).all()
    enqueue_fetches(rt, [i for i in ids if i is not None])
    return f"queued {len(ids)}"


def link_to_ticket(session: Session, *, keys: list[str], customer_id: int, ticket_id: int) -> None:
    """Attach the files a customer sent while the ticket was being written to it."""
    if keys:
        session.exec(update(Attachment).where(  # type: ignore[call-overload]
            col(Attachment.key).in_(keys), Attachment.customer_id == customer_id,
            col(Attachment.ticket_id).is_(None)).values(ticket_id=ticket_id))
