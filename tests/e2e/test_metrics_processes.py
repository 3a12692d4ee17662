"""One scrape of `/metrics` shows what the web process and a separate RQ worker
process counted (real processes, real Redis); the worker's JSON log lines name
its job and the customer it serves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from core import metrics
from messenger.standin import Standin
from tests.e2e.conftest import StartService
from tests.support.servers import wait_until
from tests.unit.test_logs import logging_restored
from tests.unit.test_metrics import Samples, samples, value

pytestmark = pytest.mark.e2e
TOKEN = "metrics-token-e2e-51d2"


def scrape(base: str) -> Samples:
    answer = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"},
                          timeout=5)
    assert answer.status_code == 200
    return samples(answer.text)


@pytest.fixture
def json_logs() -> Iterator[None]:
    with logging_restored():  # the web app runs in this process: its set-up is undone after
        yield


def test_web_and_worker_counts_meet_in_one_scrape_and_worker_logs_are_json(
        start_service: StartService, standin: tuple[Standin, str], tmp_path: Path,
        json_logs: None) -> None:
    fake, _ = standin
    start_service(metrics_token=TOKEN, log_format="json")
    metrics.discard_pending()  # the web runs in this (test) process
    base = fake.webhook_url.removesuffix("/webhook")
    fake.add_user("800", has_profile=False)  # the worker logs that it found no profile
    fake.customer_says("800", "hello")
    fake.wait_for_sent("800", 1)

    def counted() -> Samples | None:
        found = scrape(base)
        done = value(found, "support_desk_events_processed_total", outcome="handled")
        return found if done and value(found, "support_desk_graph_calls_total",
                                       kind="send", code="ok", page="") else None

    found = wait_until(counted, timeout=10)
    received = value(found, "support_desk_events_received_total")  # the web process
    assert received and value(found, "support_desk_events_acknowledged_total") == received
    assert value(found, "support_desk_events_processed_total", outcome="handled") >= 1  # worker
    assert value(found, "support_desk_graph_calls_total", kind="send", code="ok", page="") >= 1
    assert value(found, "support_desk_graph_calls_total", kind="node_get", code="ok", page="") is None
    assert value(found, "support_desk_graph_call_seconds_count", kind="send") >= 1
    assert value(found, "support_desk_events_waiting") is not None  # read from Redis

    lines = [json.loads(line) for line in (tmp_path / "worker-0.log").read_text().splitlines()
             if line.startswith("{")]
    serving = [line for line in lines if "no profile" in line["message"]]
    assert serving, "the worker logged no JSON line about the customer"
    assert serving[0]["customer"].endswith(":800") and serving[0]["job_id"]
