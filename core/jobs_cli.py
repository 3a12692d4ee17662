"""`flask jobs ...`: failed work an operator must see, and can retry.

Two kinds of failure are kept in Redis: RQ jobs that raised (each queue's
FailedJobRegistry) and customer events the mailbox set aside after a bug or
too many transient failures (`core.mailbox.DEAD_LETTERS`). `jobs failed` lists
both with their reason; `jobs retry` requeues them: a job with `job.requeue()`,
an event back into its customer's mailbox followed by a drain. A re-run never
answers twice: the handled-event marker skips a decision already taken and the
outbox skips calls already made.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.results import Result

from core.jobs import EVENTS_QUEUE, MAIL_QUEUE
from core.mailbox import DEAD_LETTERS, now_ms
from core.runtime import Runtime
from messenger.events import Incoming

jobs_cli = AppGroup("jobs", help="Failed jobs and failed customer events: list and retry.")

REASON_LIMIT = 300
EVENT_PREFIX = "ev-"


class NotRetryable(click.ClickException):
    """An id that names no failed job or event."""


@dataclass(frozen=True)
class FailedJob:
    id: str
    queue: str
    call: str
    failed_at: datetime | None
    reason: str


@dataclass(frozen=True)
class FailedEvent:
    id: str
    raw: bytes
    record: dict[str, Any]

    @property
    def customer(self) -> str:
        return str(self.record.get("customer", "?"))

    @property
    def failed_at(self) -> datetime | None:
        millis = self.record.get("failed_at")
        return datetime.fromtimestamp(millis / 1000, UTC) if isinstance(millis, int) else None

    @property
    def reason(self) -> str:
        return _one_line(str(self.record.get("reason", "")))


# Reading ------------------------------------------------------------------------------


def failed_jobs(redis: Redis) -> list[FailedJob]:
    """Every job in the failed registry of every queue, oldest failure first."""
    found = []
    for queue in _queues(redis):
        registry = queue.failed_job_registry
        for job in Job.fetch_many(registry.get_job_ids(), connection=redis):
            if job is not None:
                found.append(_describe_job(queue.name, job))
    return sorted(found, key=lambda job: job.failed_at or datetime.min.replace(tzinfo=UTC))


def failed_events(redis: Redis) -> list[FailedEvent]:
    """The events the mailbox set aside, oldest first."""
    events = []
    for raw in redis.lrange(DEAD_LETTERS, 0, -1):
        try:
            record = json.loads(raw)
        except ValueError:
            record = {"reason": "unreadable dead-letter record", "customer": "?"}
        if not isinstance(record, dict):
            record = {"reason": "unreadable dead-letter record", "customer": "?"}
        events.append(FailedEvent(EVENT_PREFIX + hashlib.sha256(raw).hexdigest()[:12], raw, record))
    return events


def _queues(redis: Redis) -> list[Queue]:
    names = {EVENTS_QUEUE, MAIL_QUEUE} | {q.name for q in Queue.all(connection=redis)}
    return [Queue(name, connection=redis) for name in sorted(names)]


def _describe_job(queue: str, job: Job) -> FailedJob:
    result = job.latest_result()
    failed = result is not None and result.type == Result.Type.FAILED
    reason = _last_line(result.exc_string or "") if failed and result else "no reason recorded"
    when = result.created_at if result is not None else job.ended_at
    return FailedJob(job.id, queue, job.get_call_string() or job.func_name or "?", _utc(when), reason)


# Retrying -----------------------------------------------------------------------------


def retry_job(job_id: str, redis: Redis) -> None:
    Job.fetch(job_id, connection=redis).requeue()


def retry_event(rt: Runtime, event: FailedEvent) -> None:
    """Back into the customer's mailbox under a fresh dedupe key, then a drain."""
    from bot.jobs import drain  # the bot's job; core only schedules it

    record = event.record
    page_id, _, psid = event.customer.partition(":")
    payload = record.get("event")
    if not (page_id and psid and isinstance(payload, dict) and record.get("kind")):
        raise NotRetryable(f"{event.id}: the record has no customer or event to retry")
    timestamp = payload.get("timestamp")
    body = json.dumps({"channel": record.get("channel", "messaging"), "kind": record["kind"],
                       "event": payload}, separators=(",", ":"), ensure_ascii=False)
    key = f"retry:{uuid.uuid4().hex}"  # the original key is marked seen: it would be dropped
    ts = timestamp if isinstance(timestamp, int) and not isinstance(timestamp, bool) else now_ms()
    _added, reservation = rt.mailbox.ingest([Incoming(page_id, psid, key, ts, body)])
    rt.redis.lrem(DEAD_LETTERS, 1, event.raw)
    if reservation is not None:
        rt.dispatcher.enqueue(drain, reservation)


# Commands -----------------------------------------------------------------------------


@jobs_cli.command("failed")
def failed_command() -> None:
    """List failed jobs and failed customer events, with the reason of each."""
    redis = _redis()
    jobs, events = failed_jobs(redis), failed_events(redis)
    if not jobs and not events:
        click.echo("No failed jobs or events.")
        return
    click.echo(f"{len(jobs)} failed job(s), {len(events)} failed event(s)")
    for job in jobs:
        click.echo(f"{job.id}  job    {_when(job.failed_at)}  queue {job.queue}  {job.call}")
        click.echo(f"    reason: {job.reason}")
    for event in events:
        kind = event.record.get("kind", "?")
        click.echo(f"{event.id}  event  {_when(event.failed_at)}  customer {event.customer}  {kind}")
        click.echo(f"    reason: {event.reason}")
    click.echo("Retry with: flask --app app jobs retry ID... (or --all)")


@jobs_cli.command("retry")
@click.argument("ids", nargs=-1)
@click.option("--all", "retry_all", is_flag=True, help="Retry every failed job and event.")
def retry_command(ids: tuple[str, ...], retry_all: bool) -> None:
    """Requeue failed jobs and put failed events back in their customer's mailbox."""
    if not ids and not retry_all:
        raise click.UsageError("name the ids to retry (see `jobs failed`), or pass --all")
    rt = _runtime()
    jobs = {job.id: job for job in failed_jobs(rt.redis)}
    events = {event.id: event for event in failed_events(rt.redis)}
    chosen = list(jobs) + list(events) if retry_all else list(dict.fromkeys(ids))
    unknown = [i for i in chosen if i not in jobs and i not in events]
    if unknown:
        raise NotRetryable(f"no failed job or event with id {', '.join(unknown)} (see `jobs failed`)")
    for item_id in chosen:
        if item_id in jobs:
            retry_job(item_id, rt.redis)
            click.echo(f"{item_id}: job requeued on {jobs[item_id].queue}")
        else:
            retry_event(rt, events[item_id])
            click.echo(f"{item_id}: event back in the mailbox of customer {events[item_id].customer}")
    click.echo(f"{len(chosen)} retried")


def _runtime() -> Runtime:
    rt: Runtime = current_app.extensions["runtime"]
    if rt.in_process:
        raise click.ClickException(
            "REDIS_URL is not set: jobs run inside the web process and their failures are only "
            "logged there; set REDIS_URL to the service's Redis")
    return rt


def _redis() -> Redis:
    return _runtime().redis


# Formatting ---------------------------------------------------------------------------


def _utc(when: datetime | None) -> datetime | None:
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _when(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%SZ") if when else "(time unknown)"


def _last_line(text: str) -> str:
    lines: Iterable[str] = (line.strip() for line in text.strip().splitlines())
    return _one_line(next((line for line in reversed(list(lines)) if line), ""))


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= REASON_LIMIT else flat[: REASON_LIMIT - 1] + "…"
