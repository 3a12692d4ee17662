"""`POST /email/inbound`, `flask tickets ingest-email` and `flask users create-agent`."""

from __future__ import annotations

import re
from email.utils import parseaddr
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
from tickets.reply_address import reply_address
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


def test_a_forged_ticket_tag_from_the_mailbox_domain_is_kept_unmatched_never_relayed(
        app: Flask, client: FlaskClient, rt: Runtime, redis: Redis) -> None:
    ticket_id, _ = ticket_with_notification(rt)
    forged = reply(sender="Billing <billing@example.com>", subject=f"RE: [#{ticket_id}] Card")
    answer = client.post("/email/inbound", data=forged, headers=HEADERS)
    assert answer.status_code == 404 and answer.json["status"] == "unmatched"  # type: ignore[index]
    with session_scope(rt.engine) as session:
        assert session.exec(select(TicketReply)).first() is None
        kept = session.exec(select(InboundEmail)).one()
    assert (kept.reason, kept.sender) == ("unmatched", "billing@example.com")
    assert redis.zrange("sd:mb:1000000001:300", 0, -1) == []  # nothing on its way to the customer
    listed = app.test_cli_runner().invoke(args=["tickets", "unmatched"])
    assert listed.exit_code == 0 and f"[#{ticket_id}] Card" in listed.output
    assert "unmatched\tbilling@example.com" in listed.output


def test_a_colleagues_reply_from_any_address_with_our_in_reply_to_is_relayed(
        client: FlaskClient, rt: Runtime, redis: Redis) -> None:
    ticket_id, notification = ticket_with_notification(rt)
    colleague = reply(sender="Sam <sam.private@gmail.com>", in_reply_to=notification,
                      message_id="<r2@gmail.com>")
    answer = client.post("/email/inbound", data=colleague, headers=HEADERS)
    assert answer.status_code == 200 and answer.json["ticket"] == ticket_id  # type: ignore[index]
    assert len(redis.zrange("sd:mb:1000000001:300", 0, -1)) == 1


def addressed(to: str, *, headers: str = "", message_id: str = "<r3@mail.example.com>") -> bytes:
    return (f"From: Eva <eva@elsewhere.example>\nTo: {to}\n{headers}Subject: Re: your refund\n"
            f"Message-ID: {message_id}\nContent-Type: text/plain\n\nWe refunded you.\n").encode()


def test_a_mail_to_the_tickets_signed_reply_address_is_relayed(client: FlaskClient, rt: Runtime,
                                                                redis: Redis) -> None:
    ticket_id, _ = ticket_with_notification(rt)
    address = reply_address("Support <support@example.com>", ticket_id, secret_key=rt.settings.secret_key)
    answer = client.post("/email/inbound", data=addressed(address), headers=HEADERS)
    assert answer.status_code == 200 and answer.json["ticket"] == ticket_id  # type: ignore[index]
    # Sent Bcc, or forwarded: only the receiving mail server's Delivered-To names it.
    bare = parseaddr(address)[1]
    blind = addressed("someone@example.net", headers=f"Delivered-To: {bare.upper()}\n",
                      message_id="<r4@mail.example.com>")
    assert client.post("/email/inbound", data=blind, headers=HEADERS).json["ticket"] == ticket_id  # type: ignore[index]
    assert len(redis.zrange("sd:mb:1000000001:300", 0, -1)) == 2


def test_a_tampered_or_guessed_reply_address_is_kept_unmatched(client: FlaskClient, rt: Runtime) -> None:
    ticket_id, _ = ticket_with_notification(rt)
    other_id, _ = ticket_with_notification(rt, psid="301")
    genuine = parseaddr(reply_address("support@example.com", other_id, secret_key=rt.settings.secret_key))[1]
    token = genuine.split(".", 1)[1].split("@")[0]
    for n, forged in enumerate([f"support+t{ticket_id}.{token}@example.com",  # another ticket's token
                                genuine.replace(token, token[:-1] + ("a" if token[-1] != "a" else "b")),
                                f"support+t{ticket_id}.aaaaaaaaaaaaaaaaaaaaaaaa@example.com"]):
        answer = client.post("/email/inbound", data=addressed(forged, message_id=f"<f{n}@x.example>"),
                             headers=HEADERS)
        assert answer.status_code == 404, forged
    with session_scope(rt.engine) as session:
        assert session.exec(select(TicketReply)).first() is None
        reasons = session.exec(select(InboundEmail.reason)).all()
    assert reasons == ["bad_reply_address"] * 3


def test_auto_replies_are_kept_never_relayed(client: FlaskClient, rt: Runtime) -> None:
    _, notification = ticket_with_notification(rt)
    auto = reply(in_reply_to=notification).replace(b"Subject:", b"Auto-Submitted: auto-replied\nSubject:")
    assert client.post("/email/inbound", data=auto, headers=HEADERS).status_code == 202
    with session_scope(rt.engine) as session:
        assert session.exec(select(TicketReply)).first() is None
        assert session.exec(select(InboundEmail.reason)).one() == "automatic"


@pytest.mark.parametrize("message_id", ["<r7@mail.example.com>", None])
def test_a_redelivered_mail_is_stored_once_with_or_without_message_id(
        client: FlaskClient, rt: Runtime, redis: Redis, message_id: str | None) -> None:
    _, notification = ticket_with_notification(rt)

    def without_id(raw: bytes) -> bytes:
        return raw if message_id else re.sub(rb"Message-ID: [^\n]*\n", b"", raw)

    matched = without_id(reply(in_reply_to=notification, message_id=message_id or "<x@x>"))
    unmatched = without_id(reply(subject="Hello", message_id=message_id or "<x@x>").replace(b"7@", b"8@"))
    for relay in range(3):  # with a Message-ID, each relay's own trace header does not matter
        trace = f"Received: from relay{relay}.example.net\n".encode() if message_id else b""
        assert client.post("/email/inbound", data=trace + matched, headers=HEADERS).status_code == 200
        again = client.post("/email/inbound", data=trace + unmatched, headers=HEADERS)
        assert again.status_code in (200, 404)
    with session_scope(rt.engine) as session:
        assert len(session.exec(select(TicketReply)).all()) == 1
        assert len(session.exec(select(InboundEmail)).all()) == 1
    assert len(redis.zrange("sd:mb:1000000001:300", 0, -1)) == 1


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
