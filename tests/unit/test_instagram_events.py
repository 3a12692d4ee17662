"""Instagram webhooks read like Messenger's: same keys and checks, each event with its channel."""

from __future__ import annotations

import json

from messenger.events import parse_payload
from tests.support import ig_payloads as ig
from tests.support import payloads as p


def test_instagram_messages_are_keyed_by_account_and_igsid_and_carry_their_channel() -> None:
    payload = ig.instagram(ig.text("9001", "hola", mid="aWdf_1"),
                           standby=(ig.text("9002", "hey", mid="aWdf_2"),))
    kind, events = parse_payload(payload)
    assert kind == "instagram"
    assert [(e.page_id, e.psid, e.key, e.channel) for e in events] == [
        (ig.IG_ID, "9001", "message:aWdf_1", "instagram"),
        (ig.IG_ID, "9002", "message:aWdf_2", "instagram")]
    assert json.loads(events[1].body)["channel"] == "standby"


def test_messenger_events_say_messenger() -> None:
    [event] = parse_payload(p.page(p.text("11", "hi")))[1]
    assert event.channel == "messenger" and event.page_id == p.PAGE_ID


def test_an_instagram_echo_belongs_to_its_recipient_and_is_keyed_by_its_mid() -> None:
    echo = ig.echo("9001", "Hi there", "1217981644879628")
    [event] = parse_payload(ig.instagram(echo))[1]
    assert (event.psid, event.page_id, event.channel) == ("9001", ig.IG_ID, "instagram")
    assert event.key == f"echo:{echo['message']['mid']}"
    assert json.loads(event.body)["kind"] == "echo"


def test_a_redelivered_instagram_message_has_the_same_key() -> None:
    message = ig.text("9001", "same", mid="aWdf_same")
    first = parse_payload(ig.instagram(message))[1][0]
    again = parse_payload(ig.instagram(dict(message)))[1][0]
    assert first.key == again.key


def test_messaging_seen_is_accepted_and_not_queued() -> None:
    payload = ig.instagram(ig.seen("9001", "aWdf_1"), ig.text("9001", "after"))
    events = parse_payload(payload)[1]
    assert [json.loads(e.body)["kind"] for e in events] == ["message"]


def test_instagram_events_without_a_usable_igsid_are_dropped() -> None:
    bad = ig.text("9001", "x")
    bad["sender"] = {"id": "../me/messages"}
    assert parse_payload(ig.instagram(bad))[1] == []


def test_instagram_comments_changes_are_not_messages() -> None:
    payload = {"object": "instagram", "entry": [{"id": ig.IG_ID, "time": 1, "changes": [
        {"field": "comments", "value": {"id": "c1", "text": "nice", "from": {"id": "9001"}}}]}]}
    assert parse_payload(payload) == ("instagram", [])
