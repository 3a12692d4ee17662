"""Two Pages through the real web and worker processes: each customer is answered with
its own Page's token and flows, each handed over to the Page Inbox on its own Page, and
an event for a Page the pages file does not list is acknowledged and ignored."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from redis import Redis
from sqlmodel import Session, select

from bot.models import Customer
from core import runtime
from messenger.standin import Standin, serve_standin
from messenger.standin.world import PAGE_INBOX_APP_ID as INBOX
from tests.conftest import ROOT, make_settings
from tests.support import payloads as p
from tests.support.servers import wait_until
from tests.support.service import Service

pytestmark = pytest.mark.e2e
SHIPPED = (ROOT / "config" / "flows.yaml").read_text()
PSID = "77"  # the same PSID on both Pages: PSIDs are page-scoped, so two different people
METRICS = "metrics-token-31"


@pytest.fixture
def pages() -> Iterator[tuple[Standin, Standin, Standin, str]]:
    """Spain and France (in the pages file) and Italy (not), behind one Graph API."""
    spain, france, italy = (
        Standin(page_id=page_id, app_id=p.APP_ID, app_secret=p.APP_SECRET, access_token=token)
        for page_id, token in (("1001", "token-es"), ("1002", "token-fr"), ("1003", "token-it")))
    server, url = serve_standin(spain, others=[france, italy])
    yield spain, france, italy, url
    server.shutdown()
    for standin in (spain, france, italy):
        standin.close()


@pytest.fixture
def service(tmp_path: Path, redis: Redis, redis_url: str, pages, monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[Service]:  # type: ignore[no-untyped-def]
    spain, france, italy, url = pages
    french_flows = tmp_path / "flows-fr.yaml"
    french_flows.write_text(SHIPPED.replace("Pick a topic, or type", "Choose a subject, or type"))
    (tmp_path / "pages.yaml").write_text(f"""\
pages:
  - id: "1001"
    name: Shop Spain
    token_env: ES_PAGE_TOKEN
  - id: "1002"
    name: Shop France
    token_env: FR_PAGE_TOKEN
    flows: {french_flows}
""")
    monkeypatch.setenv("ES_PAGE_TOKEN", "token-es")  # the web (here) and workers read them
    monkeypatch.setenv("FR_PAGE_TOKEN", "token-fr")
    settings = make_settings(tmp_path, redis_url=redis_url, graph_api_url=url, drain_threads=4,
                             lease_ms=3000, messenger_page_access_token=None,
                             pages_path=str(tmp_path / "pages.yaml"), metrics_token=METRICS)
    desk = Service(settings, tmp_path)
    webhook = desk.start_web() + "/webhook"
    for standin in (spain, france, italy):
        standin.webhook_url = webhook
    desk.start_worker()
    yield desk
    desk.stop()
    runtime.install(None)


def _texts(standin: Standin, psid: str) -> list[str]:
    return [body["message"].get("text") or body["message"]["attachment"]["payload"]["text"]
            for body in standin.sent(psid)]


def test_each_customer_is_answered_and_handed_over_by_its_own_page(
        service: Service, pages, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    spain, france, italy, _ = pages
    spain.add_user(PSID, first_name="Ana", locale="en_US")
    france.add_user(PSID, first_name="Zoé", locale="en_US")

    spain.customer_says(PSID, "hello")
    france.customer_says(PSID, "hello")
    spain.wait_for_sent(PSID, 1, timeout=30)
    france.wait_for_sent(PSID, 1, timeout=30)
    assert any("Pick a topic, or type" in text for text in _texts(spain, PSID))
    assert any("Choose a subject, or type" in text for text in _texts(france, PSID))  # its flows
    assert not any("Choose a subject" in text for text in _texts(spain, PSID))  # Ana got no reply of Zoé's

    # Live Agent Request on both Pages: each thread goes to its own Page's Inbox
    spain.customer_says(PSID, "I want to talk to a human")
    wait_until(lambda: spain.owner(PSID) == INBOX, timeout=30)
    assert france.owner(PSID) == p.APP_ID  # Zoé is still with the bot
    france.customer_says(PSID, "I want to talk to a human")
    wait_until(lambda: france.owner(PSID) == INBOX, timeout=30)
    for standin in (spain, france):
        assert [call["action"] for call in standin.control_calls(PSID)] == ["pass"]
        # every call reached its Page with that Page's token, and none was refused
        assert standin.calls and all(status == 200 for _, _, status in standin.calls)

    # Italy is not in the pages file: acknowledged (customer_says raises on a non-200), ignored
    italy.add_user("88", first_name="Gio")
    with caplog.at_level(logging.WARNING, logger="bot.webhook"):
        italy.customer_says("88", "ciao")
    assert "ignored the events of messenger account 1003" in caplog.text
    time.sleep(1.0)
    assert italy.calls == [] and italy.sent("88") == []
    with Session(service.app.extensions["runtime"].engine) as session:  # type: ignore[union-attr]
        customers = session.exec(select(Customer.page_id, Customer.psid, Customer.channel)).all()
    assert sorted(customers) == [("1001", PSID, "messenger"), ("1002", PSID, "messenger")]

    metrics = requests.get(f"{_base(service)}/metrics", timeout=5,
                           headers={"Authorization": f"Bearer {METRICS}"}).text
    for page_id in ("1001", "1002"):
        assert f'support_desk_handovers_total{{call="pass_thread_control",page="{page_id}"}} 1' \
            in metrics
        assert f'support_desk_graph_calls_total{{code="ok",kind="send",page="{page_id}"}}' in metrics
        assert f'support_desk_events_queued_total{{channel="messenger",page="{page_id}"}}' in metrics
    assert "support_desk_events_ignored_total 1.0" in metrics


def _base(service: Service) -> str:
    assert service._server is not None
    return f"http://127.0.0.1:{service._server.server_port}"
