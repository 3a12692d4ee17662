"""The local Messenger preview in headless Chromium (Debian's chromium + chromium-driver).

`docs/preview.png` is a screenshot from this test:
    DESK_PREVIEW_SCREENSHOT=docs/preview.png .venv/bin/pytest tests/browser/test_preview.py
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from bot import extensions
from bot.flows.loader import load_flows
from core import runtime
from preview.local import LocalService, start_local
from tests.conftest import ROOT, make_settings
from tests.support.browser import needs_chromium, start_chromium

pytestmark = needs_chromium


def _has_handoff() -> bool:
    flows = load_flows(ROOT / "config" / "flows.yaml")
    wanted = any(flow.action == "live_agent" for flow in flows.flows.values())
    return wanted and "live_agent" in extensions.action_handlers()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = start_chromium(tmp_path_factory.mktemp("chromium"), window="1180,860", console_errors=True)
    yield driver
    driver.quit()


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalService]:
    from app import create_app

    flows = tmp_path / "flows.yaml"
    shutil.copy(ROOT / "config" / "flows.yaml", flows)
    settings = make_settings(tmp_path, messenger_page_access_token=None, flows_path=str(flows))
    service = start_local(settings, create_app, port=0)
    yield service
    service.stop()
    runtime.install(None)


@pytest.fixture(autouse=True)
def no_script_errors(browser: WebDriver, local: LocalService) -> Iterator[None]:
    """Every test ends with an empty browser console (errors), while the server still runs.

    The page is then left for a blank one: it polls its server, which stops now, and a
    poll refused between here and the next test's first page would count against it."""
    browser.get_log("browser")
    yield
    try:
        assert [entry["message"] for entry in browser.get_log("browser")] == []
    finally:
        browser.get("about:blank")


def wait(browser: WebDriver, css: str, text: str | None = None, timeout: float = 10) -> WebElement:
    """The last element matching `css` (whose text contains `text`), once it shows."""
    def found(driver: WebDriver) -> WebElement | bool:
        matches = [e for e in driver.find_elements(By.CSS_SELECTOR, css)
                   if e.is_displayed() and (text is None or text in e.text)]
        return matches[-1] if matches else False

    waiting = WebDriverWait(browser, timeout, ignored_exceptions=(StaleElementReferenceException,))
    return waiting.until(found, f"no {css} with {text!r}")


def tap(browser: WebDriver, css: str, text: str | None = None) -> None:
    """Click what `wait` finds; the page redraws as answers arrive, so retry a stale one."""
    def clicked(driver: WebDriver) -> bool:
        wait(driver, css, text).click()
        return True

    waiting = WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,))
    waiting.until(clicked, f"could not click {css} with {text!r}")


def chips(browser: WebDriver) -> list[str]:
    try:
        return [chip.text for chip in browser.find_elements(By.CSS_SELECTOR, "#quick-replies .chip")]
    except StaleElementReferenceException:
        return []


def screenshot(browser: WebDriver, tmp_path: Path, *, for_docs: bool = False) -> None:
    browser.save_screenshot(str(tmp_path / "preview.png"))
    target = os.environ.get("DESK_PREVIEW_SCREENSHOT")
    if target and for_docs:
        browser.save_screenshot(str(ROOT / target))


def open_preview(browser: WebDriver, local: LocalService) -> None:
    browser.get(local.preview_url)
    browser.execute_script("sessionStorage.clear()")
    browser.get(local.preview_url)


