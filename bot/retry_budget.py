"""How often one call may fail with an error that may be permanent in disguise.

Meta answers code 2 ("service temporarily unavailable") both when it is down
and when the person blocked the Page, and says nothing to tell the two apart.
Retried like any transient error, a blocked person's message was tried 32
times (4 attempts in the Graph client, times 8 runs of the customer's
mailbox) before it was set aside, holding the customer's later events behind
it. Here an event's calls get `CODE_2_RUNS` runs between them (20 attempts of
its first call, over about 15 to 20 s of backoff), then each is recorded as
failed at its first code 2 and the customer's next events go on. The price:
during an outage of Meta's longer than that, a message that would have gone
out later is recorded as failed instead (WARNING, outbox row `failed`).
"""

from __future__ import annotations

import logging

from redis import Redis

from messenger.errors import GraphError, MaybeBlocked

log = logging.getLogger(__name__)

CODE_2_RUNS = 5
_TTL_S = 86_400  # a call is long settled by then
_PREFIX = "sd:code2:"


def spent(redis: Redis, event_key: str, error: GraphError) -> bool:
    """True when `error` ends the retries of the event's calls: the call is recorded as
    failed (and the event's later calls too, at their first code 2)."""
    if not isinstance(error, MaybeBlocked):
        return False
    key = _PREFIX + event_key
    with redis.pipeline() as pipe:
        runs, _ = pipe.incr(key).expire(key, _TTL_S).execute()
    if int(runs) < CODE_2_RUNS:
        return False
    log.warning("event %s: code 2 in %d runs: recorded as failed, not retried again "
                "(the person may have blocked the Page)", event_key, runs)
    return True
