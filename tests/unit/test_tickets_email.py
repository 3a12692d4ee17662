"""Email in and out: cutting quoted history and signatures, reading inbound
mail, composing notifications, SMTP URLs, and the mail job against a real
SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlmodel import select

from bot.models import Customer
from core.db import session_scope
from core.runtime import Runtime
from tests.support.servers import free_port
from tests.support.smtp import CapturedMail
from tickets import jobs, mailer, service
from tickets.compose import compose
from tickets.errors import MailDeliveryError, UnparsableEmail
from tickets.inbound import parse_email
from tickets.models import OutboundMail, Ticket, utcnow
from tickets.quotes import strip_reply
from tickets.reply_address import reply_address
from tickets.types import ticket_types

Capture = CapturedMail


@pytest.fixture
def smtp() -> Iterator[tuple[str, Capture]]:
    capture, port = Capture(), free_port()
    controller = Controller(capture, hostname="127.0.0.1", port=port)
    controller.start()
    yield f"smtp://127.0.0.1:{port}", capture
    controller.stop()


@pytest.mark.parametrize("reply", [
    "Refunded today.\n\nOn Mon, 2 Mar 2026 at 10:00, Support <support@example.com> wrote:\n> [#7]\n> old",
    "Refunded today.\n\nOn Mon, 2 Mar 2026 at 10:00, Support Desk\n<support@example.com> wrote:\n> old",
    "Refunded today.\n\nEl lun, 2 mar 2026 a las 10:00, Soporte <support@example.com> escribió:\n> viejo",
    "Refunded today.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\nSubject: [#7]\n\nold",
    "Refunded today.\n\nFrom: Support <support@example.com>\nSent: Monday, 2 March 2026\nTo: billing@x.com\n"
    "Subject: [#7] Card\n\nold text",
    "Refunded today.\n\n-- \nEva Green\nBilling team",
    "Refunded today.\n\nSent from my iPhone",
    "Refunded today.\n\nEnviado desde mi iPhone\n\nEl lun, 2 mar 2026, Soporte escribió:\n> x",
    "> quoted first\nRefunded today.",
])
def test_quoted_history_and_signatures_are_cut(reply: str) -> None:
    assert strip_reply(reply) == "Refunded today."


def test_a_reply_keeps_its_own_lines_and_dashes() -> None:
    text = "Hi Ana,\n\nWe refunded you -- sorry!\n---\nSteps:\n1. Wait 5 days\n\nFrom now on it works."
    assert strip_reply(text) == text


def raw_mail(*, subject: str = "Re: [#12] Card charged twice", body: str = "We refunded you.",
             headers: str = "", html: bool = False) -> bytes:
    kind = "text/html" if html else "text/plain"
    return (f"From: Eva Green <Eva@Example.com>\r\nTo: support@example.com\r\nSubject: {subject}\r\n"
            f"Message-ID: <reply-1@mail.example.com>\r\n{headers}Content-Type: {kind}; charset=utf-8\r\n"
            f"\r\n{body}\r\n").encode()


def test_inbound_mail_is_read_with_its_thread_and_recipients() -> None:
    mail = parse_email(raw_mail(headers="In-Reply-To: <n-1@example.com>\r\n"
                                        "References: <root@example.com> <n-1@example.com>\r\n"
                                        "Cc: Bo <BO@example.com>\r\n"
                                        "Delivered-To: support+t12.x@example.com\r\n",
                                body="We refunded you.\r\n\r\nOn Mon, Support wrote:\r\n> old"))
    assert (mail.sender, mail.sender_name, mail.message_id) == (
        "eva@example.com", "Eva Green", "<reply-1@mail.example.com>")
    assert mail.thread_ids == ("<n-1@example.com>", "<root@example.com>")
    assert mail.recipients == ("support@example.com", "bo@example.com", "support+t12.x@example.com")
    assert mail.text == "We refunded you." and not mail.automatic


def test_html_only_replies_are_read_without_the_quoted_part() -> None:
    body = ('<div dir="ltr">Refund sent.<br>Eva</div><div class="gmail_quote"><div>On Mon wrote:</div>'
            "<blockquote>old<br>stuff</blockquote></div>")
    assert parse_email(raw_mail(body=body, html=True)).text == "Refund sent.\nEva"


def test_auto_replies_and_bounces_are_recognised() -> None:
    assert parse_email(raw_mail(headers="Auto-Submitted: auto-replied\r\n")).automatic
    assert parse_email(raw_mail(headers="Precedence: bulk\r\n")).automatic
    assert not parse_email(raw_mail(headers="Auto-Submitted: no\r\n")).automatic


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"just some bytes \xff\xfe without headers",
                                 b"Subject: hi\r\n\r\nno sender"])
def test_unreadable_mail_is_refused(raw: bytes) -> None:
    with pytest.raises(UnparsableEmail):
        parse_email(raw)


def test_smtp_urls() -> None:
    assert mailer.smtp_config(None) is None
    plain = mailer.smtp_config("smtp://relay.example.com")
    assert plain and (plain.host, plain.port, plain.tls, plain.starttls) == (
        "relay.example.com", 25, False, False)
    secure = mailer.smtp_config("smtps://us%40r:p%3Ass@mail.example.com")
    assert secure and (secure.port, secure.tls, secure.username, secure.password) == (
        465, True, "us@r", "p:ss")
    assert "p:ss" not in repr(secure)
    submission = mailer.smtp_config("smtp://u:p@mail.example.com:587?starttls=1")
    assert submission and (submission.port, submission.starttls) == (587, True)


@pytest.fixture
def rt(app: Flask) -> Runtime:
    return app.extensions["runtime"]


def open_ticket(rt: Runtime) -> tuple[int, int]:
    """A Messenger ticket after a short conversation: (ticket id, its notification's id)."""
    with session_scope(rt.engine) as session:
        customer = Customer(page_id="1000000001", psid="900", first_name="Ana")
        session.add(customer)
        session.flush()
        from bot.models import Message

        session.add(Message(customer_id=customer.id, direction="in", author="customer", kind="text",
                            text="my card was charged twice"))
        ticket, mail = service.open_ticket(
            session, customer=customer, ticket_type=ticket_types(rt.flows.current)["billing"],
            title="Card charged twice", description="On 2 March, 49 EUR twice.", source="messenger",
            locale="en", sender="Support Desk <support@example.com>")
        assert ticket.id is not None and mail.id is not None
        return ticket.id, mail.id


REPLY_TO = "Support <support+t1.k@example.com>"


def test_the_notification_has_the_ticket_the_transcript_and_threading_headers(rt: Runtime) -> None:
    ticket_id, mail_id = open_ticket(rt)
    with session_scope(rt.engine) as session:
        ticket, mail = session.get(Ticket, ticket_id), session.get(OutboundMail, mail_id)
        assert ticket and mail
        message = compose(mail, ticket, reply=None, type_title="Billing",
                          sender="Support <support@example.com>", reply_to=REPLY_TO,
                          thread_root=mail.message_id, public_url="https://desk.example.com")
        resolved = service.resolve(session, ticket, mailbox="billing@example.com",
                                   sender="support@example.com")
        assert resolved is not None
        follow_up = compose(resolved, ticket, reply=None, type_title="Billing", sender="support@example.com",
                            reply_to="support@example.com", thread_root=mail.message_id,
                            public_url="https://desk.example.com")
    assert message["Subject"] == f"[#{ticket_id}] Card charged twice"
    assert (message["To"], message["Reply-To"]) == ("billing@example.com", REPLY_TO)
    assert message["Message-ID"] == mail.message_id and message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for part in ("Billing", "Card charged twice", "On 2 March, 49 EUR twice.", "Ana",
                 "customer: my card was charged twice", f"https://desk.example.com/tickets/{ticket_id}"):
        assert part in text
    assert "<strong>" in message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert follow_up["In-Reply-To"] == mail.message_id and f"[#{ticket_id}]" in follow_up["Subject"]


def test_the_mail_job_sends_once_and_records_it(rt: Runtime, smtp: tuple[str, Capture],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    url, capture = smtp
    monkeypatch.setattr(rt, "settings", rt.settings.with_(smtp_url=url))
    _, mail_id = open_ticket(rt)
    assert jobs.send_mail(mail_id) == "sent"
    assert jobs.send_mail(mail_id) == "skipped"  # RQ ran it twice: still one email
    assert len(capture.messages) == 1
    with session_scope(rt.engine) as session:
        mail = session.get(OutboundMail, mail_id)
        assert mail and (mail.status, mail.attempts, mail.last_error) == ("sent", 1, None)
        assert capture.messages[0]["Message-ID"] == mail.message_id
    reply_to = capture.messages[0]["Reply-To"].addresses[0]
    assert str(reply_to) == reply_address(rt.settings.support_email_from, mail.ticket_id,
                                          secret_key=rt.settings.secret_key)
    assert re.fullmatch(r"support\+t\d+\.[a-z2-7]{24}", reply_to.username)


def test_smtp_down_records_the_failure_and_raises_for_rqs_retry(rt: Runtime,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rt, "settings", rt.settings.with_(smtp_url=f"smtp://127.0.0.1:{free_port()}"))
    _, mail_id = open_ticket(rt)
    with pytest.raises(MailDeliveryError):
        jobs.send_mail(mail_id)
    with session_scope(rt.engine) as session:
        mail = session.get(OutboundMail, mail_id)
        assert mail and mail.status == "retrying" and mail.attempts == 1
        assert "Connection refused" in (mail.last_error or "")
        mail.attempts = jobs.MAIL_RETRIES + 1  # the last try fails too
        session.add(mail)
    with pytest.raises(MailDeliveryError):
        jobs.send_mail(mail_id)
    with session_scope(rt.engine) as session:
        assert session.exec(select(OutboundMail.status)).one() == "failed"


def test_without_smtp_url_the_email_is_logged_not_sent(rt: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    _, mail_id = open_ticket(rt)
    caplog.set_level("INFO", logger="tickets.mailer")
    assert jobs.send_mail(mail_id) == "logged"
    assert "On 2 March, 49 EUR twice." in caplog.text and "email logged, not sent" in caplog.text


def test_a_notification_stuck_in_sending_is_swept_and_sent_once(
        app: Flask, rt: Runtime, smtp: tuple[str, Capture], redis: Redis,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url, capture = smtp
    monkeypatch.setattr(rt, "settings", rt.settings.with_(smtp_url=url))
    _, mail_id = open_ticket(rt)
    with session_scope(rt.engine) as session:  # a worker claimed it, then died before sending
        mail = session.get(OutboundMail, mail_id)
        assert mail is not None
        mail.status, mail.attempts = "sending", 1
        mail.claimed_at = utcnow() - jobs.STALE_CLAIM - timedelta(seconds=1)
        session.add(mail)
    result = app.test_cli_runner().invoke(args=["tickets", "send-pending"])
    assert "1 emails queued (1 stuck in sending)" in result.output
    worker = SimpleWorker([Queue("mail", connection=redis)], connection=redis)
    assert worker.work(burst=True)
    assert len(capture.messages) == 1
    assert jobs.reclaim_mail(mail_id) == "skipped" and jobs.send_mail(mail_id) == "skipped"
    assert len(capture.messages) == 1
    with session_scope(rt.engine) as session:
        assert session.exec(select(OutboundMail.status)).one() == "sent"


def test_each_send_schedules_a_watchdog_that_resends_only_a_stuck_mail(
        rt: Runtime, smtp: tuple[str, Capture], redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    url, capture = smtp
    monkeypatch.setattr(rt, "settings", rt.settings.with_(smtp_url=url))
    _, mail_id = open_ticket(rt)
    monkeypatch.setattr(jobs.mailer, "send", _dies_mid_send)
    with pytest.raises(SystemExit):
        jobs.send_mail(mail_id)  # the worker dies between claim and send
    monkeypatch.undo()
    monkeypatch.setattr(rt, "settings", rt.settings.with_(smtp_url=url))
    [watchdog] = [Job.fetch(job_id, connection=redis)
                  for job_id in ScheduledJobRegistry("mail", connection=redis).get_job_ids()]
    assert (watchdog.func_name, watchdog.args) == ("tickets.jobs.reclaim_mail", (mail_id,))
    assert jobs.reclaim_mail(mail_id) == "skipped"  # within its lease: the sender may still be at work
    with session_scope(rt.engine) as session:
        mail = session.get(OutboundMail, mail_id)
        assert mail is not None and mail.status == "sending"
        mail.claimed_at = utcnow() - jobs.STALE_CLAIM - timedelta(seconds=1)
        session.add(mail)
    assert jobs.reclaim_mail(mail_id) == "sent"
    assert jobs.reclaim_mail(mail_id) == "skipped"
    assert len(capture.messages) == 1


def _dies_mid_send(*_args: object) -> str:
    raise SystemExit(1)  # not an Exception: like a SIGKILL, nothing records a failure
