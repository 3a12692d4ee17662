"""Hostile and odd input through the real webhook and the real processing.

Any body: never a 5xx, always the documented 403/400/413 or a 200. Any
well-formed-but-odd Messenger payload (unknown event types, missing fields,
huge texts, emoji, right-to-left text, nested JSON, attachments only...):
a 200, then processing never crashes (nothing set aside as a failed event),
never retries, and never sends Facebook a body it refuses as malformed.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis import Redis

from tests.reliability.desk import Desk, desk
from tests.support import payloads as p

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
USERS = ["300100", "300101", "300102"]


@pytest.fixture(scope="module")
def shared_desk(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Desk]:
    with desk(tmp_path_factory.mktemp("fuzz"), redis_url) as d:
        for psid in USERS:
            d.fake.add_user(psid)
            d.fake.customer_says(psid, "hi")  # opens the messaging window on the stand-in
        yield d


@pytest.fixture
def fresh(shared_desk: Desk, redis: Redis) -> Desk:
    return shared_desk  # `redis` empties Redis before each test


# --- any bytes -------------------------------------------------------------------

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


@FUZZ
@given(body=st.binary(max_size=2000) | JSONISH.map(lambda v: json.dumps(v).encode()))
def test_any_signed_body_gets_200_or_400_never_a_5xx(fresh: Desk, body: bytes) -> None:
    status = fresh.post(body)
    assert status in (200, 400), body


@FUZZ
@given(body=st.binary(max_size=500), header=st.none() | st.text(max_size=80))
def test_any_unsigned_body_is_refused_403(fresh: Desk, body: bytes, header: str | None) -> None:
    headers = {} if header is None else {"X-Hub-Signature-256": header}
    try:
        response = fresh.client.post("/webhook", data=body, headers=headers)
    except ValueError:  # a header with a newline cannot even be sent
        return
    assert response.status_code == 403


# --- odd but well-formed Messenger payloads -------------------------------------------

TEXTS = st.sampled_from([
    "", " ", "billing", "FACTURACIÓN!", "restart", "🙂🔥👍🏽" * 50, "مرحبا، أحتاج مساعدة", "שלום",
    "\u202eevil\u202c", "a\u0000b", "x" * 30_000, "<script>alert(1)</script>", "{{7*7}}", "%s%n",
]) | st.text(max_size=300)
ODD = st.none() | st.integers() | st.booleans() | st.text(max_size=10) | st.lists(st.integers(), max_size=3) \
    | st.dictionaries(st.text(max_size=5), st.integers(), max_size=3)
ATTACHMENT = st.fixed_dictionaries(
    {"type": st.sampled_from(["image", "audio", "file", "location", "x"]) | ODD},
    optional={"payload": JSONISH})


@st.composite
def message(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if draw(st.booleans()):
        body["mid"] = draw(st.text(string.ascii_letters + string.digits + "_.-", min_size=1, max_size=40)
                           | st.text(max_size=400) | ODD)
    if draw(st.booleans()):
        body["text"] = draw(TEXTS | ODD)
    if draw(st.booleans()):
        body["quick_reply"] = draw(st.fixed_dictionaries({"payload": st.sampled_from(
            ["flow:billing", "flow:nowhere", "MENU", "GET_STARTED", "flow:", ":"]) | TEXTS | ODD}) | ODD)
    if draw(st.booleans()):
        body["attachments"] = draw(st.lists(ATTACHMENT | ODD, max_size=3) | ODD)
    if draw(st.booleans()):
        body["is_echo"] = draw(st.booleans())
        body["app_id"] = draw(st.sampled_from([int(p.APP_ID), 263902037430900]) | ODD)
    for key, value in draw(st.dictionaries(st.sampled_from(["reply_to", "nlp", "sticker_id", "metadata"]),
                                           JSONISH, max_size=2)).items():
        body[key] = value
    return body


@st.composite
def event(draw: st.DrawFn) -> dict[str, Any]:
    psid = draw(st.sampled_from(USERS) | st.sampled_from(["", "0", "abc", "12 34", "9" * 80]) | ODD)
    out: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        out["sender"] = {"id": psid} if draw(st.integers(0, 5)) else draw(ODD)
    if draw(st.integers(0, 9)):
        out["recipient"] = {"id": p.PAGE_ID} if draw(st.integers(0, 5)) else draw(ODD)
    if draw(st.integers(0, 9)):
        out["timestamp"] = draw(st.integers(1, 2**41) | st.sampled_from([0, -1, 10**20, 2**63]) | ODD)
    kind = draw(st.sampled_from(["message", "postback", "referral", "reaction", "optin", "read",
                                 "delivery", "pass_thread_control", "made_up_event", "message_edit"]))
    if kind == "message":
        out["message"] = draw(message() | ODD)
    elif kind == "postback":
        out["postback"] = draw(st.fixed_dictionaries(
            {}, optional={"payload": TEXTS | ODD, "title": TEXTS | ODD, "mid": ODD}) | ODD)
    else:
        out[kind] = draw(JSONISH)
    return out


@st.composite
def page_payload(draw: st.DrawFn) -> dict[str, Any]:
    events = draw(st.lists(event(), min_size=1, max_size=4))
    entry: dict[str, Any] = {"id": draw(st.just(p.PAGE_ID) | ODD), "time": 1}
    channel = draw(st.sampled_from(["messaging", "standby"]))
    entry[channel] = events
    return {"object": "page", "entry": [entry]}


def refused_as_malformed(d: Desk, after_id: int) -> list[str]:
    """Send API refusals that mean our own body was wrong (code 100, other than an unknown user)."""
    errors = [row.error or "" for row in d.outbox() if (row.id or 0) > after_id and row.status == "failed"]
    return [e for e in errors if "code=100" in e and "subcode=2018001" not in e]


def last_outbox_id(d: Desk) -> int:
    return max((row.id or 0 for row in d.outbox()), default=0)


@FUZZ
@given(payload=page_payload())
def test_odd_messenger_payloads_are_accepted_and_processed_without_a_crash(
        fresh: Desk, payload: dict[str, Any]) -> None:
    fresh.rt.redis.flushall()
    before = last_outbox_id(fresh)
    status = fresh.post(payload)
    assert status == 200, payload
    fresh.delays.clear()
    fresh.work()
    assert fresh.dead_letters() == [], payload
    assert fresh.delays == [], "processing asked for a retry: nothing here is transient"
    assert refused_as_malformed(fresh, before) == [], payload


def test_the_odd_payload_strategies_reach_the_customers(fresh: Desk) -> None:
    """The fuzzer is only worth something if odd events do get processed: check one."""
    fresh.post(p.page(p.text(USERS[0], "🙂 مرحبا " + "x" * 5000, mid="m_fuzz_probe")))
    fresh.work()
    assert fresh.fake.sent(USERS[0]), "an odd but valid message got no answer"




def _event(psid: object = USERS[0], ts: object = 5, **parts: object) -> dict[str, Any]:
    return {"sender": {"id": psid}, "recipient": {"id": p.PAGE_ID}, "timestamp": ts, **parts}


# Each of these once sent an event to the failed-events list (found by the fuzzer above).
FOUND = {
    "psid with a space": _event("12 34", message={"mid": "f1", "text": "hi"}),
    "psid null": _event(None, message={"mid": "f2", "text": "hi"}),
    "psid a float": _event(0.0, message={"mid": "f3", "text": "hi"}),
    "psid too long": _event("9" * 80, message={"mid": "f4", "text": "hi"}),
    "timestamp past year 9999": _event(ts=10**20, message={"mid": "f5", "text": "hi"}),
    "timestamp of 401 digits": _event(ts=10**400, message={"mid": "f6", "text": "hi"}),
    "text an object": _event(message={"mid": "f7", "text": {"a": 1}}),
    "mid an object": _event(message={"mid": {"a": 1}, "text": "hi"}),
    "mid of 400 characters": _event(message={"mid": "m" * 400, "text": "hi"}),
    "postback title a list": _event(postback={"payload": {"x": 1}, "title": ["t"], "mid": "f8"}),
    "echo with odd parts": {"sender": {"id": p.PAGE_ID}, "recipient": {"id": USERS[1]}, "timestamp": 9,
                            "message": {"is_echo": True, "app_id": {"x": 1}, "text": {"y": 2}, "mid": "f9"}},
}


@pytest.mark.parametrize("name", list(FOUND))
def test_events_the_fuzzer_found_are_dropped_or_handled_never_set_aside(fresh: Desk, name: str) -> None:
    entry = {"id": p.PAGE_ID, "time": 1, "messaging": [FOUND[name]]}
    assert fresh.post({"object": "page", "entry": [entry]}) == 200
    fresh.delays.clear()
    fresh.work()
    assert fresh.dead_letters() == [] and fresh.delays == []


def test_an_entry_id_that_is_not_a_page_id_falls_back_to_the_recipient(fresh: Desk) -> None:
    event = _event(USERS[2], message={"mid": "f10", "text": "billing"})
    fresh.post({"object": "page", "entry": [{"id": "1:2", "time": 1, "messaging": [event]}]})
    fresh.work()
    assert fresh.dead_letters() == [] and fresh.fake.sent(USERS[2])
