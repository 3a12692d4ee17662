"""Attachments on the web side: the webhook acknowledges a message with files
without fetching anything; the ticket screen and the API serve stored files to
whoever may see the ticket, never rendering an uploaded SVG or HTML page inline."""

from __future__ import annotations

from pathlib import Path

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlmodel import Session, select

from app import create_app
from attachments import jobs
from attachments.models import Attachment
from core import runtime
from core.db import session_scope
from core.runtime import Runtime
from tests.conftest import make_settings
from tests.support import payloads as p
from tests.support.files import png
from tests.unit.test_tickets_web import add_customer, add_ticket, sign_in_customer

TOKEN = "admin-token-for-files-1234"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"></svg>'
HTML = b"<!doctype html><script>fetch('/api/tickets')</script>"


@pytest.fixture
def app(tmp_path: Path, redis: Redis, redis_url: str):  # type: ignore[no-untyped-def]
    flask_app = create_app(make_settings(tmp_path, redis_url=redis_url, admin_api_token=TOKEN))
    yield flask_app
    runtime.install(None)
    flask_app.extensions["runtime"].engine.dispose()


@pytest.fixture
def rt(app: Flask) -> Runtime:
    return app.extensions["runtime"]


def test_the_webhook_acknowledges_files_without_fetching_or_storing_them(
        client: FlaskClient, rt: Runtime, redis: Redis) -> None:
    message = p.text("501", "")
    message["message"] = {"mid": "m_files", "attachments": [
        {"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/a.jpg"}},
        {"type": "file", "payload": {"url": "https://cdn.fbsbx.com/b.pdf"}}]}
    body, headers = p.signed(p.page(message))
    with responses.RequestsMock() as mocked:  # any HTTP call from the web process would fail
        answer = client.post("/webhook", data=body, headers={**headers, "Content-Type": "application/json"})
        assert answer.status_code == 200 and len(mocked.calls) == 0
    with Session(rt.engine) as session:
        assert session.exec(select(Attachment)).all() == []  # decided by the worker, later


def _stored(rt: Runtime, ticket_id: int, customer_id: int, data: bytes, name: str) -> int:
    with session_scope(rt.engine) as session:
        row = Attachment(key=f"test:{name}", customer_id=customer_id, ticket_id=ticket_id, kind="file",
                         name=name, source_url="https://cdn.fbsbx.com/x")
        session.add(row)
        session.flush()
        attachment_id = row.id
    assert attachment_id is not None
    jobs.keep(rt, attachment_id, data)
    return attachment_id


def test_an_uploaded_svg_or_html_page_is_a_download_never_a_page(client: FlaskClient, rt: Runtime) -> None:
    ana = add_customer(rt, "601")
    ticket = add_ticket(rt, ana)
    photo = png()
    for data, name in ((photo, "photo.png"), (SVG, "logo.svg"), (HTML, "page.html")):
        _stored(rt, ticket, ana, data, name)
    sign_in_customer(client, rt, ana)
    page = client.get(f"/tickets/{ticket}").get_data(as_text=True)
    assert f'<img src="/tickets/{ticket}/attachments/1"' in page
    assert f'<img src="/tickets/{ticket}/attachments/2"' not in page and "logo.svg" in page
    image = client.get(f"/tickets/{ticket}/attachments/1")
    assert image.data == photo and image.headers["Content-Type"] == "image/png"
    for n, data in ((2, SVG), (3, HTML)):
        served = client.get(f"/tickets/{ticket}/attachments/{n}")
        assert served.data == data
        assert served.headers["Content-Type"] == "application/octet-stream"
        assert served.headers["Content-Disposition"].startswith("attachment;")
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in served.headers["Content-Security-Policy"]
    assert client.get(f"/tickets/{ticket}/attachments/4").status_code == 404


def test_a_customer_never_gets_another_customers_file(client: FlaskClient, rt: Runtime) -> None:
    ana, ben = add_customer(rt, "602"), add_customer(rt, "603", name="Ben")
    theirs = add_ticket(rt, ben)
    _stored(rt, theirs, ben, png(), "ben.png")
    sign_in_customer(client, rt, ana)
    assert client.get(f"/tickets/{theirs}/attachments/1").status_code == 404


def test_the_api_lists_files_with_their_state_and_serves_them_with_the_token(
        client: FlaskClient, rt: Runtime) -> None:
    ana = add_customer(rt, "604")
    ticket = add_ticket(rt, ana)
    photo = png()
    _stored(rt, ticket, ana, photo, "photo.png")
    with session_scope(rt.engine) as session:
        session.add(Attachment(key="test:big", customer_id=ana, ticket_id=ticket, kind="video",
                               name="big.mp4", status="too_large", size=30 * 2**20))
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    listed = client.get(f"/api/tickets/{ticket}", headers=bearer).get_json()["attachments"]
    assert [(f["name"], f["status"], f["size"]) for f in listed] == [
        ("photo.png", "stored", len(photo)), ("big.mp4", "too_large", 30 * 2**20)]
    assert listed[0]["url"] == f"http://localhost/api/tickets/{ticket}/attachments/1"
    assert listed[1]["url"] is None
    assert client.get(f"/api/tickets/{ticket}/attachments/1", headers=bearer).data == photo
    assert client.get(f"/api/tickets/{ticket}/attachments/1").status_code == 401
    assert client.get(f"/api/tickets/{ticket}/attachments/2", headers=bearer).status_code == 404
