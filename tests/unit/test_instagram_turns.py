"""What an Instagram customer gets from the bot, turn by turn (the decided calls are read
back; no Graph call is made): greeted by username in the flows' language, handed to
Instagram's inbox, every message within Instagram's limits."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.conversation import handle_turn
from bot.flows import Flows, load_flows
from bot.models import Customer
from bot.turn import Turn
from config.pages import INSTAGRAM_INBOX_APP_ID, Account, Page
from config.settings import Settings
from core.mailbox import Queued
from messenger.standin.instagram import instagram_send_body
from messenger.standin.validate import send_body
from tests.support import ig_payloads as ig

ROOT = Path(__file__).resolve().parents[2]
PAGE = Page("1001", "Shop", "EAA-token", "SHOP_TOKEN", str(ROOT / "config" / "flows.yaml"),
            instagram_id=ig.IG_ID)
ACCOUNT = Account(ig.IG_ID, "instagram", PAGE, INSTAGRAM_INBOX_APP_ID)
SETTINGS = Settings(messenger_app_id="2000000002")


@pytest.fixture(scope="module")
def flows() -> Flows:
    return load_flows(ROOT / "config" / "flows.yaml")


def turn(flows: Flows, customer: Customer, event: dict[str, Any], kind: str = "message",
         account: Account = ACCOUNT) -> Turn:
    item = Queued(f"{ig.IG_ID}:{customer.psid}", "m", "messaging", kind, event)
    done = Turn(customer, flows, item, SETTINGS, account)
    handle_turn(done)
    return done


def customer(**fields: Any) -> Customer:
    return Customer(id=1, page_id=ig.IG_ID, psid="9001", channel="instagram",
                    profile_checked=True, **fields)


def texts(done: Turn) -> list[str]:
    return [body["message"].get("text") or body["message"]["attachment"]["payload"]["text"]
            for kind, body in done.calls if kind == "send"]


def assert_instagram_takes(done: Turn) -> None:
    for kind, body in done.calls:
        if kind == "send":
            full = {"recipient": {"id": "9001"}, **body}
            assert send_body(full) is None and instagram_send_body(full) is None, body


def test_first_contact_greets_by_username_in_the_flows_default_language(flows: Flows) -> None:
    done = turn(flows, customer(username="ana.silva"), ig.text("9001", "hello"))
    assert texts(done)[0].startswith("Hi @ana.silva!") and done.state["greeted"]
    assert_instagram_takes(done)


def test_without_a_username_the_greeting_has_no_name(flows: Flows) -> None:
    assert texts(turn(flows, customer(), ig.text("9001", "hello")))[0].startswith("Hi! ")


def test_the_customers_choice_of_language_wins(flows: Flows) -> None:
    chosen = customer(username="ana.silva", state={"greeted": True, "locale": "es"})
    assert "Elige un tema" in texts(turn(flows, chosen, ig.text("9001", "zzz")))[-1]


def test_live_agent_request_passes_to_the_instagram_inbox(flows: Flows) -> None:
    done = turn(flows, customer(username="ana.silva", state={"greeted": True}),
                ig.text("9001", "Live Agent Request", quick_reply="flow:live_agent"))
    passes = [body for kind, body in done.calls if kind == "pass_thread_control"]
    assert [body["target_app_id"] for body in passes] == [INSTAGRAM_INBOX_APP_ID]
    assert "@a" in passes[0]["metadata"]  # the agent sees who asked (masked)
    assert_instagram_takes(done)


def test_an_agent_echo_from_the_instagram_inbox_is_the_agents_words(flows: Flows) -> None:
    done = turn(flows, customer(state={"greeted": True}),
                ig.echo("9001", "Hi, Marta here", INSTAGRAM_INBOX_APP_ID), kind="echo")
    assert done.heard[0][:3] == ("agent", "echo", "Hi, Marta here")


def test_long_flow_texts_are_split_for_instagram_only(flows: Flows) -> None:
    long = flows.model_copy(update={"fallback": {loc: "word " * 300 for loc in flows.locales}})
    on_instagram = turn(long, customer(state={"greeted": True}), ig.text("9001", "zzz"))
    assert len(texts(on_instagram)) == 2 and all(len(t) < 1000 for t in texts(on_instagram))
    assert_instagram_takes(on_instagram)
    messenger = replace(ACCOUNT, id="1001", channel="messenger")
    on_messenger = turn(long, customer(state={"greeted": True}), ig.text("9001", "zzz"),
                        account=messenger)
    assert len(texts(on_messenger)) == 1


def test_an_unsent_instagram_message_gets_no_answer(flows: Flows) -> None:
    unsent = ig.text("9001", "oops")
    unsent["message"] = {"mid": unsent["message"]["mid"], "is_deleted": True}
    assert turn(flows, customer(state={"greeted": True}), unsent).calls == []


def test_a_story_mention_gets_no_answer_but_a_shared_post_does(flows: Flows) -> None:
    mention = ig.text("9001", "x")
    mention["message"] = {"mid": mention["message"]["mid"], "attachments": [
        {"type": "story_mention", "payload": {"url": "https://lookaside.fbsbx.com/story"}}]}
    done = turn(flows, customer(state={"greeted": True}), mention)
    assert done.calls == [] and done.heard[0][2] == "[story_mention]"
    shared = {**mention, "message": {**mention["message"], "attachments": [
        {"type": "share", "payload": {"url": "https://www.instagram.com/p/abc"}}]}}
    assert texts(turn(flows, customer(state={"greeted": True}), shared))
