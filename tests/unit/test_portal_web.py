"""The support portal on the ticket screen: the "Customer support" navigation, and
Chat Support's links per Page and channel (with the my-tickets ref) on its own page
and on the sign-in page, in a pages-file deployment and in single-Page mode."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis

from config.settings import Settings
from core import runtime
from core.runtime import Runtime
from tests.conftest import make_settings
from tests.unit.test_tickets_web import add_agent, add_customer, sign_in_agent, sign_in_customer

PAGES = """\
pages:
  - id: "1000000001"
    name: Shop Spain
    token_env: SHOP_ES_TOKEN
    username: shop.es
    instagram_id: "17840000000000001"
    instagram_username: shop_es
  - id: "1000000002"
    name: Shop Mexico
    token_env: SHOP_MX_TOKEN
    instagram_id: "17840000000000002"
"""


@pytest.fixture
def rt(app: Flask) -> Runtime:
    return app.extensions["runtime"]


@pytest.fixture
def agency(tmp_path: Path, redis: Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The app serving two Pages, one with its Instagram account's username."""
    from app import create_app

    monkeypatch.setenv("SHOP_ES_TOKEN", "EAAes-token")
    monkeypatch.setenv("SHOP_MX_TOKEN", "EAAmx-token")
    path = tmp_path / "pages.yaml"
    path.write_text(PAGES)
    settings: Settings = make_settings(tmp_path, redis_url=redis_url, pages_path=str(path))
    flask_app = create_app(settings)
    yield flask_app
    runtime.install(None)
    flask_app.extensions["runtime"].engine.dispose()


def hrefs(html: str) -> list[str]:
    block = re.search(r'<ul class="chat-links" id="chat-links">(.*?)</ul>', html, re.S)
    assert block, html
    return re.findall(r'href="([^"]+)"', block.group(1))


def test_the_sign_in_page_offers_each_page_and_channel_with_the_ref(agency: Flask) -> None:
    html = agency.test_client().get("/login").get_data(as_text=True)
    assert hrefs(html) == ["https://m.me/shop.es?ref=my-tickets", "https://ig.me/m/shop_es?ref=my-tickets",
                           "https://m.me/1000000002?ref=my-tickets"]  # no username: its id
    assert "Shop Spain on Instagram" in html and "Shop Mexico on Messenger" in html
    assert "Shop Mexico on Instagram" not in html  # its username is unknown: no ig.me link


def test_a_signed_in_customer_has_the_navigation_and_chat_support(agency: Flask) -> None:
    client, rt = agency.test_client(), agency.extensions["runtime"]
    sign_in_customer(client, rt, add_customer(rt, "40", locale="es_ES"))
    listing = client.get("/tickets").get_data(as_text=True)
    nav = re.search(r'<nav class="side".*?</nav>', listing, re.S)
    assert nav and "Soporte al cliente" in nav.group(0)
    assert 'id="nav-list" href="/tickets" aria-current="page">Soporte por email' in nav.group(0)
    assert 'id="nav-chat" href="/tickets/chat"' in nav.group(0) and "Cerrar sesión" in listing
    chat = client.get("/tickets/chat").get_data(as_text=True)
    assert 'id="nav-chat" href="/tickets/chat" aria-current="page"' in chat
    assert hrefs(chat)[0] == "https://m.me/shop.es?ref=my-tickets" and "Shop Spain en Instagram" in chat


def test_chat_support_needs_a_signed_in_viewer(agency: Flask) -> None:
    answer = agency.test_client().get("/tickets/chat")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def test_single_page_mode_links_the_page_webhooks_named(app: Flask, rt: Runtime) -> None:
    client = app.test_client()
    first = client.get("/login").get_data(as_text=True)
    assert hrefs(first) == [] and "Not available yet." in first and "PAGES_PATH" not in first
    add_agent(rt)
    sign_in_agent(client)
    staff = client.get("/tickets/chat").get_data(as_text=True)
    assert "appears once the Page has received its first message" in staff  # what to do
    add_customer(rt, "41")  # a customer wrote to Page 1000000001
    assert hrefs(client.get("/tickets/chat").get_data(as_text=True)) == [
        "https://m.me/1000000001?ref=my-tickets"]


def test_staff_learn_which_instagram_account_lacks_its_username(agency: Flask) -> None:
    client, rt = agency.test_client(), agency.extensions["runtime"]
    add_agent(rt)
    sign_in_agent(client)
    staff = client.get("/tickets/chat").get_data(as_text=True)
    assert "Shop Mexico on Instagram" in staff and "add instagram_username" in staff
    assert len(hrefs(staff)) == 3  # the three links, and the entry without one


def test_staff_see_the_same_section_with_ratings(app: Flask, rt: Runtime) -> None:
    add_agent(rt)
    client = app.test_client()
    sign_in_agent(client)
    page = client.get("/tickets/chat")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="nav-ratings"' in html and 'id="nav-new"' not in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    with client.get("/tickets/static/portal.js") as script:
        assert script.status_code == 200 and b"menu-button" in script.data
