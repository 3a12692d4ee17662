"""Page-wide states (core.page_health) against a real Redis, with a clock the test moves."""

from __future__ import annotations

import logging

import pytest
from redis import Redis

from core.page_health import PageHealth, PagePaused
from messenger.errors import GraphError, RecipientUnavailable, error_from_response, page_wide_state

PAGE = "1234567890"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def graph_error(code: int, subcode: int | None = None, status: int = 400) -> GraphError:
    error = {"code": code, "message": f"(#{code}) refused"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return error_from_response(status, {"error": error}, {})


def fresh(redis: Redis, clock: Clock) -> PageHealth:
    """A process's view: a new one reads Redis at once (no cached second)."""
    return PageHealth(redis, clock=clock)


@pytest.mark.parametrize(("code", "subcode", "state"), [
    (190, 463, "token_invalid"), (368, None, "restricted"), (10, 1893063, "restricted"),
    (4, None, "throttled"), (613, 2534040, "throttled"), (80001, None, "throttled"),
    (80006, None, "throttled"),
])
def test_page_wide_refusals_are_recognised(code: int, subcode: int | None, state: str) -> None:
    assert page_wide_state(graph_error(code, subcode)) == state


@pytest.mark.parametrize(("code", "subcode"), [
    (613, 2018338),  # send fewer tagged messages: about tags, not the Page's pace
    (10, 2018300), (10, 2018278), (551, None), (100, None), (2, None), (17, None)])
def test_refusals_of_one_call_or_person_pause_nothing(code: int, subcode: int | None) -> None:
    assert page_wide_state(graph_error(code, subcode)) is None


def test_a_revoked_token_pauses_every_process_logs_once_and_one_trial_resumes(
        redis: Redis, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    worker_a, worker_b = fresh(redis, clock), fresh(redis, clock)
    caplog.set_level(logging.WARNING, logger="core.page_health")
    # 32 threads met the 190 at the same moment: one pause, one ERROR line
    for _ in range(32):
        raised = worker_a.after_failure(PAGE, graph_error(190, 463), trial=False)
        assert isinstance(raised, PagePaused)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "token_invalid" in errors[0].getMessage()
    assert "(#190) refused" in errors[0].getMessage()

    with pytest.raises(PagePaused) as paused:  # the other process stops calling too
        worker_b.before_call(PAGE)
    assert paused.value.retry_after == pytest.approx(30, abs=1)

    clock.now += 31  # the pause is due: exactly one call tries
    worker_a, worker_b = fresh(redis, clock), fresh(redis, clock)
    assert worker_a.before_call(PAGE) is True
    with pytest.raises(PagePaused):
        worker_b.before_call(PAGE)
    worker_a.after_success(PAGE, trial=True)
    assert fresh(redis, clock).before_call(PAGE) is False
    assert fresh(redis, clock).report() == {}
    assert any("sending again after token_invalid" in r.getMessage() for r in caplog.records)


def test_a_failed_trial_doubles_the_pause_up_to_its_cap(redis: Redis) -> None:
    clock = Clock()
    health = fresh(redis, clock)
    health.after_failure(PAGE, graph_error(368), trial=False)
    waits = []
    for _ in range(6):
        state = health.states()[PAGE]
        waits.append(round(state.retry_at - clock.now))
        clock.now = state.retry_at
        health = fresh(redis, clock)
        assert health.before_call(PAGE) is True
        health.after_failure(PAGE, graph_error(368), trial=True)
    assert waits == [60, 120, 240, 480, 900, 900]


def test_a_throttle_waits_at_least_what_meta_asks(redis: Redis) -> None:
    clock = Clock()
    health = fresh(redis, clock)
    usage = '{"1":[{"type":"messenger","call_count":100,"estimated_time_to_regain_access":7}]}'
    error = error_from_response(400, {"error": {"code": 80006, "message": "too many"}},
                                {"X-Business-Use-Case-Usage": usage})
    health.after_failure(PAGE, error, trial=False)
    assert health.states()[PAGE].retry_at - clock.now == pytest.approx(7 * 60)


def test_a_trial_refused_for_its_own_reasons_proves_the_page_works(redis: Redis) -> None:
    clock = Clock()
    health = fresh(redis, clock)
    health.after_failure(PAGE, graph_error(190), trial=False)
    clock.now += 31
    health = fresh(redis, clock)
    assert health.before_call(PAGE) is True
    error = RecipientUnavailable("gone", code=551)
    assert health.after_failure(PAGE, error, trial=True) is error
    assert health.states() == {}


def test_policy_block_and_unblock_and_warning(redis: Redis) -> None:
    clock = Clock()
    health = fresh(redis, clock)
    health.policy_notice(PAGE, "warning", "too many promotional messages")
    health.policy_notice(PAGE, "block", "spam")
    report = health.report()[PAGE]
    assert report["state"] == "policy_blocked" and "spam" in str(report["detail"])
    assert "too many promotional" in str(report["policy_warning"])
    with pytest.raises(PagePaused):
        fresh(redis, clock).before_call(PAGE)
    health.policy_notice(PAGE, "unblock", "")
    assert fresh(redis, clock).before_call(PAGE) is False


def test_two_trials_racing_on_a_stale_view_never_leave_the_page_stuck(redis: Redis) -> None:
    """A process whose copy is a second old must not take a second trial, and a trial
    that fails into an existing pause must free the next one."""
    clock = Clock()
    first, stale = fresh(redis, clock), fresh(redis, clock)
    first.after_failure(PAGE, graph_error(80006), trial=False)
    with pytest.raises(PagePaused):
        stale.before_call(PAGE)  # stale now caches the pause
    clock.now += 6
    assert first.before_call(PAGE) is True
    first.after_failure(PAGE, graph_error(80006), trial=True)  # paused again, for 10 s
    with pytest.raises(PagePaused) as paused:
        stale.before_call(PAGE)  # its copy says "due": Redis says 10 s more
    assert paused.value.retry_after == pytest.approx(10, abs=0.5)
    clock.now += 10.5
    assert fresh(redis, clock).before_call(PAGE) is True  # not held by a leftover trial key
