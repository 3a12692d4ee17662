"""The SMTP relay is down when a ticket's notification is due: the mail job
fails visibly (`flask jobs failed`, with the relay's refusal), and once the
relay is back a retry sends the email exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from redis import Redis
from rq import Queue, SimpleWorker

from bot.models import Customer
from core import runtime
from core.db import session_scope
from tests.conftest import make_settings
from tests.support.servers import free_port
from tests.support.smtp import CapturedMail
from tickets import jobs, service
from tickets.types import ticket_types

Inbox = CapturedMail


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def desk_app(tmp_path: Path, redis: Redis, redis_url: str, smtp_port: int) -> Iterator[Flask]:
    from app import create_app

    app = create_app(make_settings(tmp_path, redis_url=redis_url, smtp_url=f"smtp://127.0.0.1:{smtp_port}"))
    yield app
    runtime.install(None)


def open_ticket(app: Flask) -> int:
    rt = app.extensions["runtime"]
    with session_scope(rt.engine) as session:
        customer = Customer(page_id="1000000001", psid="9900", first_name="Ana")
        session.add(customer)
        session.flush()
        _ticket, mail = service.open_ticket(
            session, customer=customer, ticket_type=ticket_types(rt.flows.current)["billing"],
            title="Card charged twice", description="49 EUR twice.", source="messenger",
            locale="en", sender="Support Desk <support@example.com>")
        assert mail.id is not None
        return mail.id


def run_mail_worker(redis: Redis) -> None:
    SimpleWorker([Queue("mail", connection=redis)], connection=redis).work(burst=True)


def test_smtp_down_then_up_the_ticket_email_goes_out_once(
        desk_app: Flask, redis: Redis, smtp_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "MAIL_RETRIES", 0)  # RQ's retries, 5 s apart, run out at once
    mail_id = open_ticket(desk_app)
    jobs.enqueue_mails(desk_app.extensions["runtime"], [mail_id])
    run_mail_worker(redis)  # the relay is down
    cli = desk_app.test_cli_runner()
    listed = cli.invoke(args=["jobs", "failed"]).output
    assert "queue mail" in listed and f"tickets.jobs.send_mail({mail_id})" in listed
    assert "Connection refused" in listed

    inbox = Inbox()
    relay = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    relay.start()  # the relay is back
    try:
        assert cli.invoke(args=["jobs", "retry", "--all"]).exit_code == 0
        run_mail_worker(redis)
        assert jobs.send_mail(mail_id) == "skipped"  # a duplicate run sends nothing
        run_mail_worker(redis)
    finally:
        relay.stop()
    assert len(inbox.messages) == 1
    assert inbox.messages[0]["Subject"].endswith("Card charged twice")
    assert cli.invoke(args=["jobs", "failed"]).output == "No failed jobs or events.\n"
