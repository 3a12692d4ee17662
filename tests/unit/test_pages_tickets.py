"""Tickets carry their Page and channel: in the API and on the staff's ticket page."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from app import create_app
from bot.models import Customer
from core import runtime
from core.db import session_scope
from core.runtime import Runtime
from tests.conftest import make_settings
from tickets import service
from tickets.types import ticket_types

TOKEN = "admin-token-5b1e77"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app(tmp_path: Path, redis: Redis, redis_url: str):  # type: ignore[no-untyped-def]
    flask_app = create_app(make_settings(tmp_path, redis_url=redis_url, admin_api_token=TOKEN))
    yield flask_app
    runtime.install(None)
    flask_app.extensions["runtime"].engine.dispose()


def _open(rt: Runtime, customer: Customer, source: str, page_id: str | None = None) -> int:
    with session_scope(rt.engine) as session:
        session.add(customer)
        session.flush()
        ticket, _ = service.open_ticket(
            session, customer=customer, ticket_type=ticket_types(rt.flows.current)["billing"],
            title="Charged twice", description="Details", source=source, locale="en",
            sender="support@example.com", page_id=page_id)
        return ticket.id  # type: ignore[return-value]


def test_the_api_gives_each_tickets_page_and_channel(app: Flask, client: FlaskClient) -> None:
    rt: Runtime = app.extensions["runtime"]
    from_messenger = _open(rt, Customer(page_id="1001", psid="5"), "messenger")
    from_instagram = _open(rt, Customer(page_id="1784001", psid="ig6", channel="instagram"),
                           "messenger", page_id="1001")
    from_web = _open(rt, Customer(page_id="1002", psid="7"), "web")
    listed = {t["id"]: (t["page_id"], t["channel"])
              for t in client.get("/api/tickets", headers=AUTH).get_json()["tickets"]}
    assert listed == {from_messenger: ("1001", "messenger"), from_instagram: ("1001", "instagram"),
                      from_web: ("1002", "web")}
    detail = client.get(f"/api/tickets/{from_instagram}", headers=AUTH).get_json()
    assert (detail["page_id"], detail["channel"]) == ("1001", "instagram")


def test_the_staff_ticket_page_shows_the_page_and_channel_and_customers_do_not_see_it(
        app: Flask, client: FlaskClient) -> None:
    from tests.unit.test_tickets_web import add_agent, sign_in_agent, sign_in_customer

    rt: Runtime = app.extensions["runtime"]
    customer = Customer(page_id="1784001", psid="ig6", channel="instagram")
    ticket_id = _open(rt, customer, "messenger", page_id="1001")
    add_agent(rt)
    sign_in_agent(client)
    page = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert '<dd id="ticket-page">1001 · Instagram</dd>' in page  # one Page: no name to show
    other = app.test_client()
    sign_in_customer(other, rt, customer.id)  # type: ignore[arg-type]
    assert 'id="ticket-page"' not in other.get(f"/tickets/{ticket_id}").get_data(as_text=True)
