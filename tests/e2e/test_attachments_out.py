"""Attachments out, end to end: a PDF attached to an agent's emailed reply is kept
on the ticket, uploaded to the stand-in's Attachment Upload API (multipart, checked
as Facebook checks it) and sent to the customer with its `attachment_id`, after
the reply's text; a type Messenger refuses becomes a link on the ticket screen."""

from __future__ import annotations

import time
from email.message import EmailMessage

import pytest
import requests

from tests.e2e.test_attachments_in import BEARER, desk  # noqa: F401  (fixture)
from tests.e2e.test_tickets_journey import (  # noqa: F401  (fixtures)
    Clock,
    Desk,
    Mailbox,
    clock,
    mailbox,
    smtp_port,
    standin,
    text,
)
from tests.support.files import pdf
from tests.support.servers import wait_until

pytestmark = pytest.mark.e2e


def reply_with_files(thread: str, body: str, files: list[tuple[str, bytes, str]]) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"] = "Eva Green <eva@example.com>", "support@example.com"
    mail["Subject"], mail["Message-ID"] = "Re: your ticket", f"<agent-{time.time_ns()}@example.com>"
    mail["In-Reply-To"] = mail["References"] = thread
    mail.set_content(f"{body}\n\nOn Mon, Support Desk <support@example.com> wrote:\n> old\n")
    for name, data, mime in files:
        maintype, subtype = mime.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return mail.as_bytes()


def test_an_agents_pdf_reaches_the_customer_on_messenger_as_an_attachment(
        desk: Desk, mailbox: Mailbox) -> None:  # noqa: F811
    invoice = pdf(300_000)
    number = desk.open_ticket("740", "Need my invoice")
    thread = desk.notification(number, "sent")["message_id"]
    before = len(desk.fake.sent("740"))
    answer = desk.email_in(reply_with_files(thread, "Here is your invoice.",
                                            [("invoice march.pdf", invoice, "application/pdf")]))
    assert answer.status_code == 200
    sent = desk.fake.wait_for_sent("740", before + 2, timeout=30)[before:]
    assert "Here is your invoice." in text(sent[0])
    file_message = sent[1]["message"]["attachment"]
    assert file_message["type"] == "file"
    upload = desk.fake.media.uploads[file_message["payload"]["attachment_id"]]
    assert (upload.data, upload.filename, upload.content_type, upload.kind) == (
        invoice, "invoice march.pdf", "application/pdf", "file")
    assert sent[1]["messaging_type"] == "RESPONSE"

    def recorded_sent() -> dict | None:  # Meta has the file; the desk writes "sent" just after
        files = desk.ticket(number)["attachments"]
        return files[0] if files and files[0]["messenger"] == "sent" else None

    listed = wait_until(recorded_sent, timeout=30)
    assert (listed["name"], listed["direction"]) == ("invoice march.pdf", "out")
    assert requests.get(listed["url"], headers=BEARER, timeout=5).content == invoice


def test_a_file_messenger_refuses_becomes_a_link_to_the_ticket(desk: Desk, mailbox: Mailbox) -> None:  # noqa: F811
    number = desk.open_ticket("741", "Need the tool")
    thread = desk.notification(number, "sent")["message_id"]
    before = len(desk.fake.sent("741"))
    program = b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + b"\x00" * 500  # a Windows program
    answer = desk.email_in(reply_with_files(thread, "Run this tool.",
                                            [("tool.exe", program, "application/x-msdownload")]))
    assert answer.status_code == 200
    sent = desk.fake.wait_for_sent("741", before + 2, timeout=30)[before:]
    assert "Run this tool." in text(sent[0])
    assert "this chat cannot carry" in text(sent[1])
    assert "/login?token=" in sent[1]["message"]["attachment"]["payload"]["buttons"][0]["url"]
    assert desk.fake.media.uploads == {}

    def refused() -> dict | None:
        files = desk.ticket(number)["attachments"]
        return files[0] if files and files[0]["messenger"] == "refused" else None

    listed = wait_until(refused, timeout=30)
    assert requests.get(listed["url"], headers=BEARER, timeout=5).content == program
