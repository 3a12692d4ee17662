"""How often one call may fail with an error that may be permanent in disguise.

Meta answers code 2 ("service temporarily unavailable") both when it is down
and when the person blocked the Page, and says nothing to tell the two apart.
Retried like any transient error, a blocked person's message was tried 32
times (4 attempts in the Graph client, times 8 runs of the customer's
mailbox) before it was set aside, holding the customer's later events behind
it. Here each call gets `CODE_2_RUNS` runs (so at most 12 attempts, over
about 5 to 10 s of backoff), then it is recorded as failed and the customer's
next events go on: a real outage of Meta's that long also fails the Page's
other calls, which pause the Page instead (core.page_health).
"""

from __future__ import annotations

import logging

from redis import Redis

from messenger.errors import GraphError, MaybeBlocked

log = logging.getLogger(__name__)

CODE_2_RUNS = 3
_TTL_S = 86_400  # a call is long settled by then
_PREFIX = "sd:code2:"


def spent(redis: Redis, call_key: str, error: GraphError) -> bool:
    """True when `error` ends the call's retries: it is then recorded as failed."""
    if not isinstance(error, MaybeBlocked):
        return False
    key = _PREFIX + call_key
    with redis.pipeline() as pipe:
        runs, _ = pipe.incr(key).expire(key, _TTL_S).execute()
    if int(runs) < CODE_2_RUNS:
        return False
    log.warning("call %s failed with code 2 in %d runs: recorded as failed, not retried again "
                "(the person may have blocked the Page)", call_key, runs)
    return True
