"""Canaries: what the service relies on in pymessenger, RQ, redis-py and requests, checked
so that an upgrade that changes it fails here, loudly, not in production. Every layer
uses these libraries' public APIs only (docs/PERFORMANCE.md, "Library internals")."""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json

import pytest
import redis.utils
import responses
from pymessenger.bot import Bot
from redis import Redis
from requests.adapters import HTTPAdapter
from rq import Queue
from rq.scheduler import RQScheduler
from rq.worker import SimpleWorker

from bot.scheduler_thread import SchedulerThread
from messenger.graph import GraphClient
from worker import DeskWorker

TOKEN = "PAGE-TOKEN-canary"
SECRET = "app-secret-canary"
SEND = "https://graph.facebook.com/v27.0/me/messages"

# pymessenger's message builders we inherit: each only builds a body and hands it to
# `send_raw`, which is ours (checked, `messaging_type`, retries).
INHERITED_BUILDERS = {"send_generic_message", "send_button_message", "_send_payload"}


def test_pymessenger_still_computes_the_appsecret_proof() -> None:
    expected = hmac.new(SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
    client = GraphClient(access_token=TOKEN, app_secret=SECRET)
    assert client.auth_args == {"access_token": TOKEN, "appsecret_proof": expected}
    assert GraphClient(access_token=TOKEN).auth_args == {"access_token": TOKEN}


def test_every_pymessenger_call_that_sends_is_ours_or_goes_through_our_send_raw() -> None:
    inherited = {name for name, member in inspect.getmembers(Bot, callable)
                 if not name.startswith("__") and name not in vars(GraphClient)}
    # A new pymessenger method would post with a bare `requests.post`: wrap it first.
    assert inherited <= INHERITED_BUILDERS, f"new pymessenger methods: {inherited - INHERITED_BUILDERS}"


@pytest.mark.parametrize("call", [
    lambda c: c.send_generic_message("123", [{"title": "t"}]),
    lambda c: c.send_button_message("123", "pick", []),
    lambda c: c._send_payload({"recipient": {"id": "123"}, "message": {"text": "hi"}}),
])
def test_pymessenger_builders_send_through_our_send_raw(call) -> None:
    with responses.RequestsMock() as mocked:
        mocked.post(SEND, json={"recipient_id": "123", "message_id": "m_1"})
        call(GraphClient(access_token=TOKEN, app_secret=SECRET))
        sent = json.loads(mocked.calls[0].request.body)
        assert sent["messaging_type"] == "RESPONSE"  # added by our send_raw only
        assert "appsecret_proof=" in mocked.calls[0].request.url


def test_rq_scheduler_public_methods_the_thread_calls_are_there() -> None:
    for name in ("acquire_locks", "register_birth", "register_death", "heartbeat",
                 "enqueue_scheduled_jobs", "release_locks", "stop", "get_locking_key"):
        assert callable(getattr(RQScheduler, name)), name
    for name in ("should_reacquire_locks", "acquired_locks"):
        assert isinstance(inspect.getattr_static(RQScheduler, name), property), name
    params = inspect.signature(RQScheduler).parameters
    assert {"queues", "connection", "interval", "serializer"} <= set(params)


def test_rq_worker_hooks_desk_worker_overrides_are_public_and_called() -> None:
    params = inspect.signature(SimpleWorker.work).parameters
    assert {"burst", "with_scheduler"} <= set(params)
    for name in ("bootstrap", "teardown", "run_maintenance_tasks"):
        assert name in vars(DeskWorker) and callable(getattr(SimpleWorker, name)), name
    assert isinstance(inspect.getattr_static(SimpleWorker, "dequeue_timeout"), property)
    private = {name for name in vars(DeskWorker) if name.startswith("_") and not name.startswith("__")}
    assert private == set(), f"DeskWorker overrides RQ internals again: {private}"


def test_rq_never_starts_its_own_scheduler_beside_ours(redis: Redis, monkeypatch) -> None:
    import worker

    monkeypatch.setattr(worker, "_settings_or_exit", lambda: None)
    monkeypatch.setattr(worker, "_recover", lambda: None)
    desk = DeskWorker([Queue("events", connection=redis)], connection=redis)
    desk.work(burst=True, with_scheduler=True)
    assert desk.scheduler is None  # RQ's forked scheduler (and its restarts) never made
    assert isinstance(desk.desk_scheduler, SchedulerThread)


def test_redis_py_parses_replies_with_hiredis() -> None:
    # hiredis (requirements.in) is the public way to a fast reply parser: redis-py
    # picks it up by itself; without it every reply is parsed in Python.
    assert redis.utils.HIREDIS_AVAILABLE


def test_graph_session_is_requests_own_pooled_adapter() -> None:
    adapter = GraphClient(access_token=TOKEN, pool_size=5).session.get_adapter(SEND)
    assert type(adapter) is HTTPAdapter
    assert adapter.poolmanager.connection_pool_kw["maxsize"] == 5
