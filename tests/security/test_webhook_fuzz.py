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
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis import Redis

from tests.e2e.conftest import POSTGRES
from tests.reliability.desk import Desk, desk
from tests.support import payloads as p

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
USERS = ["300100", "300101", "300102"]


@contextmanager
def fuzz_desk(tmp_path_factory: pytest.TempPathFactory, redis_url: str, **overrides: object
              ) -> Iterator[Desk]:
    with desk(tmp_path_factory.mktemp("fuzz"), redis_url, **overrides) as d:
        for psid in USERS:
            d.fake.add_user(psid)
            d.fake.customer_says(psid, "hi")  # opens the messaging window on the stand-in
        yield d


@pytest.fixture(scope="module")
def shared_desk(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Desk]:
    with fuzz_desk(tmp_path_factory, redis_url) as d:
        yield d


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db_desk(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            redis_url: str, shared_desk: Desk) -> Iterator[Desk]:
    """The same desk on SQLite and on a fresh PostgreSQL database: text that one stores
    and the other refuses (NUL bytes) must be handled on both."""
    if request.param == "sqlite":
        yield shared_desk
        return
    with _postgres_database() as url, fuzz_desk(tmp_path_factory, redis_url, database_url=url) as d:
        yield d


@contextmanager
def _postgres_database() -> Iterator[str]:
    name = f"desk_fuzz_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"needs PostgreSQL, none reachable at {POSTGRES}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh(shared_desk: Desk, redis: Redis) -> Desk:
    return shared_desk  # `redis` empties Redis before each test


@pytest.fixture
def fresh_db(db_desk: Desk, redis: Redis) -> Desk:
    return db_desk  # on each database; `redis` empties Redis before each test


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

# Lone UTF-16 halves (JSON "\\ud800"): Messenger sends one when it cuts a message inside an emoji.
LONE = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff", "cut \ud83d", "\ude00 end"])
WITH_LONE = st.lists(LONE | st.text(max_size=5), min_size=1, max_size=5).map("".join)
TEXTS = LONE | WITH_LONE | st.sampled_from([
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
                           | st.text(max_size=400) | WITH_LONE | ODD)
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
            {}, optional={"payload": TEXTS | ODD, "title": TEXTS | ODD, "mid": WITH_LONE | ODD}) | ODD)
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
        fresh_db: Desk, payload: dict[str, Any]) -> None:
    fresh_db.rt.redis.flushall()
    before = last_outbox_id(fresh_db)
    status = fresh_db.post(payload)
    assert status == 200, payload
    fresh_db.delays.clear()
    fresh_db.work()
    assert fresh_db.dead_letters() == [], payload
    assert fresh_db.delays == [], "processing asked for a retry: nothing here is transient"
    assert refused_as_malformed(fresh_db, before) == [], payload


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
    "text with a lone surrogate": _event(message={"mid": "f11", "text": "cut \ud83d"}),
    "mid a lone surrogate": _event(message={"mid": "\udfff", "text": "hi"}),
    "quick reply a lone surrogate": _event(message={"mid": "f12", "text": "x",
                                                    "quick_reply": {"payload": "\ud800"}}),
    "postback with lone surrogates": _event(postback={"payload": "\udc00", "title": "\ud800",
                                                      "mid": "f13\udbff"}),
    "text with a NUL byte": _event(message={"mid": "f14", "text": "a\u0000b"}),
    "quick reply with a NUL byte": _event(message={"mid": "f15", "text": "x\u0000",
                                                   "quick_reply": {"payload": "flow:\u0000"}}),
    "postback title a list": _event(postback={"payload": {"x": 1}, "title": ["t"], "mid": "f8"}),
    "echo with odd parts": {"sender": {"id": p.PAGE_ID}, "recipient": {"id": USERS[1]}, "timestamp": 9,
                            "message": {"is_echo": True, "app_id": {"x": 1}, "text": {"y": 2}, "mid": "f9"}},
}


@pytest.mark.parametrize("name", list(FOUND))
def test_events_the_fuzzer_found_are_dropped_or_handled_never_set_aside(fresh_db: Desk, name: str) -> None:
    entry = {"id": p.PAGE_ID, "time": 1, "messaging": [FOUND[name]]}
    assert fresh_db.post({"object": "page", "entry": [entry]}) == 200
    fresh_db.delays.clear()
    fresh_db.work()
    assert fresh_db.dead_letters() == [] and fresh_db.delays == []


def test_an_entry_id_that_is_not_a_page_id_falls_back_to_the_recipient(fresh: Desk) -> None:
    event = _event(USERS[2], message={"mid": "f10", "text": "billing"})
    fresh.post({"object": "page", "entry": [{"id": "1:2", "time": 1, "messaging": [event]}]})
    fresh.work()
    assert fresh.dead_letters() == [] and fresh.fake.sent(USERS[2])


def test_a_poison_event_in_a_shared_batch_fails_nobody(fresh_db: Desk, monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    """One request holds a lone surrogate, five others are normal, all six share one round
    trip to Redis: all get 200 and every event is processed."""
    batcher = fresh_db.app.wsgi_app.ingest  # type: ignore[attr-defined]
    store, calls = batcher.mailbox.ingest_flags, []

    def gated(events):  # type: ignore[no-untyped-def]
        calls.append(len(events))
        deadline = time.monotonic() + 5
        while len(calls) == 1 and len(batcher._queue) < 5 and time.monotonic() < deadline:
            time.sleep(0.005)  # the first round trip waits until the others queue behind it
        return store(events)

    monkeypatch.setattr(batcher.mailbox, "ingest_flags", gated)
    texts = [(USERS[0], "hi"), (USERS[1], "billing \ud83d"), (USERS[2], "hi"), (USERS[0], "restart"),
             (USERS[2], "\udfff menu"), (USERS[1], "hello")]
    statuses: dict[int, int] = {}

    def post(i: int) -> None:
        psid, words = texts[i]
        statuses[i] = fresh_db.post(p.page(p.text(psid, words, mid=f"m_batch_{i}\ud800")))

    first = threading.Thread(target=post, args=(0,))
    first.start()
    while not calls:
        time.sleep(0.001)
    others = [threading.Thread(target=post, args=(i,)) for i in range(1, len(texts))]
    for t in others:
        t.start()
    for t in [first, *others]:
        t.join()
    assert statuses == dict.fromkeys(range(len(texts)), 200)
    assert calls[1:] == [5], "the five later requests did not share one round trip"
    queued = sum(fresh_db.rt.redis.zcard(f"sd:mb:{p.PAGE_ID}:{u}") for u in USERS)
    assert queued == len(texts)
    fresh_db.work()
    assert fresh_db.dead_letters() == [] and fresh_db.delays == []
    assert sum(fresh_db.rt.redis.zcard(f"sd:mb:{p.PAGE_ID}:{u}") for u in USERS) == 0
    assert all(fresh_db.fake.sent(u) for u in USERS)
