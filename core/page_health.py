"""Page-wide states: when Facebook stops taking a Page's calls, stop calling.

An expired or revoked token (190), a restricted Page (368, 10/1893063), a
policy block (the `messaging_policy_enforcement` webhook) or a throttle
(4, 613, 80001, 80006) refuses every call of the Page, not one message.
Retrying each message on its own would drop replies one by one and, while
throttled, lengthen Meta's block. So the first such refusal pauses the whole
Page (one Redis hash shared by every process and machine), logged at ERROR
once; calls wait in their customers' mailboxes (`PagePaused`, retried without
using up the event's attempts). When the pause is due, one call, and only one,
tries again (a circuit breaker's half-open state): if Facebook takes it, the
Page is sending again and the waiting calls follow; if not, the pause doubles,
up to a cap. The worker's periodic page check (`bot.page_checks`) also clears
a token pause as soon as the token works again.

Each process reads the states at most once a second, so the hot path costs no
Redis round trip while every Page is healthy.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass

from redis import Redis

from messenger.errors import GraphError, RateLimited, TransientGraphError, page_wide_state

log = logging.getLogger(__name__)

PAUSED = "sd:page-paused"  # hash: page id -> PageState as JSON
NOTICES = "sd:page-notices"  # hash: "page id|kind" -> JSON (reported, nothing paused)
_TRIAL = "sd:page-trial:"  # + page id: the one call allowed through when a pause is due
TRIAL_LEASE_MS = 60_000
REFRESH_SECONDS = 1.0
MAX_RETRY_DELAY_MS = 10_000  # a waiting customer looks again this often: resumes within 10 s

# state -> (first pause, longest pause), in seconds
BACKOFF: dict[str, tuple[float, float]] = {
    "token_invalid": (30, 300),
    "restricted": (60, 900),
    "policy_blocked": (300, 3600),
    "throttled": (5, 1800),
}


@dataclass(frozen=True)
class PageState:
    state: str  # token_invalid | restricted | policy_blocked | throttled
    detail: str  # Meta's code and message, scrubbed of secrets
    since: float  # epoch seconds
    retry_at: float  # epoch seconds: when one call may try again
    failures: int = 1


class PagePaused(TransientGraphError):
    """The Page is paused; the call was not made. Retry after `retry_after` seconds."""

    def __init__(self, page_id: str, state: PageState, retry_after: float) -> None:
        super().__init__(f"page {page_id} paused: {state.state} ({state.detail})")
        self.state = state
        self.retry_after = max(retry_after, 1.0)


def retry_delay_ms(paused: PagePaused) -> int:
    """How long a customer whose call met a paused Page waits before looking again."""
    return int(min(max(paused.retry_after, 1.0) * 1000, MAX_RETRY_DELAY_MS))


class PageHealth:
    """The Page-wide states of every Page, shared through Redis."""

    def __init__(self, redis: Redis, *, clock: Callable[[], float] = time.time,
                 first_pause_s: float | None = None) -> None:
        self.redis = redis
        self.clock = clock
        self.first_pause_s = first_pause_s  # instead of BACKOFF's (SUPPORT_DESK_PAGE_PAUSE_MS)
        self._lock = threading.Lock()
        self._paused: dict[str, PageState] = {}
        self._read_at = float("-inf")

    # The call path ------------------------------------------------------------------------

    def before_call(self, page_id: str) -> bool:
        """Raises PagePaused when the Page is paused; True when this call is the one
        allowed to try again (pass it to `after_success` / `after_failure`)."""
        state = self._cached().get(page_id)
        if state is None:
            return False
        now = self.clock()
        if now < state.retry_at:
            raise PagePaused(page_id, state, state.retry_at - now)
        if not self.redis.set(_TRIAL + page_id, b"1", nx=True, px=TRIAL_LEASE_MS):
            raise PagePaused(page_id, state, 5.0)  # another call is trying right now
        fresh = self.states().get(page_id)  # this process's copy may be a second old
        if fresh is None or now >= fresh.retry_at:
            return True
        self.end_trial(page_id)  # a trial just failed elsewhere and paused the Page again
        with self._lock:
            self._paused[page_id] = fresh
        raise PagePaused(page_id, fresh, fresh.retry_at - now)

    def end_trial(self, page_id: str) -> None:
        """Let another call try (this one ended without an answer from Facebook)."""
        self.redis.delete(_TRIAL + page_id)

    def after_success(self, page_id: str, *, trial: bool) -> None:
        if trial:
            self.clear(page_id, reason="a call went through")

    def after_failure(self, page_id: str, error: GraphError, *, trial: bool) -> GraphError:
        """The error to raise for a failed call: PagePaused when it hit the whole Page."""
        state = page_wide_state(error)
        if state is None:
            if trial and not error.retryable:  # refused for its own reasons: the Page works
                self.clear(page_id, reason=f"a call was answered ({error.code})")
            elif trial:
                self.end_trial(page_id)
            return error
        retry_after = error.retry_after if isinstance(error, RateLimited) else None
        paused = self.pause(page_id, state, _detail(error), retry_after=retry_after)
        if trial:  # pause() may have kept an existing pause, and with it the trial key
            self.end_trial(page_id)
        return PagePaused(page_id, paused, paused.retry_at - self.clock())

    # State changes ------------------------------------------------------------------------

    def pause(self, page_id: str, state: str, detail: str, *,
              retry_after: float | None = None) -> PageState:
        """Record (or lengthen) a pause; logs at ERROR when the Page was not in this state."""
        now = self.clock()
        previous = self.states().get(page_id)
        same = previous is not None and previous.state == state
        if same and previous is not None and now < previous.retry_at:
            return previous  # a call that started before the pause was seen: nothing new
        failures = previous.failures + 1 if same and previous is not None else 1
        first, cap = BACKOFF[state]
        first = self.first_pause_s or first
        wait = max(min(first * 2 ** (failures - 1), cap), retry_after or 0)
        since = previous.since if same and previous is not None else now
        paused = PageState(state, detail[:300], since, now + wait, failures)
        value = json.dumps(asdict(paused))
        # HSETNX for a healthy Page: of the processes refused at the same moment, one logs.
        first_to_see = previous is None and bool(self.redis.hsetnx(PAUSED, page_id, value))
        if previous is None and not first_to_see:
            return self.states().get(page_id) or paused
        with self.redis.pipeline() as pipe:
            pipe.hset(PAUSED, page_id, value)
            pipe.delete(_TRIAL + page_id)
            pipe.execute()
        with self._lock:
            self._paused[page_id] = paused
        if previous is None or not same:
            log.error("page %s: Facebook refuses every call (%s: %s); calls paused, trying again "
                      "in %.1f s", page_id, state, paused.detail, wait)
        else:
            log.warning("page %s: still %s; trying again in %.1f s", page_id, state, wait)
        return paused

    def clear(self, page_id: str, *, reason: str) -> None:
        previous = self.states().get(page_id)
        with self.redis.pipeline() as pipe:
            pipe.hdel(PAUSED, page_id)
            pipe.delete(_TRIAL + page_id)
            pipe.execute()
        with self._lock:
            self._paused.pop(page_id, None)
        if previous is not None:
            log.warning("page %s: sending again after %s for %d s (%s)", page_id,
                        previous.state, self.clock() - previous.since, reason)

    def clear_state(self, page_id: str, state: str, *, reason: str) -> None:
        """Clear the Page's pause only if it is `state` (e.g. the token works again)."""
        current = self.states().get(page_id)
        if current is not None and current.state == state:
            self.clear(page_id, reason=reason)

    def policy_notice(self, page_id: str, action: str, reason: str) -> None:
        """Meta's `messaging_policy_enforcement` webhook: warning, block or unblock."""
        if action == "block":
            self.pause(page_id, "policy_blocked", f"Meta blocked the Page: {reason}")
        elif action == "unblock":
            self.clear_state(page_id, "policy_blocked", reason="Meta unblocked the Page")
        else:
            self.notice(page_id, "policy_warning", f"{action}: {reason}")

    def notice(self, page_id: str, kind: str, detail: str | None) -> None:
        """Record (detail) or clear (None) a reported problem that pauses nothing."""
        field = f"{page_id}|{kind}"
        if detail is None:
            if self.redis.hdel(NOTICES, field):
                log.warning("page %s: %s resolved", page_id, kind)
            return
        value = json.dumps({"detail": detail[:300], "since": self.clock()})
        if self.redis.hsetnx(NOTICES, field, value):
            log.error("page %s: %s: %s", page_id, kind, detail[:300])

    # Reading ------------------------------------------------------------------------------

    def states(self) -> dict[str, PageState]:
        """Every paused Page, read now."""
        raw = self.redis.hgetall(PAUSED)
        return {_text(page): PageState(**json.loads(value)) for page, value in raw.items()}

    def notices(self) -> dict[str, dict[str, dict[str, object]]]:
        """page id -> kind -> {detail, since}."""
        found: dict[str, dict[str, dict[str, object]]] = {}
        for field, value in self.redis.hgetall(NOTICES).items():
            page_id, _, kind = _text(field).partition("|")
            found.setdefault(page_id, {})[kind] = json.loads(value)
        return found

    def report(self) -> dict[str, dict[str, object]]:
        """page id -> what `/healthz` and `messenger status` show (only Pages with a problem)."""
        now = self.clock()
        report: dict[str, dict[str, object]] = {}
        for page_id, state in self.states().items():
            report[page_id] = {"state": state.state, "detail": state.detail,
                               "since": int(state.since),
                               "retry_in_s": max(0, int(state.retry_at - now))}
        for page_id, kinds in self.notices().items():
            entry = report.setdefault(page_id, {"state": "ok"})
            entry.update({kind: value["detail"] for kind, value in kinds.items()})
        return report

    def _cached(self) -> dict[str, PageState]:
        now = time.monotonic()
        if now - self._read_at >= REFRESH_SECONDS:
            fresh = self.states()
            with self._lock:
                self._paused, self._read_at = fresh, now
        return self._paused


def _detail(error: GraphError) -> str:
    code = f"{error.code}/{error.subcode}" if error.subcode else str(error.code)
    return f"code {code}: {error.message}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


_shared: weakref.WeakKeyDictionary[Redis, PageHealth] = weakref.WeakKeyDictionary()
_shared_lock = threading.Lock()


def page_health(redis: Redis, *, first_pause_ms: int | None = None) -> PageHealth:
    """The process's PageHealth for this Redis client."""
    with _shared_lock:
        if redis not in _shared:
            _shared[redis] = PageHealth(redis)
        health = _shared[redis]
    if first_pause_ms is not None:
        health.first_pause_s = first_pause_ms / 1000
    return health
