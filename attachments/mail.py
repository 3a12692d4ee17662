"""A ticket's files in its notification email: attached while they fit in
`ATTACH_LIMIT` together, linked to the ticket screen past it, and a note for
those that were not kept. The mail waits a little for files still being fetched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlmodel import Session, select

from attachments.models import Attachment, utcnow
from attachments.queries import of_ticket
from attachments.store import blob_store
from core.i18n import N_

ATTACH_LIMIT = 10 * 1024 * 1024  # in all: larger mails bounce at many relays
FETCH_GRACE = timedelta(minutes=2)  # how long a new ticket's mail waits for pending fetches
NOTES = {"pending": N_("still being fetched: see the ticket page"),  # translated in the email
         "too_large": N_("larger than 25 MB: not kept"),
         "unreachable": N_("could not be fetched from Messenger")}


@dataclass(frozen=True)
class MailFile:
    name: str
    size: int | None
    content_type: str
    data: bytes | None  # None: linked or noted, not attached
    url: str | None
    note: str

    @property
    def attached(self) -> bool:
        return self.data is not None

    @property
    def size_text(self) -> str:
        size = self.size or 0
        return f"{size / 1048576:.1f} MB" if size >= 1048576 else f"{-(-size // 1024)} KB"


def files_for_mail(session: Session, ticket_id: int, ticket_url: str) -> list[MailFile]:
    files, budget = [], ATTACH_LIMIT
    for n, row in enumerate(of_ticket(session, ticket_id), start=1):
        if row.direction != "in":
            continue
        data = None
        if row.status == "stored" and (row.size or 0) <= budget:
            data = blob_store().get(session, row.id)  # type: ignore[arg-type]
            budget -= row.size or 0
        url = f"{ticket_url}/attachments/{n}" if row.status == "stored" else None
        files.append(MailFile(row.name, row.size, row.content_type or "application/octet-stream",
                              data, url, NOTES.get(row.status, "")))
    return files


def attach(message: EmailMessage, files: list[MailFile]) -> None:
    for file in files:
        if file.data is not None:
            maintype, _, subtype = file.content_type.partition("/")
            message.add_attachment(file.data, maintype=maintype, subtype=subtype or "octet-stream",
                                   filename=file.name)


def still_fetching(session: Session, ticket_id: int) -> bool:
    """Files of the ticket are being fetched, and it is young enough to wait for them."""
    pending = session.exec(select(Attachment.created_at).where(
        Attachment.ticket_id == ticket_id, Attachment.status == "pending")).all()
    now = utcnow()
    return any(now - _utc(created) < FETCH_GRACE for created in pending)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
