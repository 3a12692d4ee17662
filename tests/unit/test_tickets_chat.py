"""Email Support in Messenger, turn by turn through the real pipeline
(`bot.processing.handle_event`: decide in one transaction, then the outbox)
against the Graph API stand-in, which checks every Send API body like Facebook
and enforces the messaging window on its own clock."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from redis import Redis
from rq import Queue
from sqlmodel import select

from attachments.queries import of_ticket
from bot import decisions
from bot.models import Customer
from bot.processing import handle_event
from config.settings import Settings
from core.db import session_scope
from core.mailbox import Queued
from core.runtime import Runtime
from messenger.events import parse_payload
from messenger.standin import Standin, serve_standin
from tests.conftest import make_settings
from tests.support import payloads as p
from tickets import links
from tickets.models import OutboundMail, Ticket, TicketReply
from tickets.notify import REPLY_EVENT

HOUR = 3600.0


class Clock:
    """The stand-in's clock: `ago` moves it back, so a customer spoke that long ago."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() - self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def standin(clock: Clock) -> Iterator[tuple[Standin, str]]:
    fake = Standin(page_id=p.PAGE_ID, app_id=p.APP_ID, app_secret=p.APP_SECRET,
                   access_token=p.ACCESS_TOKEN, clock=clock)
    server, url = serve_standin(fake)
    yield fake, url
    fake.close()
    server.shutdown()


@pytest.fixture
def settings(tmp_path: Path, redis: Redis, redis_url: str, standin: tuple[Standin, str]) -> Settings:
    return make_settings(tmp_path, redis_url=redis_url, graph_api_url=standin[1],
                         public_url="https://desk.example.com")


class Desk:
    """Customers talking to the bot; each call returns what the bot sent back."""

    def __init__(self, rt: Runtime, fake: Standin, clock: Clock) -> None:
        self.rt, self.fake, self.clock = rt, fake, clock

    def says(self, psid: str, text: str | None = None, *, quick_reply: str | None = None,
             postback: str | None = None, hours_ago: float = 0) -> list[dict[str, Any]]:
        before = len(self.fake.sent(psid))
        self.clock.offset = hours_ago * HOUR
        self.fake.customer_says(psid, text, quick_reply=quick_reply, postback=postback)
        self.clock.offset = 0
        _, events = parse_payload(self.fake.webhooks[-1])
        for incoming in events:
            body = json.loads(incoming.body)
            self.handle(Queued(f"{incoming.page_id}:{incoming.psid}", incoming.key, body["channel"],
                               body["kind"], body["event"]))
        return self.fake.sent(psid)[before:]

    def reply_arrives(self, psid: str, reply_id: int) -> list[dict[str, Any]]:
        """What `tickets.notify.push_reply` queues, handled as the drain would."""
        before = len(self.fake.sent(psid))
        event = {"sender": {"id": psid}, "recipient": {"id": p.PAGE_ID},
                 "timestamp": int(time.time() * 1000), REPLY_EVENT: {"reply_id": reply_id}}
        self.handle(Queued(f"{p.PAGE_ID}:{psid}", f"r{reply_id}", "messaging", REPLY_EVENT, event))
        return self.fake.sent(psid)[before:]

    def handle(self, item: Queued) -> None:
        handle_event(self.rt, item)

    def tickets(self) -> list[Ticket]:
        with session_scope(self.rt.engine) as session:
            return list(session.exec(select(Ticket).order_by(Ticket.id)).all())  # type: ignore[arg-type]

    def reply(self, ticket_id: int, body: str = "We refunded you.") -> int:
        from tickets.service import add_agent_reply

        with session_scope(self.rt.engine) as session:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            reply = add_agent_reply(session, ticket, author="Eva", body=body, source="email")
            assert reply.id is not None
            return reply.id

    def messenger_state(self, reply_id: int) -> str | None:
        with session_scope(self.rt.engine) as session:
            reply = session.get(TicketReply, reply_id)
            assert reply is not None
            return reply.messenger


@pytest.fixture
def desk(app: Flask, standin: tuple[Standin, str], clock: Clock) -> Desk:
    return Desk(app.extensions["runtime"], standin[0], clock)


