"""A new ticket's files in its notification email: attached while they fit in
10 MiB together, linked to the ticket page past that, noted when they were not
kept; the email waits a little for a file still being fetched."""

from __future__ import annotations

import pytest
from redis import Redis
from rq.registry import ScheduledJobRegistry

from attachments import jobs as attachment_jobs
from attachments.mail import ATTACH_LIMIT
from attachments.models import Attachment
from core.db import session_scope
from core.jobs import MAIL_QUEUE
from core.runtime import Runtime
from tests.support.files import pdf, png
from tests.unit.test_tickets_email import Capture, open_ticket, rt, smtp  # noqa: F401  (fixtures)
from tickets import jobs


def add_file(rt: Runtime, ticket_id: int, name: str, data: bytes | None,  # noqa: F811
             status: str = "stored") -> int:
    with session_scope(rt.engine) as session:
        from tickets.models import Ticket

        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        row = Attachment(key=f"t:{name}", customer_id=ticket.customer_id, ticket_id=ticket_id,
                         kind="file", name=name, source_url="https://cdn.fbsbx.com/x",
                         status="pending" if data is not None else status)
        session.add(row)
        session.flush()
        attachment_id = row.id
    assert attachment_id is not None
    if data is not None and status == "stored":
        attachment_jobs.keep(rt, attachment_id, data)
    return attachment_id


def test_files_are_attached_up_to_10_mib_then_linked_and_missing_ones_noted(
        rt: Runtime, smtp: tuple[str, Capture], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    url, capture = smtp
    monkeypatch.setattr(rt, "settings", rt.settings.with_(smtp_url=url, public_url="https://desk.example"))
    ticket_id, mail_id = open_ticket(rt)
    photo, big = png(), pdf(ATTACH_LIMIT)  # together over the limit: the second is linked
    add_file(rt, ticket_id, "photo.png", photo)
    add_file(rt, ticket_id, "manual.pdf", big)
    add_file(rt, ticket_id, "film.mp4", None, status="too_large")
    assert jobs.send_mail(mail_id) == "sent"
    [message] = capture.messages
    assert [(part.get_filename(), part.get_content()) for part in message.iter_attachments()] == [
        ("photo.png", photo)]
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    assert "- photo.png (1 KB): attached" in text
    assert f"- manual.pdf (10.0 MB): https://desk.example/tickets/{ticket_id}/attachments/2" in text
    assert "- film.mp4: larger than 25 MB: not kept" in text


def test_the_email_waits_for_a_file_still_being_fetched(
        rt: Runtime, smtp: tuple[str, Capture], redis: Redis,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    url, capture = smtp
    monkeypatch.setattr(rt, "settings", rt.settings.with_(smtp_url=url))
    ticket_id, mail_id = open_ticket(rt)
    attachment_id = add_file(rt, ticket_id, "photo.png", None, status="pending")
    assert jobs.send_mail(mail_id) == "deferred"
    assert capture.messages == []
    assert len(ScheduledJobRegistry(MAIL_QUEUE, connection=redis).get_job_ids()) == 1
    attachment_jobs.keep(rt, attachment_id, png())
    assert jobs.send_mail(mail_id) == "sent"
    assert [part.get_filename() for part in capture.messages[0].iter_attachments()] == ["photo.png"]
