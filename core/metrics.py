"""What the service counts, shared by every web and worker process on every
machine through one Redis hash.

An increment only touches this process's memory (a dict under a lock: well
under a microsecond, so the webhook's hot path stays as cheap as before). A
daemon thread adds what accumulated to the hash `sd:metrics` every second, in
one MULTI/EXEC (`HINCRBY`/`HINCRBYFLOAT`), and at exit; a scrape flushes its
own process first. When Redis is down the increments stay in memory and go
out with the next flush that succeeds (a flush whose answer is lost may count
twice: counts are at least what happened, never less). `core.metrics_scrape`
turns the hash into Prometheus series.

Usage: `metrics.events_received.inc(3)`, `metrics.events_processed.inc(outcome="handled")`,
`metrics.graph_latency.observe(0.12, kind="send")`.
"""

from __future__ import annotations

import atexit
import bisect
import json
import logging
import os
import threading
import time
from collections.abc import Sequence

from prometheus_client.utils import floatToGoString
from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

HASH = "sd:metrics"
PREFIX = "support_desk_"
FLUSH_SECONDS = 1.0

_Key = tuple[str, tuple[str, ...]]  # (series name, label values)


class _Pending:
    """This process's increments not yet added to Redis."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[_Key, float] = {}

    def add(self, key: _Key, amount: float) -> None:
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + amount

    def take(self) -> dict[_Key, float]:
        with self.lock:
            counts, self.counts = self.counts, {}
        return counts

    def put_back(self, counts: dict[_Key, float]) -> None:
        with self.lock:
            for key, amount in counts.items():
                self.counts[key] = self.counts.get(key, 0) + amount


_pending = _Pending()


class Counter:
    def __init__(self, name: str, doc: str, labels: Sequence[str] = ()) -> None:
        self.name, self.doc, self.labels = PREFIX + name, doc, tuple(labels)
        self._unlabelled: _Key = (self.name, ())
        DEFINITIONS[self.name] = self

    def inc(self, amount: float = 1, **labels: str) -> None:
        if amount:
            _pending.add(_values(self, labels) if self.labels else self._unlabelled, amount)


class Histogram:
    """Counts per bucket (not cumulative: the scrape adds them up) and the sum."""

    def __init__(self, name: str, doc: str, buckets: Sequence[float],
                 labels: Sequence[str] = ()) -> None:
        self.name, self.doc, self.labels = PREFIX + name, doc, tuple(labels)
        self.buckets = tuple(sorted(buckets))
        self.bounds = tuple(floatToGoString(b) for b in self.buckets) + ("+Inf",)
        DEFINITIONS[self.name] = self

    def observe(self, value: float, **labels: str) -> None:
        values = _values(self, labels)[1]
        bound = self.bounds[bisect.bisect_left(self.buckets, value)]  # le: value <= bound
        _pending.add((self.name + "_bucket", (*values, bound)), 1)
        _pending.add((self.name + "_sum", values), float(value))


def _values(metric: Counter | Histogram, labels: dict[str, str]) -> _Key:
    return metric.name, tuple([str(labels[name]) for name in metric.labels])


DEFINITIONS: dict[str, Counter | Histogram] = {}

# What the processes count (SPEC: GET /metrics). Gauges computed at scrape time
# (events waiting, tickets and emails by status) live in core.metrics_scrape.
webhook_requests = Counter("webhook_requests_total", "POST /webhook answers, by status code",
                           ["code"])
events_received = Counter("events_received_total",
                          "Events in signed Messenger payloads that reached the webhook")
events_ignored = Counter("events_ignored_total",
                         "Events of a Page or Instagram account this deployment does not serve")
events_acknowledged = Counter("events_acknowledged_total",
                              "Events answered 200: durably queued (or already queued before)")
events_redelivered = Counter("events_redelivered_total",
                             "Acknowledged events that were already queued (Meta's redeliveries)")
events_processed = Counter("events_processed_total",
                           "Events the worker finished with, by outcome: handled, retry "
                           "(a transient failure, tried again later), set_aside (failed events)",
                           ["outcome"])
graph_calls = Counter("graph_calls_total",
                      "Graph API requests (each attempt), by kind, result code (ok, Meta's "
                      "error code, http_<status>, or network) and Page (empty with one Page)",
                      ["kind", "code", "page"])
graph_latency = Histogram("graph_call_seconds", "Graph API request latency, by kind",
                          (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0), ["kind"])
throttle_waits = Counter("throttle_waits_total",
                         "Send API calls that waited for the per-page rate (SEND_RATE_PER_PAGE)")
throttle_wait_seconds = Counter("throttle_wait_seconds_total",
                                "Time Send API calls spent waiting for the per-page rate")
handovers = Counter("handovers_total", "Handover calls that succeeded, by call and Page",
                    ["call", "page"])
events_queued = Counter("events_queued_total",
                        "Events the webhook queued, by account (Page or Instagram account id) "
                        "and channel", ["page", "channel"])
emails_sent = Counter("emails_sent_total",
                      "Notification email attempts, by result (sent, logged, failed)", ["result"])


def acknowledged(events: int, *, new: int) -> None:
    """A webhook POST answered 200: `events` acknowledged, of which `new` were not seen before."""
    events_acknowledged.inc(events)
    events_redelivered.inc(events - new)


def throttled(seconds: float) -> None:
    """A Send API call waited `seconds` (0: none) for the page's rate."""
    if seconds > 0:
        throttle_waits.inc()
        throttle_wait_seconds.inc(seconds)