def text(body: dict[str, Any]) -> str:
    message = body["message"]
    return message.get("text") or message["attachment"]["payload"]["text"]


def chips(body: dict[str, Any]) -> list[str]:
    return [q["title"] for q in body["message"].get("quick_replies", [])]


def buttons(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["message"]["attachment"]["payload"]["buttons"]


def open_ticket(desk: Desk, psid: str, **when: float) -> Ticket:
    desk.fake.add_user(psid, first_name="Ana")
    desk.says(psid, "Email Support", quick_reply="flow:email_support", **when)
    desk.says(psid, "Card charged twice", **when)
    desk.says(psid, "Billing", quick_reply="ticket:type:billing", **when)
    desk.says(psid, "I paid 49 EUR twice on 2 March.", **when)
    return desk.tickets()[-1]


def test_the_wizard_asks_title_type_description_and_opens_the_ticket(desk: Desk, redis: Redis) -> None:
    desk.fake.add_user("10", first_name="Ana")
    desk.says("10", "hi")
    asked = desk.says("10", "Email Support", quick_reply="flow:email_support")
    assert "short title" in text(asked[-1])
    types = desk.says("10", "  Card charged twice ")[-1]
    assert chips(types) == ["Billing", "Technical", "Other query", "Cancel"]
    assert "describe" in text(desk.says("10", "Billing", quick_reply="ticket:type:billing")[-1])
    done = desk.says("10", "I paid 49 EUR twice on 2 March.")[-1]

    [ticket] = desk.tickets()
    assert (ticket.title, ticket.type_id, ticket.status, ticket.created_by) == (
        "Card charged twice", "billing", "open", "Ana")
    assert ticket.description == "I paid 49 EUR twice on 2 March."
    assert "customer: hi" in ticket.transcript and "Card charged twice" in ticket.transcript
    assert f"#{ticket.id}" in text(done) and "Billing" in chips(done)
    [view] = buttons(done)
    token = view["url"].removeprefix("https://desk.example.com/login?token=")
    claims = links.read_link(desk.rt.settings.secret_key, token)
    assert claims.next_path == f"/tickets/{ticket.id}"
    with session_scope(desk.rt.engine) as session:
        mail = session.exec(select(OutboundMail)).one()
    assert (mail.kind, mail.to_addr, mail.status) == ("new_ticket", "billing@example.com", "pending")
    assert Queue("mail", connection=redis).count == 1


@pytest.mark.parametrize("cancel_at", [1, 2, 3])
def test_cancel_at_any_step_leaves_without_a_ticket(desk: Desk, cancel_at: int) -> None:
    desk.fake.add_user("11", locale="es_ES")
    steps = [("Soporte por email", "flow:email_support"), ("Me cobraron dos veces", None),
             ("Facturación", "ticket:type:billing")]
    for words, payload in steps[:cancel_at]:
        desk.says("11", words, quick_reply=payload)
    left = desk.says("11", "CANCELAR")[-1]
    assert "no se ha abierto" in text(left) and "Facturación" in chips(left)
    assert desk.tickets() == []
    assert "Perdona" in text(desk.says("11", "Me cobraron dos veces")[-1])  # the wizard is gone


def test_empty_and_too_long_answers_are_asked_again(desk: Desk) -> None:
    desk.fake.add_user("12")
    desk.says("12", "open a ticket")
    again = desk.says("12", "x" * 121)
    assert "121 characters" in text(again[0]) and "short title" in text(again[-1])
    desk.says("12", "Login broken")
    assert chips(desk.says("12", "a banana")[-1])[-1] == "Cancel"  # not a type: the choices again
    assert "describe" in text(desk.says("12", "técnico")[-1])  # typed, accents and case ignored
    long = desk.says("12", "y" * 2001)
    assert "2001 characters" in text(long[0]) and desk.tickets() == []
    desk.says("12", "It says error 500.")
    assert desk.tickets()[0].type_id == "technical"


def test_an_attachment_is_taken_at_any_step_and_goes_with_the_ticket(desk: Desk) -> None:
    desk.fake.add_user("13")
    desk.says("13", "ticket")
    for step in ("title", "type", "description"):
        desk.fake.customer_says("13", attachments=[
            {"type": "image", "payload": {"url": f"https://scontent.xx.fbcdn.net/{step}.png"}}])
        _, events = parse_payload(desk.fake.webhooks[-1])
        body = json.loads(events[0].body)
        before = len(desk.fake.sent("13"))
        desk.handle(Queued(f"{p.PAGE_ID}:13", events[0].key, body["channel"], body["kind"], body["event"]))
        acknowledged, asked = desk.fake.sent("13")[before:]
        assert "1 file(s) will go with your ticket" in text(acknowledged)
        assert {"title": "short title", "type": "type of question",
                "description": "describe"}[step] in text(asked)
        answer = {"title": ("Broken", None), "type": ("Billing", "ticket:type:billing"),
                  "description": ("It broke.", None)}[step]
        desk.says("13", answer[0], quick_reply=answer[1])
    [ticket] = desk.tickets()
    with session_scope(desk.rt.engine) as session:
        files = of_ticket(session, ticket.id)  # type: ignore[arg-type]
    assert [f.name for f in files] == ["title.png", "type.png", "description.png"]
    assert {f.status for f in files} == {"pending"}  # fetched by a job of its own, later


def test_another_menu_choice_leaves_the_wizard(desk: Desk) -> None:
    desk.fake.add_user("14")
    desk.says("14", "ticket")
    answer = desk.says("14", "Billing", quick_reply="flow:billing")
    assert "billing portal" in text(answer[0]).lower()
    assert "Perdona" not in text(answer[0]) and desk.tickets() == []


def test_a_crash_before_the_turn_commits_still_opens_one_ticket(desk: Desk,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    desk.fake.add_user("15")
    for words, payload in [("ticket", None), ("Refund", None), ("Other", "ticket:type:other")]:
        desk.says("15", words, quick_reply=payload)
    desk.fake.customer_says("15", "Please refund me")
    _, events = parse_payload(desk.fake.webhooks[-1])
    body = json.loads(events[0].body)
    item = Queued(f"{p.PAGE_ID}:15", events[0].key, body["channel"], body["kind"], body["event"])

    def crash(*_args: object) -> None:
        raise RuntimeError("worker died before the turn committed")

    monkeypatch.setattr(decisions._Rows, "flush", crash)
    with pytest.raises(RuntimeError):
        desk.handle(item)
    monkeypatch.undo()
    desk.handle(item)  # the retry decides the turn again
    desk.handle(item)  # and a redelivery to the worker is skipped
    [ticket] = desk.tickets()
    assert sum(f"#{ticket.id}" in text(b) for b in desk.fake.sent("15")) == 1
    with session_scope(desk.rt.engine) as session:
        assert len(session.exec(select(OutboundMail)).all()) == 1


def test_my_tickets_sends_a_sign_in_link(desk: Desk) -> None:
    desk.fake.add_user("16", locale="es_LA")
    link = desk.says("16", "mis tickets")[-1]
    [button] = buttons(link)
    assert button["title"] == "Mis tickets" and "una vez" in text(link)
    claims = links.read_link(desk.rt.settings.secret_key, button["url"].split("token=")[1])
    with session_scope(desk.rt.engine) as session:
        customer = session.exec(select(Customer).where(Customer.psid == "16")).one()
    assert (claims.customer_id, claims.next_path) == (customer.id, "/tickets")


def test_an_agent_reply_inside_24_hours_is_a_response_with_resolve(desk: Desk) -> None:
    ticket = open_ticket(desk, "20")
    assert ticket.id is not None
    reply_id = desk.reply(ticket.id, "We refunded the second charge.")
    [sent] = desk.reply_arrives("20", reply_id)
    assert sent["messaging_type"] == "RESPONSE" and "tag" not in sent
    assert "We refunded the second charge." in text(sent) and f"#{ticket.id}" in text(sent)
    assert chips(sent) == [f"Resolve #{ticket.id}"]
    assert desk.messenger_state(reply_id) == "sent"
    assert desk.reply_arrives("20", reply_id) == []  # the same reply again: nothing more

    resolved = desk.says("20", f"Resolve #{ticket.id}", quick_reply=f"ticket:resolve:{ticket.id}")
    assert "resolved" in text(resolved[-1])
    assert desk.tickets()[0].status == "resolved"
    with session_scope(desk.rt.engine) as session:
        kinds = [m.kind for m in session.exec(select(OutboundMail).order_by(OutboundMail.id)).all()]  # type: ignore[arg-type]
    assert kinds == ["new_ticket", "resolved"]


def test_after_24_hours_a_reply_goes_with_the_human_agent_tag(desk: Desk) -> None:
    ticket = open_ticket(desk, "21", hours_ago=30)
    assert ticket.id is not None
    reply_id = desk.reply(ticket.id)
    [sent] = desk.reply_arrives("21", reply_id)
    assert (sent["messaging_type"], sent["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert desk.messenger_state(reply_id) == "sent_tagged"


def test_after_7_days_a_reply_waits_for_the_customers_next_message(desk: Desk) -> None:
    ticket = open_ticket(desk, "22", hours_ago=8 * 24)
    assert ticket.id is not None
    reply_id = desk.reply(ticket.id, "Sorry for the wait: refunded.")
    assert desk.reply_arrives("22", reply_id) == []
    assert desk.messenger_state(reply_id) == "waiting"
    answer = desk.says("22", "billing")
    assert "Sorry for the wait: refunded." in text(answer[0])
    actions = buttons(answer[1])
    assert [b["title"] for b in actions] == ["Resolve", "View ticket"]
    assert actions[0]["payload"] == f"ticket:resolve:{ticket.id}"
    assert "billing portal" in text(answer[2]).lower()  # then the answer to what they asked
    assert desk.messenger_state(reply_id) == "delivered"
    assert not any("refunded" in text(b) for b in desk.says("22", "hours"))


def test_a_reply_refused_for_the_window_waits_instead(desk: Desk) -> None:
    ticket = open_ticket(desk, "23")
    assert ticket.id is not None
    reply_id = desk.reply(ticket.id)
    desk.fake.fail_next(1, code=10, subcode=2018278)
    assert desk.reply_arrives("23", reply_id) == []
    assert desk.messenger_state(reply_id) == "waiting"


def test_a_customer_cannot_resolve_someone_elses_ticket(desk: Desk) -> None:
    ticket = open_ticket(desk, "24")
    desk.fake.add_user("25")
    answer = desk.says("25", "Resolve", quick_reply=f"ticket:resolve:{ticket.id}")
    assert "can't find" in text(answer[-1]) and desk.tickets()[0].status == "open"


def test_while_an_agent_has_the_chat_replies_wait_and_come_after(desk: Desk) -> None:
    ticket = open_ticket(desk, "26")
    assert ticket.id is not None
    desk.says("26", "Live Agent Request", quick_reply="flow:live_agent")
    assert desk.fake.owner("26") == desk.fake.inbox_app_id
    reply_id = desk.reply(ticket.id, "Answer by email.")
    assert desk.reply_arrives("26", reply_id) == []  # a person has the chat: the bot is silent
    desk.fake.agent_done("26")
    _, events = parse_payload(desk.fake.webhooks[-1])
    body = json.loads(events[0].body)
    desk.handle(Queued(f"{p.PAGE_ID}:26", events[0].key, body["channel"], body["kind"], body["event"]))
    later = desk.says("26", "hours")
    assert any("Answer by email." in text(b) for b in later)
    assert desk.messenger_state(reply_id) == "delivered"


def test_a_reply_whose_event_was_never_queued_goes_out_with_the_next_message(desk: Desk) -> None:
    """The agent's reply was stored but its event never reached the mailbox (the web
    process died between the two): the customer's next message still brings it."""
    ticket = open_ticket(desk, "27")
    assert ticket.id is not None
    assert not any("Checked:" in text(b) for b in desk.says("27", "hours"))  # none waiting yet
    reply_id = desk.reply(ticket.id, "Checked: refunded.")
    answer = desk.says("27", "billing")
    assert "Checked: refunded." in text(answer[0])
    assert [b["title"] for b in buttons(answer[1])] == ["Resolve", "View ticket"]
    assert desk.messenger_state(reply_id) == "delivered"
    assert desk.reply_arrives("27", reply_id) == []  # its event, late: nothing more
    assert not any("Checked:" in text(b) for b in desk.says("27", "hours"))
