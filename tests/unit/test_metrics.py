"""`GET /metrics`: the token, the webhook's and the mailboxes' series, the
database gauges, and a scrape that answers in time while Redis is down."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis

from app import create_app
from bot.models import Customer
from core import metrics, runtime
from core.db import session_scope
from core.runtime import Runtime
from tests.conftest import make_settings
from tests.support import payloads as p
from tests.support.servers import free_port
from tickets import service
from tickets.types import ticket_types

TOKEN = "metrics-token-7c1f0a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


def scrape(client: FlaskClient) -> Samples:
    answer = client.get("/metrics", headers=AUTH)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.content_type.startswith("text/plain; version=")
    return samples(answer.get_data(as_text=True))


def build(tmp_path: Path, **overrides: object) -> Iterator[Flask]:
    flask_app = create_app(make_settings(tmp_path, **overrides))
    metrics.discard_pending()  # counts of earlier tests in this process
    yield flask_app
    runtime.install(None)
    flask_app.extensions["runtime"].engine.dispose()


@pytest.fixture
def app(tmp_path: Path, redis: Redis, redis_url: str) -> Iterator[Flask]:
    yield from build(tmp_path, redis_url=redis_url, metrics_token=TOKEN)


def test_without_a_token_configured_the_page_does_not_exist(tmp_path: Path, redis: Redis,
                                                           redis_url: str) -> None:
    for flask_app in build(tmp_path, redis_url=redis_url):
        assert flask_app.test_client().get("/metrics", headers=AUTH).status_code == 404


def test_a_missing_or_wrong_token_is_401(client: FlaskClient) -> None:
    missing = client.get("/metrics")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert missing.status_code == wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == "Bearer"
    assert b"support_desk" not in wrong.data


def test_webhook_answers_and_events_are_counted_and_waiting_events_shown(
        client: FlaskClient) -> None:
    old = p.now_ms() - 90_000
    body, headers = p.signed(p.page(p.text("601", "hi", timestamp=old), p.text("602", "yo")))
    assert client.post("/webhook", data=body, headers=headers).status_code == 200
    assert client.post("/webhook", data=body, headers=headers).status_code == 200  # redelivery
    forged, _ = p.signed(p.page(p.text("603", "x")), secret="someone-else")
    assert client.post("/webhook", data=forged, headers=headers).status_code == 403

    found = scrape(client)
    assert value(found, "support_desk_webhook_requests_total", code="200") == 2
    assert value(found, "support_desk_webhook_requests_total", code="403") == 1
    assert value(found, "support_desk_events_received_total") == 4
    assert value(found, "support_desk_events_acknowledged_total") == 4
    assert value(found, "support_desk_events_redelivered_total") == 2
    assert value(found, "support_desk_events_waiting") == 2  # no worker runs here
    assert 89 < value(found, "support_desk_events_oldest_age_seconds") < 200  # type: ignore[operator]
    assert value(found, "support_desk_customers_waiting", state="ready") == 2
    for source in ("counters", "mailboxes", "database"):
        assert value(found, "support_desk_metrics_source_up", source=source) == 1


def test_tickets_and_emails_by_status_come_from_the_database(app: Flask,
                                                            client: FlaskClient) -> None:
    rt: Runtime = app.extensions["runtime"]
    with session_scope(rt.engine) as session:
        customer = Customer(page_id=p.PAGE_ID, psid="610", first_name="Ana")
        session.add(customer)
        session.flush()
        opened = [service.open_ticket(
            session, customer=customer, ticket_type=ticket_types(rt.flows.current)["billing"],
            title=f"Problem {i}", description="Details", source="messenger", locale="en",
            sender="support@example.com")[0] for i in range(3)]
        service.resolve(session, opened[0], mailbox="tech@example.com",
                        sender="support@example.com")
        opened[0].rating_status, opened[0].rating = "asked", 4  # asked, then rated 4
        opened[1].rating_status = "outside_window"
        session.add_all(opened[:2])
    found = scrape(client)
    assert value(found, "support_desk_tickets", status="open") == 2
    assert value(found, "support_desk_tickets", status="resolved") == 1
    assert value(found, "support_desk_satisfaction_ratings", kind="ticket", page=p.PAGE_ID,
                 status="asked", score="4") == 1
    assert value(found, "support_desk_satisfaction_ratings", kind="ticket", page=p.PAGE_ID,
                 status="outside_window", score="") == 1
    assert value(found, "support_desk_emails", status="pending") >= 3  # type: ignore[operator]


def test_graph_calls_and_throttle_waits_from_any_process_add_up(client: FlaskClient) -> None:
    metrics.graph_call("POST", "/me/messages", "ok", 0.07)
    metrics.graph_call("POST", "/me/messages", "ok", 0.3)
    metrics.graph_call("POST", "/me/pass_thread_control", "10", 0.04)
    metrics.graph_call("GET", "/123456789", "ok", 0.02)
    metrics.throttled(0.25)
    metrics.throttled(0.0)
    found = scrape(client)
    assert value(found, "support_desk_graph_calls_total", kind="send", code="ok", page="") == 2
    assert value(found, "support_desk_graph_calls_total", kind="pass_thread_control",
                 code="10", page="") == 1
    assert value(found, "support_desk_graph_calls_total", kind="node_get", code="ok", page="") == 1
    assert value(found, "support_desk_graph_call_seconds_bucket", kind="send", le="0.1") == 1
    assert value(found, "support_desk_graph_call_seconds_bucket", kind="send", le="0.5") == 2
    assert value(found, "support_desk_graph_call_seconds_count", kind="send") == 2
    assert value(found, "support_desk_graph_call_seconds_sum", kind="send") == pytest.approx(0.37)
    assert value(found, "support_desk_throttle_waits_total") == 1
    assert value(found, "support_desk_throttle_wait_seconds_total") == pytest.approx(0.25)


def test_counts_made_while_redis_is_down_are_kept_until_it_is_back(
        redis: Redis, redis_url: str) -> None:
    metrics.discard_pending()
    metrics.bind(Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2))
    metrics.events_received.inc(3)
    assert metrics.flush() is False
    metrics.bind(redis)
    assert metrics.flush() is True
    field = metrics.encode(("support_desk_events_received_total", ()))
    assert redis.hget(metrics.HASH, field) == b"3"


def test_with_redis_down_a_scrape_answers_within_two_seconds_with_the_database(
        tmp_path: Path) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    for flask_app in build(tmp_path, redis_url=dead, metrics_token=TOKEN):
        started = time.monotonic()
        found = scrape(flask_app.test_client())
        assert time.monotonic() - started < 2.0
        assert value(found, "support_desk_metrics_source_up", source="counters") == 0
        assert value(found, "support_desk_metrics_source_up", source="mailboxes") == 0
        assert value(found, "support_desk_metrics_source_up", source="database") == 1
        assert ("support_desk_events_waiting", ()) not in found  # unknown, not 0


def test_with_redis_stalled_a_scrape_still_answers_within_two_seconds(tmp_path: Path) -> None:
    with socket.socket() as stalled:  # accepts connections (the kernel does), never answers
        stalled.bind(("127.0.0.1", 0))
        stalled.listen(64)
        url = f"redis://127.0.0.1:{stalled.getsockname()[1]}/0"
        for flask_app in build(tmp_path, redis_url=url, metrics_token=TOKEN):
            started = time.monotonic()
            found = scrape(flask_app.test_client())
            assert time.monotonic() - started < 2.0
            assert value(found, "support_desk_metrics_source_up", source="mailboxes") == 0
            assert value(found, "support_desk_tickets", status="open") is None  # none yet


def test_livez_answers_without_touching_the_database_or_redis(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    rt: Runtime = app.extensions["runtime"]

    def down(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("/livez must not touch the database or Redis")

    monkeypatch.setattr(rt.engine, "connect", down)
    monkeypatch.setattr(rt.redis, "execute_command", down)
    live = client.get("/livez")
    assert live.status_code == 200 and live.get_json() == {"status": "ok"}


def test_a_paused_page_and_an_unsubscribed_one_are_shown(app: Flask, client: FlaskClient) -> None:
    from core.page_health import page_health

    health = page_health(app.extensions["runtime"].redis)
    health.pause(p.PAGE_ID, "token_invalid", "code 190: expired")
    health.notice("2000", "unsubscribed", "app 1 receives no webhooks")
    found = scrape(client)
    assert value(found, "support_desk_page_paused", page=p.PAGE_ID, state="token_invalid") == 1
    assert value(found, "support_desk_page_problem", page="2000", kind="unsubscribed") == 1
    health.clear(p.PAGE_ID, reason="test")
    assert value(scrape(client), "support_desk_page_paused", page=p.PAGE_ID,
                 state="token_invalid") is None
