"""A worker dies after Facebook accepted a send but before it wrote the answer down.
Facebook's echo of the send (its `metadata` is the outbox key) is the receipt: the
next run records the send from it instead of repeating it; with no echo yet, the
customer waits, later messages too, up to the echo wait, then the send is made
again; an echo that comes after that resend is recorded as a duplicate."""

from __future__ import annotations

import copy
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlmodel import Session, select

from bot import extensions
from bot.decisions import Decision
from bot.models import Customer, Message, Outbox
from bot.outbox import CallOutcome, deliver
from tests.reliability.desk import Desk, desk
from tests.support import payloads as p

PSID = "7700"
ECHO_WAIT_MS = 1500
LABELS = {"Happy to help with billing": "billing 1/2", "Looking for an invoice": "billing 2/2",
          "Our team is here": "hours"}
BILLING = ["billing 1/2", "billing 2/2"]
HOURS = "hours"


class Killed(BaseException):
    """The worker process dying: no handler of ours catches it."""


@pytest.fixture
def d(tmp_path: Path, redis: Redis, redis_url: str) -> Iterator[Desk]:
    with desk(tmp_path, redis_url, echo_wait_ms=ECHO_WAIT_MS) as opened:
        opened.fake.add_user(PSID)
        opened.say(PSID, "hi")
        opened.work()  # first contact: greeted
        yield opened


def die_after_meta_accepts(d: Desk, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The customer asks for billing; the worker dies the moment Meta accepted the first
    reply (its answer never reaches us). Returns the echo Meta posts for it."""
    send = d.rt.graph.send_message

    def accepted_then_killed(*args: Any, **kwargs: Any) -> Any:
        send(*args, **kwargs)
        raise Killed("SIGKILL while Meta's answer is on its way")

    monkeypatch.setattr(d.rt.graph, "send_message", accepted_then_killed)
    d.say(PSID, "billing")
    with pytest.raises(Killed):
        d.work()
    monkeypatch.undo()
    echo = d.fake.webhooks[-1]
    assert echo["entry"][0]["messaging"][0]["message"]["is_echo"]
    d.rt.redis.delete("sd:inflight")  # the dead consumer's lease, as if it had run out
    d.rt.redis.rpush("sd:ready", f"{d.fake.page_id}:{PSID}")
    return echo


def on_standby(payload: dict[str, Any]) -> dict[str, Any]:
    moved = copy.deepcopy(payload)
    entry = moved["entry"][0]
    entry["standby"] = entry.pop("messaging")
    return moved


def echo_mid(payload: dict[str, Any]) -> str:
    entry = payload["entry"][0]
    return str((entry.get("messaging") or entry["standby"])[0]["message"]["mid"])


def replies_since_hi(d: Desk) -> list[str]:
    """The replies after the greeting, named by their first words."""
    return [next((label for start, label in LABELS.items() if text.startswith(start)), text)
            for text in d.replies(PSID)[1:]]


def billing_row(d: Desk) -> Outbox:
    return next(row for row in d.outbox() if "Happy to help with billing" in str(row.body))


def test_the_echo_on_either_channel_records_the_send_instead_of_repeating_it(
        d: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    echo = die_after_meta_accepts(d, monkeypatch)
    assert d.post(on_standby(echo)) == 200  # echoes can come on standby too

    d.work()

    assert replies_since_hi(d) == BILLING  # the first one once
    row = billing_row(d)
    assert (row.status, row.result) == ("sent", echo_mid(echo))


def test_with_no_echo_yet_the_customer_waits_in_order_until_it_comes(
        d: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    echo = die_after_meta_accepts(d, monkeypatch)
    d.say(PSID, "hours")

    d.work()
    assert replies_since_hi(d) == BILLING[:1]  # nothing more yet, "hours" waits too
    assert d.delays and max(d.delays) <= 1000
    assert d.post(echo) == 200
    d.wait_retry()
    d.work()

    assert replies_since_hi(d) == BILLING + [HOURS]
    assert billing_row(d).result == echo_mid(echo)


def test_after_the_wait_the_send_is_repeated_and_a_late_echo_is_recorded_as_a_duplicate(
        d: Desk, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    echo = die_after_meta_accepts(d, monkeypatch)
    d.say(PSID, "hours")
    d.work()
    assert replies_since_hi(d) == BILLING[:1]

    time.sleep(ECHO_WAIT_MS / 1000)  # no echo comes within the wait
    d.wait_retry()
    d.work()
    assert replies_since_hi(d) == BILLING[:1] + BILLING + [HOURS]
    resent = billing_row(d)
    assert resent.status == "sent" and resent.result != echo_mid(echo)

    with caplog.at_level(logging.WARNING):
        assert d.post(echo) == 200  # the first attempt's echo, late
        d.work()

    row = billing_row(d)
    assert row.error and row.error.startswith("delivered twice") and echo_mid(echo) in row.error
    assert any(r.levelno == logging.WARNING and "delivered twice" in r.getMessage()
               and f"{row.event_key}#0" in r.getMessage() for r in caplog.records)
    with Session(d.rt.engine) as session:
        copies = session.exec(select(Message.mid).where(
            Message.direction == "out", col_text_startswith("Happy to help with billing"))).all()
    assert sorted(copies) == sorted([row.result, echo_mid(echo)])  # both, as the customer saw
    assert len(d.replies(PSID)) == 5  # the echo itself sends nothing


def col_text_startswith(prefix: str) -> Any:
    return Message.text.startswith(prefix)  # type: ignore[union-attr]


def test_a_send_with_a_follow_up_settled_by_its_echo_runs_the_follow_up_once(
        d: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ticket reply's send names a follow-up ("then"): settled by its echo, the follow-up
    still learns the outcome (with the echo's mid), and nothing is sent again."""
    with Session(d.rt.engine) as session:
        customer = session.exec(select(Customer).where(Customer.psid == PSID)).one()
        key = f"{d.fake.page_id}:reply:1"
        session.add(Outbox(customer_id=customer.id, event_key=key, seq=0, kind="send",
                           body={"message": {"text": "An agent's reply"},
                                 "messaging_type": "RESPONSE", "then": "test.sent"}))
        session.commit()
        session.refresh(customer)
    customer_key = f"{d.fake.page_id}:{PSID}"
    d.rt.mailbox.journal(customer_key, {f"{key}#0": json.dumps(["attempted", None, None,
                                                                int(time.time() * 1000)])})
    echo = p.echo(PSID, "An agent's reply", p.APP_ID)
    echo["message"]["metadata"] = f"sd:{key}#0"
    assert d.post(p.page(echo)) == 200
    outcomes: list[CallOutcome] = []
    monkeypatch.setattr(extensions, "call_follow_ups",
                        lambda: {"test.sent": lambda turn, outcome: outcomes.append(outcome) or True})
    sent_before = len(d.fake.sent(PSID))

    finished, failure = deliver(d.rt, customer, [Decision(d.rt.mailbox.peek(customer_key), key)])

    assert (finished, failure) == (1, None)
    assert len(d.fake.sent(PSID)) == sent_before
    assert [(o.ok, o.result) for o in outcomes] == [(True, echo["message"]["mid"])]
    row = next(row for row in d.outbox() if row.event_key == key)
    assert (row.status, row.result) == ("sent", echo["message"]["mid"])
