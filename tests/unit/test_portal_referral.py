"""The web's chat links carry `ref=my-tickets`: the bot answers that ref, on an existing
thread (a `referral` event) or a new one (Get Started carrying the referral), with the
customer's own sign-in link, through the real pipeline against the stand-in."""

from __future__ import annotations

import copy
import json
from typing import Any

from sqlmodel import select

from bot.models import Customer
from core.db import session_scope
from core.mailbox import Queued
from messenger.events import parse_payload
from tests.unit import test_tickets_chat as chat
from tests.unit.test_tickets_chat import Desk, buttons, text
from tickets import links
from tickets.referral import MY_TICKETS_REF, ref_of

# the ticket chat tests' stand-in, settings and desk
clock, standin, settings, desk = chat.clock, chat.standin, chat.settings, chat.desk


def deliver(desk: Desk, payload: dict[str, Any], psid: str) -> list[dict[str, Any]]:
    """A webhook payload handled as the worker would; what the bot sent back."""
    before = len(desk.fake.sent(psid))
    _, events = parse_payload(payload)
    for incoming in events:
        body = json.loads(incoming.body)
        desk.handle(Queued(f"{incoming.page_id}:{incoming.psid}", incoming.key, body["channel"],
                           body["kind"], body["event"]))
    return desk.fake.sent(psid)[before:]


def get_started(desk: Desk, psid: str, ref: str) -> dict[str, Any]:
    """The customer opens the Page's m.me link with `ref` (a new thread: Get Started
    carrying the referral; an open one: the referral event); the webhook as sent."""
    desk.fake.graph(lambda page, now: page.set_messenger_profile(
        {"get_started": {"payload": "GET_STARTED"}}))
    desk.fake.customer_opens_link(psid, ref)
    return copy.deepcopy(desk.fake.webhooks[-1])


def customer_id(desk: Desk, psid: str) -> int:
    with session_scope(desk.rt.engine) as session:
        customer = session.exec(select(Customer).where(Customer.psid == psid)).one()
    assert customer.id is not None
    return customer.id


def signed_for(desk: Desk, message: dict[str, Any]) -> links.LinkClaims:
    [button] = buttons(message)
    return links.read_link(desk.rt.settings.secret_key, button["url"].split("token=")[1])


def test_a_new_thread_from_the_web_link_gets_the_sign_in_link(desk: Desk) -> None:
    desk.fake.add_user("31", first_name="Ana", locale="es_ES")
    payload = get_started(desk, "31", MY_TICKETS_REF)
    assert payload["entry"][0]["messaging"][0]["postback"]["payload"] == "GET_STARTED"
    sent = deliver(desk, payload, "31")
    assert len(sent) == 1 and "Funciona una vez" in text(sent[0])
    claims = signed_for(desk, sent[0])
    assert (claims.customer_id, claims.next_path) == (customer_id(desk, "31"), "/tickets")


def test_an_existing_thread_opened_from_the_link_gets_the_sign_in_link(desk: Desk) -> None:
    desk.fake.add_user("32", first_name="Ana")
    desk.says("32", "hi")
    before = len(desk.fake.sent("32"))
    referral = desk.fake.customer_follows_link("32", ref=MY_TICKETS_REF)
    _, events = parse_payload(desk.fake.webhooks[-1])
    [incoming] = events
    body = json.loads(incoming.body)
    desk.handle(Queued(f"{incoming.page_id}:{incoming.psid}", incoming.key, body["channel"],
                       body["kind"], body["event"]))
    [sent] = desk.fake.sent("32")[before:]
    assert referral["referral"]["ref"] == MY_TICKETS_REF
    assert "works once" in text(sent)
    assert signed_for(desk, sent).customer_id == customer_id(desk, "32")


def test_any_other_ref_is_only_a_greeting(desk: Desk) -> None:
    desk.fake.add_user("33", first_name="Ana")
    for ref in ("my-tickets;c=1", "MY-TICKETS", "/tickets/1", "x" * 300):
        sent = deliver(desk, get_started(desk, "33", ref), "33")
        assert all("token=" not in json.dumps(body) for body in sent)
        assert "Ana" in text(sent[0])  # the greeting, as for any Get Started


def test_the_ref_never_signs_for_another_customer(desk: Desk) -> None:
    """Whatever else the link's event carries, the link is the webhook sender's."""
    desk.fake.add_user("34", first_name="Ana")
    desk.fake.add_user("35", first_name="Bea")
    deliver(desk, get_started(desk, "35", "hello"), "35")
    event = get_started(desk, "34", MY_TICKETS_REF)
    event["entry"][0]["messaging"][0]["postback"]["referral"]["customer"] = customer_id(desk, "35")
    [sent] = deliver(desk, event, "34")
    assert signed_for(desk, sent).customer_id == customer_id(desk, "34")


def test_ref_of_reads_only_string_refs() -> None:
    assert ref_of({"referral": {"ref": "my-tickets"}}) == "my-tickets"
    assert ref_of({"postback": {"payload": "GET_STARTED", "referral": {"ref": "a"}}}) == "a"
    assert ref_of({"referral": {"ref": 5}}) is None
    assert ref_of({"postback": "x"}) is None and ref_of({}) is None


def test_an_ig_me_link_with_the_ref_gets_the_sign_in_link_on_instagram() -> None:
    """ig.me/m/<account>?ref=my-tickets: Instagram's referral, answered within its limits."""
    from bot.flows import load_flows
    from tests.unit import test_instagram_turns as ig_turns

    flows = load_flows(ig_turns.ROOT / "config" / "flows.yaml")
    event = {"sender": {"id": "9001"}, "recipient": {"id": ig_turns.ig.IG_ID}, "timestamp": 1,
             "referral": {"ref": MY_TICKETS_REF, "source": "IGME", "type": "OPEN_THREAD"}}
    done = ig_turns.turn(flows, ig_turns.customer(username="ana.silva"), event, kind="referral")
    [(kind, body)] = done.calls
    [button] = body["message"]["attachment"]["payload"]["buttons"]
    assert kind == "send" and "/login?token=" in button["url"]
    ig_turns.assert_instagram_takes(done)
