"""`POST /email/inbound`, `flask tickets ingest-email` and `flask users create-agent`."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlmodel import select

from app import create_app
from bot.models import Customer
from core import runtime
from core.db import session_scope
from core.runtime import Runtime
from tests.conftest import make_settings
from tickets import service
from tickets.models import Agent, InboundEmail, OutboundMail, TicketReply
from tickets.types import ticket_types

TOKEN = "inbound-token-7f3a9c"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "message/rfc822"}


@pytest.fixture
def app(tmp_path: Path, redis: Redis, redis_url: str):  # type: ignore[no-untyped-def]
    flask_app = create_app(make_settings(tmp_path, redis_url=redis_url, inbound_email_token=TOKEN,
                                         support_email_from="Support <support@example.com>"))
    yield flask_app
    runtime.install(None)
    flask_app.extensions["runtime"].engine.dispose()


@pytest.fixture
def rt(app: Flask) -> Runtime:
    return app.extensions["runtime"]


def ticket_with_notification(rt: Runtime, psid: str = "300") -> tuple[int, str]:
    with session_scope(rt.engine) as session:
        customer = Customer(page_id="1000000001", psid=psid, first_name="Ana")
        session.add(customer)
        session.flush()
        ticket, mail = service.open_ticket(
            session, customer=customer, ticket_type=ticket_types(rt.flows.current)["billing"],
            title="Card charged twice", description="Twice!", source="messenger", locale="en",
            sender="support@example.com")
        assert ticket.id is not None
        return ticket.id, mail.message_id


def reply(*, sender: str = "Eva <eva@example.com>", subject: str = "Re: Card charged twice",
          in_reply_to: str | None = None, message_id: str = "<r1@mail.example.com>",
          body: str = "We refunded you.\n\nOn Mon, Support wrote:\n> Twice!") -> bytes:
    threading = f"In-Reply-To: {in_reply_to}\nReferences: {in_reply_to}\n" if in_reply_to else ""
    return (f"From: {sender}\nTo: support@example.com\nSubject: {subject}\nMessage-ID: {message_id}\n"
            f"{threading}Content-Type: text/plain; charset=utf-8\n\n{body}\n").encode()


def test_a_reply_matched_by_in_reply_to_is_stored_and_queued_for_the_customer(
        client: FlaskClient, rt: Runtime, redis: Redis) -> None:
    ticket_id, notification = ticket_with_notification(rt)
    answer = client.post("/email/inbound", data=reply(in_reply_to=notification), headers=HEADERS)
    assert answer.status_code == 200 and answer.json["status"] == "stored"  # type: ignore[index]
    assert answer.json["ticket"] == ticket_id  # type: ignore[index]
    with session_scope(rt.engine) as session:
        stored = session.exec(select(TicketReply)).one()
    assert (stored.body, stored.author, stored.messenger) == ("We refunded you.", "Eva", "queued")
    assert len(redis.zrange("sd:mb:1000000001:300", 0, -1)) == 1

    again = client.post("/email/inbound", data=reply(in_reply_to=notification), headers=HEADERS)
    assert again.status_code == 200 and again.json["status"] == "duplicate"  # type: ignore[index]
    assert len(redis.zrange("sd:mb:1000000001:300", 0, -1)) == 1  # the mail server retried: still one


def test_a_reply_matched_by_the_ticket_tag_in_the_subject(client: FlaskClient, rt: Runtime) -> None:
    ticket_id, _ = ticket_with_notification(rt)
    answer = client.post("/email/inbound", data=reply(subject=f"RE: [#{ticket_id}] Card"), headers=HEADERS)
    assert answer.status_code == 200 and answer.json["ticket"] == ticket_id  # type: ignore[index]


def test_mail_matching_no_ticket_is_kept_and_answered_404(client: FlaskClient, rt: Runtime,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    ticket_with_notification(rt)
    answer = client.post("/email/inbound", data=reply(subject="Hello [#99999]"), headers=HEADERS)
    assert answer.status_code == 404 and answer.json["status"] == "unmatched"  # type: ignore[index]
    with session_scope(rt.engine) as session:
        kept = session.exec(select(InboundEmail)).one()
        assert session.exec(select(TicketReply)).first() is None
    assert kept.reason == "unmatched" and b"We refunded you." in kept.raw
    assert "kept unassigned: unmatched" in caplog.text


def test_strangers_cannot_answer_a_customer_and_auto_replies_are_ignored(
        client: FlaskClient, rt: Runtime) -> None:
    ticket_id, notification = ticket_with_notification(rt)
    stranger = client.post("/email/inbound", headers=HEADERS,
                           data=reply(sender="x@evil.example", in_reply_to=notification))
    assert stranger.status_code == 403
    auto = reply(in_reply_to=notification).replace(b"Subject:", b"Auto-Submitted: auto-replied\nSubject:")
    assert client.post("/email/inbound", data=auto, headers=HEADERS).status_code == 202
    with session_scope(rt.engine) as session:
        assert session.exec(select(TicketReply)).first() is None
        session.add(Agent(email="freelancer@gmail.com", name="Fran", password_hash="x"))
    agent = client.post("/email/inbound", headers=HEADERS, data=reply(
        sender="freelancer@gmail.com", in_reply_to=notification, message_id="<r2@gmail.com>"))
    assert agent.status_code == 200 and agent.json["ticket"] == ticket_id  # type: ignore[index]


def test_the_endpoint_needs_its_token_and_readable_mail(client: FlaskClient, rt: Runtime) -> None:
    _, notification = ticket_with_notification(rt)
    body = reply(in_reply_to=notification)
    assert client.post("/email/inbound", data=body).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert client.post("/email/inbound", data=body, headers=wrong).status_code == 401
    assert client.post("/email/inbound", data=b"\x00\x01 not mail", headers=HEADERS).status_code == 400
    only_quote = reply(in_reply_to=notification, body="On Mon, Support wrote:\n> Twice!")
    assert client.post("/email/inbound", data=only_quote, headers=HEADERS).status_code == 400
    too_big = b"From: a@example.com\n\n" + b"x" * (10 * 1024 * 1024 + 1)
    assert client.post("/email/inbound", data=too_big, headers=HEADERS).status_code == 413


def test_without_a_configured_token_the_endpoint_refuses_everyone(client: FlaskClient, rt: Runtime,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rt, "settings", rt.settings.with_(inbound_email_token=None))
    answer = client.post("/email/inbound", data=reply(), headers={"Authorization": "Bearer "})
    assert answer.status_code == 401


def test_ingest_email_cli_for_a_mail_servers_pipe(app: Flask, rt: Runtime, tmp_path: Path) -> None:
    ticket_id, notification = ticket_with_notification(rt)
    runner = app.test_cli_runner()
    path = tmp_path / "reply.eml"
    path.write_bytes(reply(in_reply_to=notification))
    stored = runner.invoke(args=["tickets", "ingest-email", str(path)])
    assert stored.exit_code == 0 and f"stored: ticket {ticket_id}" in stored.output
    unmatched = runner.invoke(args=["tickets", "ingest-email", "-"],
                              input=reply(subject="nothing", message_id="<r9@x.example.com>"))
    assert unmatched.exit_code == 67
    assert runner.invoke(args=["tickets", "ingest-email", "-"], input=b"garbage").exit_code == 65


def test_create_agent_cli(app: Flask, rt: Runtime) -> None:
    runner = app.test_cli_runner()
    made = runner.invoke(args=["users", "create-agent", "Eva@Example.com", "--name", "Eva"],
                         input="a long enough password\na long enough password\n")
    assert made.exit_code == 0, made.output
    assert runner.invoke(args=["users", "create-agent", "eva@example.com", "--name", "Eva",
                               "--password", "another long one"]).exit_code == 1
    assert runner.invoke(args=["users", "create-agent", "bo@example.com", "--name", "Bo", "--admin",
                               "--password", "short"]).exit_code == 2
    with session_scope(rt.engine) as session:
        agent = session.exec(select(Agent)).one()
    assert (agent.email, agent.role) == ("eva@example.com", "agent")
    assert "long enough" not in agent.password_hash


def test_send_pending_cli_queues_unsent_mail_again(app: Flask, rt: Runtime, redis: Redis) -> None:
    ticket_with_notification(rt)
    with session_scope(rt.engine) as session:
        assert session.exec(select(OutboundMail.status)).one() == "pending"
    result = app.test_cli_runner().invoke(args=["tickets", "send-pending"])
    assert "1 emails queued" in result.output
    assert redis.llen("rq:queue:mail") == 1
