"""The database goes away for a while: events wait in Redis, processing retries
with backoff, and each customer is answered once when it is back. An outage
longer than the retries sets the event aside where an operator sees it
(`flask jobs failed`) and can put it back (`flask jobs retry`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis import Redis
from rq import Queue

from bot import processing
from tests.reliability.desk import DatabaseSwitch, desk


def test_jobs_retry_while_the_database_is_down_then_answer_once(
        tmp_path: Path, redis: Redis, redis_url: str) -> None:
    with desk(tmp_path, redis_url) as d:
        d.fake.add_user("7100")
        database = DatabaseSwitch(d.rt)
        database.stop()
        assert d.say("7100", "billing") == 200  # the webhook needs Redis only
        health = d.client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["database"].startswith("down")

        d.work()
        d.wait_retry()
        d.work()
        assert d.delays[:2] == [1000, 2000]  # retried with backoff, not dropped
        assert d.fake.sent("7100") == [] and d.dead_letters() == []

        database.start()
        d.wait_retry()
        d.work()
        assert d.client.get("/healthz").status_code == 200
        assert any("billing" in text.lower() for text in d.replies("7100"))
        answered = len(d.fake.sent("7100"))
        d.say("7100", "hours")
        d.work()
        assert len(d.fake.sent("7100")) > answered  # the mailbox moved on
        assert d.rt.redis.zcard(f"sd:mb:{d.fake.page_id}:7100") == 0


def test_an_outage_longer_than_the_retries_is_listed_and_retried_by_the_operator(
        tmp_path: Path, redis: Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processing, "MAX_ATTEMPTS", 2)
    with desk(tmp_path, redis_url) as d:
        d.fake.add_user("7200")
        database = DatabaseSwitch(d.rt)
        database.stop()
        d.say("7200", "hours")
        d.work()
        d.wait_retry()
        d.work()
        [letter] = d.dead_letters()
        assert letter["customer"].endswith(":7200") and letter["reason"].startswith("OperationalError")

        cli = d.app.test_cli_runner()
        listed = cli.invoke(args=["jobs", "failed"])
        assert listed.exit_code == 0, listed.output
        assert "0 failed job(s), 1 failed event(s)" in listed.output
        assert f"customer {d.fake.page_id}:7200  message" in listed.output
        assert "reason: OperationalError" in listed.output and "database down" in listed.output

        database.start()
        event_id = listed.output.split("\n")[1].split()[0]
        events_queue = Queue("events", connection=d.rt.redis)
        before = events_queue.count
        retried = cli.invoke(args=["jobs", "retry", event_id])
        assert retried.exit_code == 0, retried.output
        assert f"{event_id}: event back in the mailbox of customer" in retried.output
        assert events_queue.count == before + 1  # a drain is on its way
        d.work()
        assert len([t for t in d.replies("7200") if "Monday to Friday" in t]) == 1
        assert d.dead_letters() == []
        assert cli.invoke(args=["jobs", "failed"]).output == "No failed jobs or events.\n"
