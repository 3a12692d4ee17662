"""The Graph API misbehaves: a burst of 500s, timeouts and rate limits (613,
429), then recovery: every reply is delivered once and in order per customer.
(The 613s pause the whole Page, core.page_health: shortened to 0.1 s here.)
A permanent refusal (551, outside the window) is not retried, is recorded on
its outbox row and logged, and does not hold the customer's next messages."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from redis import Redis

from messenger.graph import GraphClient
from tests.reliability.desk import Desk, desk
from tests.support import payloads as p

CUSTOMERS = ["9100", "9101", "9102", "9103"]
BILLING = ["Happy to help with billing", "Looking for an invoice"]
HOURS = ["Our team is here"]


def quick_client(d: Desk) -> None:
    """Timeouts in tenths of a second, so a hung Graph call is seen quickly."""
    s = d.rt.settings
    d.rt.__dict__["graph"] = GraphClient(
        access_token=p.ACCESS_TOKEN, app_secret=p.APP_SECRET, api_url=s.graph_api_url,
        api_version=s.graph_api_version, timeout=(1.0, 0.3), backoff=0.02, max_backoff=0.2)


def work_until_quiet(d: Desk, rounds: int = 12) -> None:
    for _ in range(rounds):
        d.work()
        if not d.rt.redis.zcard("sd:delayed"):
            return
        d.wait_retry()
    raise AssertionError("customers still waiting for a retry")


def starts(texts: list[str]) -> list[str]:
    return [next((want for want in BILLING + HOURS if text.startswith(want)), text) for text in texts]


def test_a_burst_of_transient_errors_then_recovery_delivers_each_reply_once_in_order(
        tmp_path: Path, redis: Redis, redis_url: str) -> None:
    with desk(tmp_path, redis_url, page_pause_ms=100) as d:
        quick_client(d)
        for psid in CUSTOMERS:
            d.fake.add_user(psid)
            assert d.say(psid, "billing") == 200
            assert d.say(psid, "hours") == 200
        d.fake.fail_next(6, status=500)
        d.fake.fail_next(2, status=500, delay=0.6)  # no answer before the client's timeout
        d.fake.fail_next(2, code=613)  # each pauses the Page: 0.1, 0.2 s
        d.fake.fail_next(2, status=429)  # code 4: paused again, 0.4, 0.8 s
        work_until_quiet(d, rounds=30)
        for psid in CUSTOMERS:
            assert starts(d.replies(psid)) == BILLING + HOURS, psid
        assert d.delays, "the burst outlasted the client's retries: the mailbox retried later"
        assert d.dead_letters() == []
        assert {row.status for row in d.outbox()} == {"sent"}


@pytest.mark.parametrize(("code", "subcode", "name"), [
    (551, None, "RecipientUnavailable"), (10, 2018278, "OutsideMessagingWindow")])
def test_a_permanent_refusal_is_recorded_not_retried_and_does_not_block(
        tmp_path: Path, redis: Redis, redis_url: str, caplog: pytest.LogCaptureFixture,
        code: int, subcode: int | None, name: str) -> None:
    with desk(tmp_path, redis_url) as d:
        d.fake.add_user("9200")
        d.say("9200", "hours")
        d.fake.fail_next(1, code=code, subcode=subcode)
        with caplog.at_level(logging.WARNING):
            d.work()
        sends = [call for call in d.fake.calls if call[1].endswith("/me/messages")]
        actions = d.fake.sender_actions("9200")  # typing_on, mark_seen: not the refused message
        assert len(sends) - len(actions) == 1  # tried once, never again
        [row] = d.outbox()
        assert row.status == "failed" and f"code={code}" in (row.error or "")
        assert any(name in r.getMessage() and "not retried" in r.getMessage() for r in caplog.records)
        assert d.fake.sent("9200") == [] and d.delays == []

        d.say("9200", "billing")
        d.work()
        assert starts(d.replies("9200")) == BILLING
