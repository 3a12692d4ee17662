"""The preview's Page and channel picker in headless Chromium: the demo serves two Pages
and the first one's Instagram account; on Instagram the conversation opens with the ice
breakers, the same pipeline answers through the Page's token as Instagram webhooks, and a
person is asked for through Instagram's inbox; the second Page answers with its own token."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from config.pages import INSTAGRAM_INBOX_APP_ID
from preview.local import LocalService
from tests.browser import test_preview as preview
from tests.browser.test_preview import _psid, chips, open_preview, tap, wait
from tests.support.browser import needs_chromium

pytestmark = needs_chromium
# the preview tests' browser, local service and empty-console check
browser, local, no_script_errors = preview.browser, preview.local, preview.no_script_errors
SPAIN, INSTAGRAM, MEXICO = ("Demo Shop Spain · Messenger", "Demo Shop Spain · Instagram",
                            "Demo Shop Mexico · Messenger")


def pick(browser: WebDriver, label: str) -> None:
    Select(browser.find_element(By.ID, "account")).select_by_visible_text(label)
    WebDriverWait(browser, 10).until(
        lambda b: b.find_element(By.ID, "account").get_attribute("value").endswith(
            b.execute_script("return JSON.parse(document.getElementById('preview-config')"
                             ".textContent).page_id")))


def test_the_picker_offers_each_page_and_channel(browser: WebDriver, local: LocalService) -> None:
    open_preview(browser, local)
    options = Select(browser.find_element(By.ID, "account")).options
    assert [option.text for option in options] == [SPAIN, INSTAGRAM, MEXICO]
    assert wait(browser, "#page-name").text == "Demo Shop Spain"


def test_on_instagram_the_ice_breakers_open_a_chat_the_bot_answers_and_hands_over(
        browser: WebDriver, local: LocalService) -> None:
    open_preview(browser, local)
    pick(browser, INSTAGRAM)
    assert browser.find_elements(By.CSS_SELECTOR, ".get-started") == []  # none on Instagram
    tap(browser, ".ice-breaker", "Billing")
    portal = wait(browser, "a.template-button", "Billing portal")
    assert portal.get_attribute("href") == "https://example.com/billing"
    igsid = _psid(browser)
    account = local.accounts[1]
    assert account.channel == "instagram" and account.standin.sent(igsid)  # the IG thread's
    delivered = [w for w in account.standin.webhooks if w["entry"][0]["id"] == account.id]
    assert delivered and {w["object"] for w in delivered} == {"instagram"}

    browser.find_element(By.ID, "message").send_keys("agent")
    browser.find_element(By.ID, "send").click()
    wait(browser, ".notice-text", "passed this conversation to the Instagram inbox")
    assert "@ana.preview" in wait(browser, "#threads .thread").text
    assert account.standin.owner(igsid) == INSTAGRAM_INBOX_APP_ID


def test_the_second_page_answers_with_its_own_token(browser: WebDriver, local: LocalService) -> None:
    open_preview(browser, local)
    pick(browser, MEXICO)
    assert wait(browser, "#page-name").text == "Demo Shop Mexico"
    tap(browser, ".get-started")
    wait(browser, ".bubble.page", "This is the support desk")
    WebDriverWait(browser, 10).until(lambda b: "Billing" in chips(b))
    psid = _psid(browser)
    mexico, spain = local.accounts[2].standin, local.accounts[0].standin
    assert mexico.sent(psid) and spain.sent(psid) == []
    pick(browser, SPAIN)  # each Page keeps its own conversation
    assert wait(browser, ".welcome")


def test_from_the_sign_in_page_the_chat_link_reaches_the_bot_which_signs_the_customer_in(
        browser: WebDriver, local: LocalService) -> None:
    """The preview's Chat Support links open the demo accounts: Get Started carries the
    my-tickets ref, the bot answers with the sign-in link, and the link signs in."""
    open_preview(browser, local)
    browser.get(f"{local.url}/login")  # signed out: off the preview first (see below)
    browser.delete_all_cookies()
    browser.get(f"{local.url}/login")
    links = browser.find_elements(By.CSS_SELECTOR, "#chat-links a")
    assert [link.text for link in links] == [
        "Demo Shop Spain on Messenger", "Demo Shop Spain on Instagram", "Demo Shop Mexico on Messenger"]
    links[0].click()
    assert wait(browser, "#page-name").text == "Demo Shop Spain"
    WebDriverWait(browser, 10).until(lambda b: "ref=" not in b.current_url)  # used once
    tap(browser, ".get-started")
    sign_in = wait(browser, "a.template-button", "My tickets", timeout=20)
    postbacks = [event["postback"] for hook in local.standin.webhooks
                 for event in hook["entry"][0].get("messaging", []) if "postback" in event]
    assert [p.get("referral", {}).get("ref") for p in postbacks] == ["my-tickets"]
    browser.get(sign_in.get_attribute("href"))
    tap(browser, "#continue")
    WebDriverWait(browser, 10).until(lambda b: b.current_url == f"{local.url}/tickets")
    assert "My tickets" in browser.find_element(By.TAG_NAME, "h1").text


def test_the_instagram_chat_link_answers_with_the_sign_in_link_on_instagram(
        browser: WebDriver, local: LocalService) -> None:
    open_preview(browser, local)
    # Signed out: leave the preview first (a poll of its own still in flight could set
    # an earlier test's session cookie again; the ticket pages do not poll), then drop
    # the cookies.
    browser.get(f"{local.url}/login")
    browser.delete_all_cookies()
    browser.get(f"{local.url}/login")
    assert browser.current_url == f"{local.url}/login"
    link = wait(browser, "#chat-links a", "Demo Shop Spain on Instagram", timeout=20)
    browser.get(str(link.get_attribute("href")))
    wait(browser, ".notice-text", "Opened the chat from the web's link", timeout=20)
    link = wait(browser, "a.template-button", "My tickets", timeout=20).get_attribute("href")
    assert link is not None and "/login?token=" in link
    account = local.accounts[1]
    referrals = [hook for hook in account.standin.webhooks if hook["object"] == "instagram"
                 and "referral" in hook["entry"][0]["messaging"][0]]
    assert [hook["entry"][0]["id"] for hook in referrals] == [account.id]
