"""The ticket web screen in headless Chromium (Debian's chromium + chromium-driver),
served over real HTTP: sign in with the bot's link, open a ticket, see it
listed with its status, resolve it, log out; and another customer's ticket
stays out of reach."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait
from werkzeug.serving import make_server

from bot.models import Customer
from core import runtime
from core.db import session_scope
from core.runtime import Runtime
from tests.conftest import make_settings
from tests.support.browser import needs_chromium, start_chromium
from tickets import links, service
from tickets.types import ticket_types

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = start_chromium(tmp_path_factory.mktemp("chromium"), window="1100,800")
    yield driver
    driver.quit()


@pytest.fixture
def site(tmp_path: Path, redis: Redis, redis_url: str, browser: WebDriver) -> Iterator[tuple[str, Runtime]]:
    """The app over real HTTP on loopback; yields its base URL and runtime."""
    from app import create_app

    app = create_app(make_settings(tmp_path, redis_url=redis_url))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    browser.delete_all_cookies()
    yield f"http://127.0.0.1:{server.server_port}", app.extensions["runtime"]
    server.shutdown()
    server.server_close()
    runtime.install(None)
    app.extensions["runtime"].engine.dispose()


def customer(rt: Runtime, psid: str, name: str) -> int:
    with session_scope(rt.engine) as session:
        row = Customer(page_id="1000000001", psid=psid, first_name=name, messenger_locale="en_US")
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def sign_in(browser: WebDriver, base: str, rt: Runtime, customer_id: int) -> None:
    """What the customer does with the link the bot sent them."""
    link = links.login_url(base, rt.settings.secret_key, customer_id)
    browser.get(link)
    click(browser, By.ID, "continue")
    wait(browser).until(ec.url_to_be(f"{base}/tickets"))


def wait(browser: WebDriver) -> WebDriverWait:
    """Waits through a page that is still being replaced: an element of the old
    document can vanish between the lookup and its use (Chromium then answers
    "Node with given id does not belong to the document"), so look again."""
    return WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,))


def click(browser: WebDriver, by: str, value: str) -> None:
    """Click an element of the page being shown, once it is there and clickable."""
    wait(browser).until(ec.element_to_be_clickable((by, value))).click()


def row_status(browser: WebDriver, title: str) -> str:
    row = browser.find_element(By.XPATH, f"//table[@id='tickets']//tr[td/a[text()='{title}']]")
    return row.find_element(By.CSS_SELECTOR, ".status").text


def test_sign_in_open_a_ticket_see_it_listed_resolve_it_and_log_out(
        browser: WebDriver, site: tuple[str, Runtime]) -> None:
    base, rt = site
    sign_in(browser, base, rt, customer(rt, "800", "Ana"))
    assert "No tickets yet." in browser.page_source

    click(browser, By.ID, "new-ticket")
    wait(browser).until(ec.presence_of_element_located((By.ID, "title"))).send_keys("Cannot log in")
    Select(browser.find_element(By.ID, "type")).select_by_visible_text("Technical")
    browser.find_element(By.ID, "description").send_keys("The app says error 500 since Monday.")
    click(browser, By.ID, "open-ticket")
    wait(browser).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Cannot log in"))
    assert browser.find_element(By.ID, "ticket-status").text == "Open"

    click(browser, By.ID, "nav-list")
    wait(browser).until(ec.presence_of_element_located((By.ID, "tickets")))
    assert row_status(browser, "Cannot log in") == "Open"
    row = browser.find_element(By.CSS_SELECTOR, "#tickets tbody tr").text
    assert "Ana" in row and "Technical" in row and "(CET)" in row  # the business hours' timezone

    click(browser, By.LINK_TEXT, "Cannot log in")
    click(browser, By.ID, "resolve")
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "ticket-status"), "Resolved"))
    click(browser, By.ID, "nav-list")
    wait(browser).until(ec.presence_of_element_located((By.ID, "tickets")))
    assert row_status(browser, "Cannot log in") == "Resolved"

    click(browser, By.CSS_SELECTOR, "#profile-menu summary")  # the menu at the top right
    logout = browser.find_element(By.ID, "logout")
    assert logout.text == "Logout"
    logout.click()
    wait(browser).until(ec.url_to_be(f"{base}/login"))
    browser.get(f"{base}/tickets")
    assert browser.current_url == f"{base}/login"  # signed out for good


def test_a_customer_cannot_open_another_customers_ticket(browser: WebDriver,
                                                         site: tuple[str, Runtime]) -> None:
    base, rt = site
    bob = customer(rt, "801", "Bob")
    with session_scope(rt.engine) as session:
        bob_row = session.get(Customer, bob)
        assert bob_row is not None
        ticket, _ = service.open_ticket(
            session, customer=bob_row, ticket_type=ticket_types(rt.flows.current)["billing"],
            title="Bob secret refund", description="IBAN ES00 1234", source="messenger", locale="en",
            sender="support@example.com")
        bobs = ticket.id
    sign_in(browser, base, rt, customer(rt, "802", "Ana"))
    browser.get(f"{base}/tickets/{bobs}")
    assert browser.find_element(By.ID, "error").text == "Not found."
    assert "Bob secret refund" not in browser.page_source and "IBAN" not in browser.page_source
    browser.get(f"{base}/tickets")
    assert "Bob secret refund" not in browser.page_source
