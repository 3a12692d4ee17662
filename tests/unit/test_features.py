"""Every process registers every feature with the bot's seams (`features.register_all`):
the app factory (web, `flask` CLI, preview) and the worker, each in a fresh interpreter,
so that nothing here leans on this test session's own registration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue

from bot import extensions
from config.settings import as_environ
from core.schema import upgrade_database
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
RQ = str(Path(sys.executable).parent / "rq")

EVERY_FEATURE = {
    # files kept whoever has the thread; the resolved event is satisfaction's alone; a person
    # chatting silences the rest; the ticket wizard, the web's my-tickets ref; a typed rating
    # only when nothing took it
    "turn_hooks": ["attachments.record.keep_files", "satisfaction.events.resolved_hook",
                   "handoff.hooks.handoff_hook", "tickets.chat.turn_hook",
                   "tickets.referral.turn_hook", "satisfaction.answers.turn_hook"],
    "actions": ["create_ticket", "live_agent", "my_tickets", "restart", "resume_bot"],
    "payloads": ["handoff", "rate", "ticket"],
    "follow_ups": ["handoff.granted", "handoff.owner", "handoff.passed", "handoff.took",
                   "handoff.took_for_offer", "owned_elsewhere", "tickets.file_sent",
                   "tickets.reply_sent"],
    "executors": ["fetch_attachments", "send_file"],
    "gauges": ["tickets.queries.status_gauges", "satisfaction.stats.rating_gauges"],
}


def _environ(tmp_path: Path, redis_url: str) -> dict[str, str]:
    settings = make_settings(tmp_path, redis_url=redis_url)
    upgrade_database(settings.database_url)  # as the release step does: processes check it
    return {**os.environ, **as_environ(settings), "PYTHONPATH": str(ROOT)}


def test_the_app_factory_registers_every_feature(tmp_path: Path, redis_url: str) -> None:
    code = ("import json; from app import create_app; from config.settings import load_settings; "
            "from tests.support.seams import registered; create_app(load_settings()); "
            "print(json.dumps(registered()))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env=_environ(tmp_path, redis_url), timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == EVERY_FEATURE


def test_the_worker_registers_every_feature_before_its_first_job(
        tmp_path: Path, redis_url: str, redis: Redis) -> None:
    job = Queue("events", connection=redis).enqueue("tests.support.seams.registered")
    done = subprocess.run([RQ, "worker", "--burst", "--worker-class", "worker.DeskWorker",
                           "--url", redis_url, "events"], cwd=tmp_path, capture_output=True,
                          text=True, env=_environ(tmp_path, redis_url), timeout=60)
    assert done.returncode == 0, done.stderr
    job.refresh()
    assert job.return_value() == EVERY_FEATURE


def test_a_name_claimed_by_two_different_handlers_is_refused() -> None:
    extensions.register_action("live_agent", extensions.action_handlers()["live_agent"])  # again: fine
    with pytest.raises(ValueError, match="action 'live_agent' is registered twice"):
        extensions.register_action("live_agent", lambda turn, flow: None)


def test_an_unknown_turn_phase_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown turn phase 'early'"):
        extensions.register_turn_hook(lambda turn: False, phase="early")  # type: ignore[arg-type]
