"""The support portal in headless Chromium: the "Customer support" navigation on the
left at desktop width, collapsed behind the menu button at phone width (it opens and
closes), Chat Support's links per Page and channel with the my-tickets ref, and the
same links on the sign-in page."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from werkzeug.serving import make_server

from core import runtime
from core.runtime import Runtime
from tests.browser.test_tickets_screen import click, customer, sign_in, wait
from tests.conftest import make_settings
from tests.support.browser import needs_chromium, start_chromium
from tests.unit.test_portal_web import PAGES

pytestmark = needs_chromium
DESKTOP, PHONE = (1100, 800), (390, 844)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = start_chromium(tmp_path_factory.mktemp("chromium"), window="1100,800",
                            console_errors=True)
    yield driver
    driver.quit()


@pytest.fixture
def site(tmp_path: Path, redis: Redis, redis_url: str, browser: WebDriver,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Runtime]]:
    """Two Pages (one with its Instagram account) over real HTTP on loopback."""
    from app import create_app

    monkeypatch.setenv("SHOP_ES_TOKEN", "EAAes-token")
    monkeypatch.setenv("SHOP_MX_TOKEN", "EAAmx-token")
    (tmp_path / "pages.yaml").write_text(PAGES)
    app = create_app(make_settings(tmp_path, redis_url=redis_url, pages_path=str(tmp_path / "pages.yaml")))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    browser.delete_all_cookies()
    browser.set_window_size(*DESKTOP)
    yield f"http://127.0.0.1:{server.server_port}", app.extensions["runtime"]
    server.shutdown()
    server.server_close()
    runtime.install(None)
    app.extensions["runtime"].engine.dispose()


def chat_links(browser: WebDriver) -> list[tuple[str, str | None]]:
    found = browser.find_elements(By.CSS_SELECTOR, "#chat-links a")
    return [(link.text, link.get_attribute("href")) for link in found]


def page_errors(browser: WebDriver) -> list[str]:
    """The console's errors (a script refused by the CSP, a missing file, a failed script)."""
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


EXPECTED = [("Shop Spain on Messenger", "https://m.me/shop.es?ref=my-tickets"),
            ("Shop Spain on Instagram", "https://ig.me/m/shop_es?ref=my-tickets"),
            ("Shop Mexico on Messenger", "https://m.me/1000000002?ref=my-tickets")]


def test_the_sign_in_page_offers_the_chat_links(browser: WebDriver, site: tuple[str, Runtime]) -> None:
    base, _ = site
    browser.get(f"{base}/login")
    assert chat_links(browser) == EXPECTED
    assert browser.find_elements(By.ID, "side-nav") == []  # nobody signed in: no navigation


def test_the_navigation_on_desktop_leads_to_chat_and_email_support(
        browser: WebDriver, site: tuple[str, Runtime]) -> None:
    base, rt = site
    sign_in(browser, base, rt, customer(rt, "900", "Ana"))
    nav = browser.find_element(By.ID, "side-nav")
    assert nav.is_displayed() and not browser.find_element(By.ID, "menu-button").is_displayed()
    assert nav.location["x"] < 50 and nav.size["width"] < 300  # a column on the left
    assert nav.find_element(By.ID, "support-section").text.lower() == "customer support"
    click(browser, By.ID, "nav-chat")
    wait(browser).until(ec.url_to_be(f"{base}/tickets/chat"))
    assert chat_links(browser) == EXPECTED
    assert browser.find_element(By.ID, "nav-chat").get_attribute("aria-current") == "page"
    click(browser, By.ID, "nav-list")
    wait(browser).until(ec.url_to_be(f"{base}/tickets"))
    assert browser.find_element(By.ID, "profile-menu").is_displayed()
    assert page_errors(browser) == []  # the script ran under the CSP, without errors


def test_on_a_phone_the_navigation_opens_from_the_menu_button(
        browser: WebDriver, site: tuple[str, Runtime]) -> None:
    base, rt = site
    sign_in(browser, base, rt, customer(rt, "901", "Ana"))
    browser.set_window_size(*PHONE)
    browser.get(f"{base}/tickets?lang=es")
    button = browser.find_element(By.ID, "menu-button")
    nav = browser.find_element(By.ID, "side-nav")
    assert button.is_displayed() and button.text.endswith("Menú") and not nav.is_displayed()
    assert button.get_attribute("aria-expanded") == "false"
    button.click()
    wait(browser).until(ec.visibility_of(nav))
    assert button.get_attribute("aria-expanded") == "true"
    assert "Soporte por chat" in nav.text and "Soporte por email" in nav.text
    button.click()
    wait(browser).until(ec.invisibility_of_element(nav))
    button.click()
    click(browser, By.ID, "nav-chat")
    wait(browser).until(ec.url_to_be(f"{base}/tickets/chat"))
    assert [href for _, href in chat_links(browser)] == [href for _, href in EXPECTED]
    assert browser.find_element(By.ID, "profile-menu").is_displayed()  # Cerrar sesión stays