def graph_kind(method: str, path: str) -> str:
    """A Graph call's kind for a label: never a customer's id."""
    parts = path.strip("/").split("/")
    if parts[0] == "me":
        edge = "/".join(parts[1:])
        return "send" if edge == "messages" else edge or "me"
    return parts[1] if len(parts) > 1 else f"node_{method.lower()}"


def graph_code(error: Exception) -> str:
    """A failed call's result code: Meta's error code, else the HTTP status, else network."""
    code, status = getattr(error, "code", None), getattr(error, "http_status", None)
    if code is not None:
        return str(code)
    return f"http_{status}" if status is not None else "network"


def graph_call(method: str, path: str, code: str, seconds: float, *, page: str = "") -> None:
    kind = graph_kind(method, path)
    graph_calls.inc(kind=kind, code=code, page=page)
    graph_latency.observe(seconds, kind=kind)


# The flusher: one daemon thread per process, started when a Redis is bound.

_state_lock = threading.Lock()
_redis: Redis | None = None
_thread: threading.Thread | None = None
_failing = False


def bind(redis: Redis) -> None:
    """Count into `redis` from now on (each process's runtime does this)."""
    global _redis, _thread
    with _state_lock:
        _redis = redis
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_flush_forever, daemon=True, name="metrics-flush")
            _thread.start()


def flush() -> bool:
    """Add this process's pending increments to Redis; False if Redis failed (kept)."""
    global _failing
    redis = _redis
    counts = _pending.take()
    if redis is None or not counts:
        _pending.put_back(counts)
        return redis is not None
    try:
        with redis.pipeline(transaction=True) as pipe:
            for key, amount in counts.items():
                if isinstance(amount, int):
                    pipe.hincrby(HASH, encode(key), amount)
                else:
                    pipe.hincrbyfloat(HASH, encode(key), amount)
            pipe.execute()
    except RedisError as exc:
        _pending.put_back(counts)
        if not _failing:
            log.warning("metrics: cannot flush to Redis (%s); counts kept in memory",
                        type(exc).__name__)
        _failing = True
        return False
    _failing = False
    return True


def discard_pending() -> None:
    """Forget this process's unflushed counts (tests start from zero)."""
    _pending.take()


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        flush()


def encode(key: _Key) -> str:
    return json.dumps([key[0], list(key[1])], separators=(",", ":"))


def decode(field: bytes | str) -> _Key | None:
    try:
        name, values = json.loads(field)
        return str(name), tuple(str(v) for v in values)
    except (ValueError, TypeError):
        return None


def _after_fork() -> None:
    """A forked child starts empty: its parent's pending counts are the parent's."""
    global _pending, _thread, _state_lock
    _pending, _thread, _state_lock = _Pending(), None, threading.Lock()
    if _redis is not None:
        bind(_redis)


os.register_at_fork(after_in_child=_after_fork)
atexit.register(flush)
