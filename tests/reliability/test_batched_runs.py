"""A customer's waiting events are decided together and their replies made in
order; a crash after Meta accepted some replies but before the database
recorded them repeats none of them (the Redis journal), and an event whose turn
fails is set aside on its own while the ones before it are answered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from redis import Redis

from bot import conversation, outbox
from tests.reliability.desk import desk

WORDS = ["billing", "hours", "technical", "account"]


class Killed(BaseException):
    """The worker process dying: no handler of ours catches it."""


def queue_words(d, psid: str, words: list[str]) -> None:  # type: ignore[no-untyped-def]
    d.fake.add_user(psid)
    d.say(psid, "hi")
    d.work()  # first contact: greeted, profile fetched
    for word in words:
        assert d.say(psid, word) == 200


def test_a_crash_before_the_database_learns_the_sends_repeats_none(
        tmp_path: Path, redis: Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with desk(tmp_path, redis_url) as d:
        queue_words(d, "7300", WORDS)
        before = len(d.fake.sent("7300"))

        def crash(self: outbox.Ledger) -> None:
            raise Killed("after the sends, before the database write")

        monkeypatch.setattr(outbox.Ledger, "_record", crash)
        with pytest.raises(Killed):
            d.work()
        made = len(d.fake.sent("7300")) - before
        assert made >= len(WORDS)  # Meta accepted a reply to each word
        assert len([row for row in d.outbox() if row.status == "pending"]) == made  # unrecorded
        monkeypatch.undo()

        d.rt.redis.delete("sd:inflight")  # the dead consumer's lease, as if it had run out
        d.rt.redis.rpush("sd:ready", f"{d.fake.page_id}:7300")
        d.work()
        assert len(d.fake.sent("7300")) - before == made  # nothing sent twice
        assert [row.status for row in d.outbox()] == ["sent"] * len(d.outbox())
        assert d.rt.redis.zcard(f"sd:mb:{d.fake.page_id}:7300") == 0


def test_a_crash_while_a_reply_is_on_its_way_repeats_none_of_those_meta_answered(
        tmp_path: Path, redis: Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An answered send's outcome rides with the next send's mark: a crash during that
    next send still finds the first one journaled."""
    assert len(WORDS) > 2
    with desk(tmp_path, redis_url, echo_wait_ms=0) as d:
        queue_words(d, "7310", WORDS)
        before = len(d.fake.sent("7310"))
        real_send, made = outbox._send, []

        def dies_on_the_third(rt, customer, call):  # type: ignore[no-untyped-def]
            if len(made) == 2:
                raise Killed("the worker died while the third reply was on its way")
            made.append(call.key)
            return real_send(rt, customer, call)

        monkeypatch.setitem(outbox._EXECUTORS, "send", dies_on_the_third)
        with pytest.raises(Killed):
            d.work()
        assert len(d.fake.sent("7310")) - before == 2
        journaled = d.rt.mailbox.journaled(f"{d.fake.page_id}:7310")
        assert [json.loads(journaled[key])[0] for key in made] == ["sent", "sent"]
        monkeypatch.undo()

        d.rt.redis.delete("sd:inflight")  # the dead consumer's lease, as if it had run out
        d.rt.redis.rpush("sd:ready", f"{d.fake.page_id}:7310")
        d.work()
        queue_words(d, "7311", WORDS)  # who typed the same with no crash
        d.work()
        assert d.replies("7310") == d.replies("7311")  # each reply once, in order
        assert [row.status for row in d.outbox()] == ["sent"] * len(d.outbox())


def test_a_failing_turn_is_set_aside_alone_and_the_others_are_answered_in_order(
        tmp_path: Path, redis: Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with desk(tmp_path, redis_url) as d:
        queue_words(d, "7401", [w for w in WORDS if w != "technical"])  # the reference
        d.work()
        original = conversation.on_message

        def on_message(turn):  # type: ignore[no-untyped-def]
            if turn.event["message"].get("text") == "technical":
                raise ValueError("a bug in one flow")
            return original(turn)

        monkeypatch.setattr(conversation, "on_message", on_message)
        queue_words(d, "7400", WORDS)  # all four wait in the mailbox together
        d.work()
        assert d.replies("7400") == d.replies("7401")  # the others answered, in order
        [letter] = d.dead_letters()
        assert letter["event"]["message"]["text"] == "technical"
        assert d.rt.redis.zcard(f"sd:mb:{d.fake.page_id}:7400") == 0
