"""Per-customer mailboxes in Redis: the webhook drops events in with one round
trip; drain jobs take one customer at a time and read its events in
timestamp order. Redelivered events are dropped at the door.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis import Redis

from core import mailbox_scripts as lua
from messenger.events import Incoming

SEEN_TTL_SECONDS = 7 * 24 * 3600  # Meta's redeliveries stop long before this
DEAD_LETTERS = "sd:dead"


@dataclass(frozen=True)
class Timing:
    """How long holds last; tests shorten them to see recovery quickly."""

    lease_ms: int = 30_000  # a customer's lease; refreshed while its consumer lives
    consumer_ttl_ms: int = 60_000  # a drain job's reservation, refreshed per claim
    max_consumers: int = 4  # drain jobs allowed at once, across all machines


@dataclass(frozen=True)
class Queued:
    """An event read back from a customer's mailbox."""

    customer: str
    member: str
    channel: str
    kind: str
    event: dict[str, Any]

    @property
    def page_id(self) -> str:
        return self.customer.split(":", 1)[0]

    @property
    def psid(self) -> str:
        return self.customer.split(":", 1)[1]


def now_ms() -> int:
    return int(time.time() * 1000)


class Mailbox:
    def __init__(self, redis: Redis, timing: Timing = Timing()) -> None:
        self.redis = redis
        self.timing = timing
        self._ingest = redis.register_script(lua.INGEST)
        self._claim = redis.register_script(lua.CLAIM)
        self._release = redis.register_script(lua.RELEASE)
        self._retire = redis.register_script(lua.RETIRE)
        self._heartbeat = redis.register_script(lua.HEARTBEAT)
        self._recover = redis.register_script(lua.RECOVER)
        self._journal = redis.register_script(lua.JOURNAL)
        self._done = redis.register_script(lua.DONE)
        self._peek = redis.register_script(lua.PEEK)

    def ingest(self, events: Sequence[Incoming]) -> tuple[int, int | None]:
        """Store new events (one round trip). Returns (added, drain reservation)."""
        flags, reservation = self.ingest_flags(events)
        return sum(flags), reservation

    def ingest_flags(self, events: Sequence[Incoming]) -> tuple[list[int], int | None]:
        """Like `ingest`, with 1 (stored) or 0 (a redelivery) per event, in order."""
        args: list[Any] = [now_ms(), SEEN_TTL_SECONDS, self.timing.max_consumers,
                           self.timing.consumer_ttl_ms]
        for e in events:
            args.extend((e.page_id, e.psid, e.key, e.timestamp, e.body))
        _added, reservation, flags = self._ingest(args=args)
        stored = [1 if flag == ord("1") else 0 for flag in _bytes(flags)]
        return stored, (int(reservation) if reservation else None)

    def new_consumer_id(self) -> int:
        return int(self.redis.incr("sd:consumer:seq"))

    def claim(self, consumer_id: int) -> str | None:
        claimed = self.claim_events(consumer_id, 0)
        return claimed[0] if claimed else None

    def claim_events(self, consumer_id: int, limit: int) -> tuple[str, list[Queued]] | None:
        """A customer to serve, with up to `limit` of its waiting events (as `peek_many`),
        in one round trip; None when no customer waits."""
        t = self.timing
        claimed = self._claim(args=[now_ms(), consumer_id, t.consumer_ttl_ms, t.lease_ms, limit])
        if not claimed:
            return None
        customer = _text(claimed[0])
        return customer, [_queued(customer, _text(member)) for member in claimed[1:]]

    def release(self, customer: str, *, delay_ms: int = 0) -> None:
        self._release(args=[customer, now_ms(), delay_ms])

    def retire(self, consumer_id: int) -> tuple[int | None, int | None]:
        """A drain job ends: (successor reservation, time in ms to check again)."""
        t = self.timing
        successor, due = self._retire(
            args=[consumer_id, now_ms(), t.consumer_ttl_ms, t.max_consumers])
        return (int(successor) if successor else None), (int(float(due)) if due else None)

    def heartbeat(self, consumer_id: int, customers: Iterable[str]) -> None:
        now, t = now_ms(), self.timing
        self._heartbeat(args=[now + t.lease_ms, consumer_id, now + t.consumer_ttl_ms,
                              *customers])

    def reserve_if_idle(self) -> int | None:
        """A drain reservation when work waits and no consumer is alive."""
        t = self.timing
        reservation = self._recover(args=[now_ms(), t.consumer_ttl_ms, t.max_consumers])
        return int(reservation) if reservation else None

    def peek(self, customer: str) -> Queued | None:
        """The customer's oldest waiting event, left in place until `done`."""
        first = self.peek_many(customer, 1)
        return first[0] if first else None

    def peek_many(self, customer: str, limit: int) -> list[Queued]:
        """Up to `limit` of the customer's waiting events, oldest first, left in place."""
        if limit < 1:
            return []
        members = self._peek(keys=[f"sd:mb:{customer}"], args=[limit])
        return [_queued(customer, _text(member)) for member in members]

    def done(self, item: Queued) -> None:
        self.done_many([item])

    def done_many(self, items: Sequence[Queued], *, then_peek: int = 0) -> list[Queued]:
        """The events are fully handled: out of their mailbox, with their bookkeeping.
        Returns up to `then_peek` of the customer's next waiting events (as `peek_many`),
        in the same round trip.

        Their calls' outcomes are in the database by now, so the journal goes too."""
        if not items:
            return []
        return self._done_script(items[0].customer, items, then_peek, release=False)

    def done_and_next(self, customer: str, items: Sequence[Queued], limit: int) -> list[Queued]:
        """Like `done_many` with `then_peek=limit`; when no event comes back (none is left,
        or `limit` is 0) the customer is released too, as `release` would, in the same
        round trip."""
        return self._done_script(customer, items, limit, release=True)

    def _done_script(self, customer: str, items: Sequence[Queued], limit: int, *,
                     release: bool) -> list[Queued]:
        members = self._done(keys=[f"sd:mb:{customer}", f"sd:att:{customer}", _journal(customer)],
                             args=[customer, limit, int(release), *(item.member for item in items)])
        return [_queued(customer, _text(member)) for member in members]

    def journal(self, customer: str, outcomes: Mapping[str, str]) -> None:
        """Note, in one round trip, what calls came to: call key -> outcome (bot.ledger)."""
        if not outcomes:
            return
        args: list[Any] = [SEEN_TTL_SECONDS * 1000]
        for call, outcome in outcomes.items():
            args.extend((call, outcome))
        self._journal(keys=[_journal(customer)], args=args)

    def journaled(self, customer: str) -> dict[str, str]:
        """The calls noted by `journal` and not yet cleared by `done_many`."""
        return {_text(k): _text(v) for k, v in self.redis.hgetall(_journal(customer)).items()}

    def failed_attempt(self, item: Queued) -> int:
        """Count one more failed try at this event; returns the count."""
        return int(self.redis.hincrby(f"sd:att:{item.customer}", item.member[:15], 1))

    def dead_letter(self, item: Queued, reason: str) -> None:
        """Set an event aside for an operator (`flask jobs failed`) and move on."""
        record = {"customer": item.customer, "kind": item.kind, "reason": reason,
                  "failed_at": now_ms(), "event": item.event, "channel": item.channel}
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(DEAD_LETTERS, json.dumps(record, ensure_ascii=False))
            pipe.zrem(f"sd:mb:{item.customer}", item.member)
            pipe.hdel(f"sd:att:{item.customer}", item.member[:15])
            pipe.execute()

    def backlog(self) -> dict[str, int]:
        """Counts for health and benchmarks."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.llen("sd:ready")
            pipe.zcard("sd:inflight")
            pipe.zcard("sd:delayed")
            pipe.llen(DEAD_LETTERS)
            ready, inflight, delayed, dead = pipe.execute()
        return {"ready": ready, "inflight": inflight, "delayed": delayed, "dead": dead}


def _queued(customer: str, member: str) -> Queued:
    data = json.loads(member.split("|", 1)[1])
    return Queued(customer, member, data["channel"], data["kind"], data["event"])


def _journal(customer: str) -> str:
    return f"sd:sent:{customer}"


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
