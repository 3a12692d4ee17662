"""One scrape of `/metrics`: the counters every process added to Redis, and
gauges read at scrape time (events waiting and the oldest's age from the
mailboxes; from the database, what features register with
`register_database_gauges`: tickets and emails by status, ratings).

Each source is read in its own thread under one deadline (`DEADLINE_SECONDS`),
so a Redis or database outage never holds a scrape: what did not answer in time
is left out, and `support_desk_metrics_source_up{source}` says so (0).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from redis import Redis
from sqlalchemy.engine import Connection, Engine

from core import metrics
from core.page_health import page_health

DEADLINE_SECONDS = 1.5  # a scrape answers within this (and 2 s) whatever Redis or SQL do
MAX_CUSTOMERS = 2_000  # per state: beyond, events_waiting is a lower bound (the script blocks
# Redis for its run: ~5 ms at 2,000 customers waiting, ~25 ms at 10,000 on the 2-core machine)

# ARGV: how many customers of each state to look at. Returns {events waiting in their
# mailboxes, the oldest event's timestamp (ms) or false}.
WAITING = """
local limit, total, oldest = tonumber(ARGV[1]), 0, false
local function look(c)
  local key = 'sd:mb:' .. c
  total = total + redis.call('ZCARD', key)
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if first[2] then
    local ts = tonumber(first[2])
    if not oldest or ts < oldest then oldest = ts end
  end
end
for _, c in ipairs(redis.call('LRANGE', 'sd:ready', 0, limit - 1)) do look(c) end
for _, c in ipairs(redis.call('ZRANGE', 'sd:inflight', 0, limit - 1)) do look(c) end
for _, c in ipairs(redis.call('ZRANGE', 'sd:delayed', 0, limit - 1)) do look(c) end
return {total, oldest and string.format('%d', oldest) or false}
"""

P = metrics.PREFIX
log = logging.getLogger(__name__)

DatabaseGauges = Callable[[Connection], list[Metric]]  # read in the scrape's one connection
_database_gauges: list[DatabaseGauges] = []


def register_database_gauges(read: DatabaseGauges) -> None:
    """A feature's gauges read from the database at each scrape (its `plugin.register`)."""
    if read not in _database_gauges:
        _database_gauges.append(read)


class DeskCollector(Collector):
    """The service's series, read from `redis` (short timeouts) and `engine`."""

    def __init__(self, redis: Redis, engine: Engine) -> None:
        self.redis = redis
        self.engine = engine
        self._waiting = redis.register_script(WAITING)

    def collect(self) -> Iterator[Metric]:
        sources: dict[str, Callable[[], list[Metric]]] = {
            "counters": self._counters, "mailboxes": self._mailboxes, "database": self._database,
            "pages": self._pages}
        results = _within_deadline(sources, DEADLINE_SECONDS)
        up = GaugeMetricFamily(P + "metrics_source_up",
                               "1 when the source answered this scrape in time", labels=["source"])
        for name in sources:
            up.add_metric([name], 0.0 if results.get(name) is None else 1.0)
        yield up
        for found in results.values():
            yield from found or ()

    def _counters(self) -> list[Metric]:
        metrics.flush()  # this process's own latest counts
        return families(self.redis.hgetall(metrics.HASH))

    def _mailboxes(self) -> list[Metric]:
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.llen("sd:ready")
            pipe.zcard("sd:inflight")
            pipe.zcard("sd:delayed")
            pipe.llen("sd:dead")
            ready, inflight, delayed, dead = pipe.execute()
        total, oldest = self._waiting(args=[MAX_CUSTOMERS])
        age = max(0.0, time.time() - int(oldest) / 1000) if oldest else 0.0
        customers = GaugeMetricFamily(P + "customers_waiting",
                                      "Customers with events waiting, by state", labels=["state"])
        for state, count in (("ready", ready), ("inflight", inflight), ("delayed", delayed)):
            customers.add_metric([state], count)
        return [
            GaugeMetricFamily(P + "events_waiting", "Events queued and not yet processed "
                              f"(a lower bound past {MAX_CUSTOMERS} customers in a state)",
                              value=int(total)),
            GaugeMetricFamily(P + "events_oldest_age_seconds",
                              "Age of the oldest event waiting (by Meta's timestamp); 0: none",
                              value=age),
            GaugeMetricFamily(P + "events_set_aside", "Events set aside as failed (jobs failed)",
                              value=dead),
            customers,
        ]

    def _pages(self) -> list[Metric]:
        """Pages Facebook refuses (core.page_health): 1 per Page and state, absent when fine."""
        health = page_health(self.redis)
        paused = GaugeMetricFamily(P + "page_paused", "1 while a Page's calls are paused, by "
                                   "state (token_invalid, restricted, policy_blocked, throttled)",
                                   labels=["page", "state"])
        for page_id, state in health.states().items():
            paused.add_metric([page_id, state.state], 1.0)
        problems = GaugeMetricFamily(P + "page_problem", "1 while a Page has a reported problem "
                                     "that pauses nothing (unsubscribed, policy_warning)",
                                     labels=["page", "kind"])
        for page_id, kinds in health.notices().items():
            for kind in kinds:
                problems.add_metric([page_id, kind], 1.0)
        return [paused, problems]

    def _database(self) -> list[Metric]:
        with self.engine.connect() as connection:
            return [family for read in _database_gauges for family in read(connection)]


def families(fields: dict[Any, Any]) -> list[Metric]:
    """Prometheus families from the shared hash (fields of unknown series are skipped)."""
    values: dict[str, dict[tuple[str, ...], float]] = {}
    for field, raw in fields.items():
        key = metrics.decode(field)
        if key is not None:
            values.setdefault(key[0], {})[key[1]] = float(raw)
    found: list[Metric] = []
    for name, metric in metrics.DEFINITIONS.items():
        if isinstance(metric, metrics.Counter):
            family = CounterMetricFamily(name, metric.doc, labels=metric.labels)
            for labels, value in sorted(values.get(name, {}).items()):
                family.add_metric(list(labels), value)
        else:
            family = _histogram(metric, values.get(name + "_bucket", {}),
                                values.get(name + "_sum", {}))
        found.append(family)
    return found


def _histogram(metric: metrics.Histogram, buckets: dict[tuple[str, ...], float],
               sums: dict[tuple[str, ...], float]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(metric.name, metric.doc, labels=metric.labels)
    for labels in sorted(sums):
        running, cumulative = 0.0, []
        for bound in metric.bounds:
            running += buckets.get((*labels, bound), 0.0)
            cumulative.append((bound, running))
        family.add_metric(list(labels), cumulative, sums[labels])
    return family


def _within_deadline(sources: dict[str, Callable[[], list[Metric]]],
                     seconds: float) -> dict[str, list[Metric] | None]:
    """Run every source at once; None for one that failed or did not finish in time."""
    pool = ThreadPoolExecutor(max_workers=len(sources), thread_name_prefix="metrics-scrape")
    futures = {name: pool.submit(read) for name, read in sources.items()}
    wait(futures.values(), timeout=seconds)
    pool.shutdown(wait=False, cancel_futures=True)
    return {name: _result(name, future) for name, future in futures.items()}


def _result(name: str, future: Future[list[Metric]]) -> list[Metric] | None:
    if not future.done():
        log.warning("metrics: %s did not answer within %.1f s; left out", name, DEADLINE_SECONDS)
        return None
    error = future.exception()
    if error is not None:
        log.warning("metrics: %s failed (%s: %s); left out", name, type(error).__name__, error)
        return None
    return future.result()
