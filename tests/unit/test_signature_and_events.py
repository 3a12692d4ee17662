"""Signature check and event parsing: the pieces the hot path trusts."""

from __future__ import annotations

import json

import pytest

from messenger import signature
from messenger.events import NotAPagePayload, dedupe_key, parse_payload
from tests.support import payloads as p


def test_signature_accepts_only_the_exact_bytes_and_secret() -> None:
    body = b'{"object":"page","entry":[]}'
    header = signature.sign(body, "s3cret")
    assert signature.is_valid(body, header, "s3cret")
    assert not signature.is_valid(body + b" ", header, "s3cret")
    assert not signature.is_valid(body, header, "other")
    assert not signature.is_valid(body, None, "s3cret")
    assert not signature.is_valid(body, header, None)  # no secret configured: refuse all
    assert not signature.is_valid(body, header.replace("sha256=", "sha1="), "s3cret")


def test_events_from_messaging_and_standby_are_keyed_by_customer() -> None:
    payload = p.page(p.text("11", "hi", mid="m_1"), standby=(p.text("12", "yo", mid="m_2"),))
    kind, events = parse_payload(payload)
    assert kind == "page"
    assert [(e.psid, e.key) for e in events] == [("11", "message:m_1"), ("12", "message:m_2")]
    assert '"channel":"standby"' in events[1].body


def test_events_without_a_customer_or_timestamp_are_skipped_not_fatal() -> None:
    payload = p.page({"recipient": {"id": p.PAGE_ID}, "timestamp": 1,
                      "policy_enforcement": {"action": "warning"}},
                     {"sender": {"id": "5"}, "message": {"mid": "m", "text": "no ts"}},
                     "not even an object")  # type: ignore[arg-type]
    assert parse_payload(payload)[1] == []


@pytest.mark.parametrize("bad", [{}, {"object": "page"}, {"object": "page", "entry": {}},
                                 {"object": "page", "entry": [{"messaging": {}}]}, []])
def test_malformed_payloads_raise(bad: object) -> None:
    with pytest.raises(NotAPagePayload):
        parse_payload(bad)


def test_dedupe_keys_are_stable_for_events_without_a_mid() -> None:
    event = {"sender": {"id": "9"}, "timestamp": 7, "referral": {"ref": "promo"}}
    assert dedupe_key("referral", "9", 7, event) == dedupe_key("referral", "9", 7, dict(event))
    assert dedupe_key("referral", "9", 8, event) != dedupe_key("referral", "9", 7, event)


@pytest.mark.parametrize("half", ["\\ud800", "\\udfff", "\\ud83d"])
def test_a_lone_surrogate_becomes_a_replacement_character_and_the_event_is_kept(half: str) -> None:
    event_json = '{"sender":{"id":"7"},"recipient":{"id":"%s"},"timestamp":5,' % p.PAGE_ID  # noqa: UP031
    event_json += f'"message":{{"mid":"m{half}","text":"cut {half}"}}}}'
    raw = f'{{"object":"page","entry":[{{"id":"{p.PAGE_ID}","time":1,"messaging":[{event_json}]}}]}}'
    [event] = parse_payload(json.loads(raw))[1]
    event.body.encode()  # Redis takes UTF-8: nothing left that cannot be encoded
    assert json.loads(event.body)["event"]["message"]["text"] == "cut \ufffd"
    assert event.key == "message:m\ufffd"
    emoji = json.loads(raw.replace(half, "\\ud83d\\ude00"))  # a whole pair is left alone
    assert "😀" in parse_payload(emoji)[1][0].body


def test_nul_is_removed_at_parse_and_a_typed_backslash_u0000_is_kept() -> None:
    data = p.page(p.text("7", "a\u0000b \\u0000 \\\u0000", mid="m\u0000n"))
    [event] = parse_payload(json.loads(p.encode(data)))[1]
    message = json.loads(event.body)["event"]["message"]
    assert message["text"] == "ab \\u0000 \\"  # the customer's own backslash-u0000 stays
    assert event.key == "message:mn"
