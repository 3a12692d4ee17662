"""`flask jobs failed` / `jobs retry` on failed RQ jobs (the mailbox's failed
events are covered with the database outage that causes them)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from redis import Redis
from rq import Queue, SimpleWorker, get_current_job

from core import runtime
from tests.conftest import make_settings

REFUSAL = "the SMTP relay refused the login"


def flaky(fixed_key: str) -> str:
    """A job that fails until its cause is fixed (a key in Redis)."""
    job = get_current_job()
    assert job is not None
    if not job.connection.exists(fixed_key):
        raise RuntimeError(REFUSAL)
    return "sent"


def run_worker(redis: Redis) -> None:
    SimpleWorker([Queue("mail", connection=redis)], connection=redis).work(burst=True)


def test_a_failed_job_is_listed_with_its_reason_and_requeued(app: Flask, redis: Redis) -> None:
    job = Queue("mail", connection=redis).enqueue(flaky, "sd:test:fixed")
    run_worker(redis)
    cli = app.test_cli_runner()
    listed = cli.invoke(args=["jobs", "failed"])
    assert listed.exit_code == 0
    assert "1 failed job(s), 0 failed event(s)" in listed.output
    assert f"{job.id}  job" in listed.output and "queue mail" in listed.output
    assert "flaky('sd:test:fixed')" in listed.output
    assert f"reason: RuntimeError: {REFUSAL}" in listed.output

    redis.set("sd:test:fixed", 1)  # the operator fixed the relay
    retried = cli.invoke(args=["jobs", "retry", "--all"])
    assert retried.exit_code == 0
    assert f"{job.id}: job requeued on mail" in retried.output
    run_worker(redis)
    assert job.get_status(refresh=True) == "finished"
    assert cli.invoke(args=["jobs", "failed"]).output == "No failed jobs or events.\n"


def test_retry_needs_ids_or_all_and_refuses_unknown_ids(app: Flask, redis: Redis) -> None:
    Queue("mail", connection=redis).enqueue(flaky, "sd:test:never")
    run_worker(redis)
    cli = app.test_cli_runner()
    nothing = cli.invoke(args=["jobs", "retry"])
    assert nothing.exit_code == 2 and "or pass --all" in nothing.output
    unknown = cli.invoke(args=["jobs", "retry", "ev-000000000000"])
    assert unknown.exit_code == 1 and "no failed job or event with id ev-000000000000" in unknown.output
    assert "1 failed job(s)" in cli.invoke(args=["jobs", "failed"]).output  # nothing was retried


def test_without_redis_the_command_says_why_there_is_nothing_to_list(tmp_path: Path) -> None:
    from app import create_app

    flask_app = create_app(make_settings(tmp_path))
    try:
        result = flask_app.test_cli_runner().invoke(args=["jobs", "failed"])
    finally:
        runtime.install(None)
    assert result.exit_code == 1
    assert "REDIS_URL is not set" in result.output
