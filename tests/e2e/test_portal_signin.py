"""From the web to the bot and back, through the real web and worker processes: the
sign-in page's Chat Support link carries ref=my-tickets; the customer opens the chat with
it, the worker answers with their sign-in link, and that link signs them in."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from messenger.standin import Standin
from tests.e2e.conftest import StartService

pytestmark = pytest.mark.e2e


def chat_hrefs(html: str) -> list[str]:
    block = re.search(r'<ul class="chat-links" id="chat-links">(.*?)</ul>', html, re.S)
    assert block, html
    return re.findall(r'href="([^"]+)"', block.group(1))


def test_the_web_link_brings_the_customer_to_the_bot_which_signs_them_in(
        start_service: StartService, standin: tuple[Standin, str]) -> None:
    fake, _ = standin
    start_service()
    base = str(fake.webhook_url).removesuffix("/webhook")
    fake.add_user("70", first_name="Ana")
    fake.customer_says("70", "hi")  # the Page's first customer: the web learns its id
    fake.wait_for_sent("70", 1, timeout=30)

    [link] = chat_hrefs(requests.get(f"{base}/login", timeout=5).text)
    parts = urlsplit(link.replace("&amp;", "&"))
    assert (parts.netloc, parts.path) == ("m.me", f"/{fake.page_id}")
    [ref] = parse_qs(parts.query)["ref"]

    before = len(fake.sent("70"))
    fake.customer_follows_link("70", ref=ref)  # Messenger's referral for the open thread
    answer = fake.wait_for_sent("70", before + 1, timeout=30)[before]
    [button] = answer["message"]["attachment"]["payload"]["buttons"]
    token = parse_qs(urlsplit(button["url"]).query)["token"][0]

    browser = requests.Session()
    page = browser.get(f"{base}/login", params={"token": token}, timeout=5)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    assert page.status_code == 200 and csrf
    signed_in = browser.post(f"{base}/login/link", timeout=5,
                             data={"csrf_token": csrf.group(1), "token": token})
    assert signed_in.url == f"{base}/tickets" and "My tickets" in signed_in.text