def test_customer_taps_quick_replies_buttons_and_the_menu_in_two_languages(
        browser: WebDriver, local: LocalService, tmp_path: Path) -> None:
    open_preview(browser, local)
    assert "Hi Ana!" in wait(browser, ".welcome").text
    tap(browser, ".get-started")
    wait(browser, ".bubble.page", "This is the support desk")
    tap(browser, "#quick-replies .chip", "Billing")
    wait(browser, ".bubble.customer", "Billing")
    portal = wait(browser, "a.template-button", "Billing portal")
    assert portal.get_attribute("href") == "https://example.com/billing"
    WebDriverWait(browser, 10).until(lambda b: chips(b)[:2] == ["Invoices", "Refunds"])  # 2nd message
    assert "Restart" in chips(browser)

    local.standin.latency = 1.0  # a slow Send API: the typing indicator shows meanwhile
    tap(browser, "#quick-replies .chip", "Refunds")
    wait(browser, ".typing")
    wait(browser, ".bubble.page", "refund within 30 days")
    assert not browser.find_elements(By.CSS_SELECTOR, ".typing")
    local.standin.latency = 0.0

    tap(browser, "#menu-button")
    tap(browser, "#menu-drawer .menu-item", "Restart")
    wait(browser, ".bubble.customer", "Restart")
    WebDriverWait(browser, 10).until(lambda b: "Billing" in chips(b))
    browser.find_element(By.ID, "message").send_keys("my account")
    browser.find_element(By.ID, "send").click()
    tap(browser, "button.template-button", "Password reset")  # a postback button
    wait(browser, ".bubble.page", "choose a new password")
    screenshot(browser, tmp_path)

    browser.find_element(By.CSS_SELECTOR, "#locale option[value=es]").click()
    assert "¡Hola Lucía!" in wait(browser, ".welcome", "Lucía").text
    box = browser.find_element(By.ID, "message")
    box.send_keys("FACTURACIÓN")
    browser.find_element(By.ID, "send").click()
    wait(browser, ".bubble.page", "facturación")
    WebDriverWait(browser, 10).until(lambda b: "Facturas" in chips(b))  # on the flow's last message


def test_a_broken_flows_file_shows_its_lines_in_the_page(
        browser: WebDriver, local: LocalService) -> None:
    open_preview(browser, local)
    path = Path(local.runtime.settings.flows_path)
    path.write_text(path.read_text().replace("menu:\n", "menu:\n  - [broken\n", 1))
    problems = wait(browser, "#problems", f"{path}:")
    assert "keeps serving the last good version" in problems.text


@pytest.mark.skipif(not _has_handoff(), reason="the handoff feature (issue 3: a live_agent flow "
                    "in config/flows.yaml and its action handler) has not landed yet")
def test_customer_asks_for_an_agent_who_answers_and_marks_it_done(
        browser: WebDriver, local: LocalService, tmp_path: Path) -> None:
    flows = local.runtime.flows.current
    human = next(f for f in flows.flows.values() if f.action == "live_agent")
    open_preview(browser, local)
    tap(browser, ".get-started")
    tap(browser, "#quick-replies .chip", "Billing")
    wait(browser, "a.template-button", "Billing portal")
    tap(browser, "#menu-button")
    tap(browser, "#menu-drawer .menu-item", flows.title(human.id, "en"))

    wait(browser, "#threads .thread", "Ana")
    wait(browser, ".notice-text", "passed this conversation to the Page Inbox")
    browser.find_element(By.ID, "agent-message").send_keys("Hi Ana, I'm Marta. Let me check.")
    browser.find_element(By.CSS_SELECTOR, "#agent-form button").click()
    wait(browser, ".row.agent .bubble", "I'm Marta")
    WebDriverWait(browser, 10).until(
        lambda b: local.standin.owner(_psid(b)) == local.standin.inbox_app_id)
    screenshot(browser, tmp_path, for_docs=True)

    tap(browser, "#mark-done")
    wait(browser, ".notice-text", "gave the conversation back to the bot")
    wait(browser, ".bubble.page", "How would you rate the help you got")  # satisfaction
    WebDriverWait(browser, 10).until(lambda b: chips(b) == ["⭐" * n for n in range(1, 6)])
    assert wait(browser, "#inbox-empty").is_displayed()
    tap(browser, "#quick-replies .chip", "⭐⭐⭐⭐⭐")
    wait(browser, ".bubble.page", "anything you would like to add")
    browser.find_element(By.ID, "message").send_keys("Marta was quick")
    browser.find_element(By.ID, "send").click()
    wait(browser, ".bubble.page", "Thanks for your feedback")
    WebDriverWait(browser, 10).until(lambda b: "Billing" in chips(b))


def _psid(browser: WebDriver) -> str:
    """The customer of the conversation shown (the preview keeps one per Page and channel)."""
    return str(browser.execute_script(
        "const page = JSON.parse(document.getElementById('preview-config').textContent).page_id;"
        "return JSON.parse(sessionStorage.getItem('support-desk-preview:' + page)).psid"))
