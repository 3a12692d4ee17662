"""Attachments in, end to end: a customer's photo sent while opening a ticket on the
stand-in Messenger is fetched by an RQ worker process from the stand-in's CDN,
checked by its bytes, and reaches the ticket page, the admin API and the
notification email (real SMTP on loopback) byte for byte."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import requests
from sqlmodel import Session, create_engine, select

from attachments.models import Attachment
from tests.e2e.conftest import StartService
from tests.e2e.test_tickets_journey import (  # noqa: F401  (fixtures)
    ADMIN,
    INBOUND,
    Clock,
    Desk,
    Mailbox,
    clock,
    mailbox,
    smtp_port,
    standin,
    text,
)
from tests.support.files import png
from tests.support.servers import wait_until

pytestmark = pytest.mark.e2e
BEARER = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def desk(start_service: StartService, standin, clock: Clock, smtp_port: int) -> Desk:  # noqa: F811
    fake, url = standin
    service = start_service(smtp_url=f"smtp://127.0.0.1:{smtp_port}", inbound_email_token=INBOUND,
                            admin_api_token=ADMIN, support_email_from="Support Desk <support@example.com>",
                            attachment_hosts=f"fbcdn.net,{url}")
    desk = Desk(fake, str(fake.webhook_url).removesuffix("/webhook"), clock)
    desk.database_url = service.settings.database_url  # type: ignore[attr-defined]
    return desk


def stored_files(desk: Desk) -> dict[str, str]:
    """name -> status of every attachment row, read from the service's database."""
    engine = create_engine(desk.database_url)  # type: ignore[attr-defined]
    try:
        with Session(engine) as session:
            return {row.name: row.status for row in session.exec(select(Attachment)).all()}
    finally:
        engine.dispose()


def test_a_photo_sent_while_opening_a_ticket_reaches_the_page_the_api_and_the_email(
        desk: Desk, mailbox: Mailbox) -> None:  # noqa: F811
    photo = png(extra=40_000)
    desk.fake.add_user("720", first_name="Ana")
    desk.says("720", "Email Support", "flow:email_support")
    desk.says("720", "Broken part")
    before = len(desk.fake.sent("720"))
    # The CDN's header and the name lie; the bytes say PNG.
    desk.fake.customer_sends_file("720", photo, name="broken.html", kind="image",
                                  content_type="text/html")
    acknowledged = desk.fake.wait_for_sent("720", before + 2, timeout=30)[before:]
    assert "1 file(s) will go with your ticket" in text(acknowledged[0])
    assert text(acknowledged[1]) == "What type of question is it?"
    desk.says("720", "Billing", "ticket:type:billing")
    created = desk.says("720", "The part arrived broken, see the photo.")
    number = int(re.search(r"#(\d+)", text(created)).group(1))  # type: ignore[union-attr]

    def stored() -> list[dict] | None:
        files = desk.ticket(number)["attachments"]
        return files if files and files[0]["status"] == "stored" else None

    [listed] = wait_until(stored, timeout=30)
    assert (listed["name"], listed["content_type"], listed["size"]) == ("broken.png", "image/png",
                                                                        len(photo))
    api = requests.get(listed["url"], headers=BEARER, timeout=5)
    assert api.content == photo
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    assert api.headers["Content-Disposition"].startswith("attachment")
    assert requests.get(listed["url"], timeout=5).status_code == 401

    wait_until(lambda: mailbox.messages, timeout=30)
    [mail] = mailbox.messages
    [part] = list(mail.iter_attachments())
    assert part.get_content_type() == "image/png" and part.get_filename() == "broken.png"
    assert part.get_content() == photo
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "broken.png" in body
    assert "customer: [image: broken." in body  # the transcript names the file the message carried

    link = created["message"]["attachment"]["payload"]["buttons"][0]["url"]
    browser = requests.Session()
    login = urlsplit(link)
    form = browser.get(f"{desk.base}{login.path}?{login.query}", timeout=5).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    browser.post(f"{desk.base}/login/link", timeout=5,
                 data={"csrf_token": token, "token": login.query.split("token=", 1)[1]})
    page = browser.get(f"{desk.base}/tickets/{number}", timeout=5).text
    assert f'<img src="/tickets/{number}/attachments/1"' in page
    shown = browser.get(f"{desk.base}/tickets/{number}/attachments/1", timeout=5)
    assert shown.content == photo and shown.headers["Content-Type"] == "image/png"
    assert shown.headers["Content-Disposition"].startswith("inline")
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in shown.headers["Content-Security-Policy"]
    stranger = requests.get(f"{desk.base}/tickets/{number}/attachments/1", timeout=5,
                            allow_redirects=False)
    assert stranger.status_code in (302, 303, 401, 403) and stranger.content != photo


def test_a_dead_file_url_is_recorded_never_blocks_and_the_agent_summary_names_the_files(
        desk: Desk) -> None:
    desk.fake.add_user("730", first_name="Ana")
    desk.says("730", "hi")
    before = len(desk.fake.sent("730"))
    expired = f"{desk.fake.base_url}/_cdn/expired-token/receipt.pdf"  # the CDN answers 403
    desk.fake.customer_says("730", attachments=[{"type": "file", "payload": {"url": expired}}])
    desk.fake.customer_sends_file("730", png(), name="screen.png", kind="image")
    answers = desk.fake.wait_for_sent("730", before + 2, timeout=30)  # the bot answers each
    assert len(answers) >= before + 2
    desk.says("730", "Live agent", "flow:live_agent")
    handover = wait_until(lambda: [c for c in desk.fake.control_calls("730") if c["action"] == "pass"],
                          timeout=30)[-1]
    assert "Files sent (kept with the conversation): receipt.pdf (file), screen" in handover["metadata"]

    def settled() -> dict[str, str] | None:
        found = stored_files(desk)
        return found if len(found) == 2 and "pending" not in found.values() else None

    assert wait_until(settled, timeout=30) == {"receipt.pdf": "unreachable", "screen.png": "stored"}
