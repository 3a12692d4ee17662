"""When Facebook stops taking the Page's calls: the service pauses the Page instead of
dropping replies one by one, says so, and delivers what waited once the Page works again.
Real RQ worker processes, the Graph stand-in over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from bot.page_checks import check_page
from core import runtime
from messenger.standin import Standin
from messenger.subscription import WEBHOOK_FIELDS
from tests.e2e.conftest import StartService
from tests.support import payloads as p
from tests.support.servers import wait_until
from tests.support.service import Service

pytestmark = pytest.mark.e2e


def send_calls(fake: Standin) -> int:
    return sum(1 for method, path, _ in fake.calls if method == "POST" and path.endswith("/messages"))


def health(service: Service) -> tuple[int, dict]:
    assert service.app is not None
    answer = service.app.test_client().get("/healthz")
    return answer.status_code, answer.get_json()


def page_state(service: Service) -> str | None:
    """The Page's pause, None when it sends (an unsubscribed notice pauses nothing)."""
    state = health(service)[1].get("pages", {}).get(p.PAGE_ID, {}).get("state")
    return None if state == "ok" else state


Refuse = Callable[[Standin, bool], None]


def revoke_token(fake: Standin, on: bool) -> None:
    fake.revoke_token(on)


def restrict(code: int, subcode: int | None) -> Refuse:
    def apply(fake: Standin, on: bool) -> None:
        fake.refuse_all(code if on else None, subcode)
    return apply


@pytest.mark.parametrize(("refuse", "state"), [
    (revoke_token, "token_invalid"),
    (restrict(368, None), "restricted"),
    (restrict(10, 1893063), "restricted"),
    (restrict(80006, None), "throttled"),
], ids=["190", "368", "10-1893063", "80006"])
def test_a_page_wide_refusal_pauses_the_page_then_what_waited_is_delivered_once(
        start_service: StartService, standin: tuple[Standin, str], refuse: Refuse,
        state: str) -> None:
    fake, _ = standin
    service = start_service(page_pause_ms=400)
    for psid in ("201", "202", "203"):
        fake.add_user(psid, first_name="Ana", locale="en_US")
    fake.customer_says("201", "hello")
    fake.wait_for_sent("201", 1)

    refuse(fake, True)
    fake.customer_says("201", "Billing", quick_reply="flow:billing")
    fake.customer_says("202", "hello")
    fake.customer_says("203", "hello")
    wait_until(lambda: page_state(service) == state, timeout=20)
    status, body = health(service)
    assert status == 200 and body["status"] == "ok"  # a Page problem is never a 503
    calls_when_paused = send_calls(fake)
    time.sleep(2)
    # Paused: one trial call per pause (0.4, 0.8, 1.6 s...), not three customers' retries
    assert send_calls(fake) - calls_when_paused <= 4
    assert len(fake.sent("202")) == len(fake.sent("203")) == 0

    refuse(fake, False)
    wait_until(lambda: fake.sent("202") and fake.sent("203"), timeout=60)
    wait_until(lambda: page_state(service) is None, timeout=10)
    fake.customer_says("201", "RESTART")
    wait_until(lambda: len(fake.sent("201")) >= 3 and "Pick a topic" in text(fake.sent("201")[-1]),
               timeout=15)
    time.sleep(0.5)
    assert len(fake.sent("202")) == len(fake.sent("203")) == 1  # each reply once
    sent = fake.sent("201")
    assert len({body["message"]["metadata"] for body in sent}) == len(sent)  # none twice
    assert "billing" in text(sent[1]).lower()  # in the order the customer wrote
    assert "Pick a topic" in text(sent[-1]) and "Pick a topic" not in text(sent[-2])


def text(body: dict) -> str:
    message = body["message"]
    return message.get("text") or message["attachment"]["payload"]["text"]

def test_a_policy_block_webhook_pauses_replies_until_meta_unblocks(
        start_service: StartService, standin: tuple[Standin, str]) -> None:
    fake, _ = standin
    service = start_service(page_pause_ms=400)
    fake.add_user("301", first_name="Ana", locale="en_US")
    fake.policy_enforcement("block", "spam reports")
    status, body = health(service)
    assert status == 200 and body["pages"][p.PAGE_ID]["state"] == "policy_blocked"
    assert "spam reports" in body["pages"][p.PAGE_ID]["detail"]
    calls = send_calls(fake)
    fake.customer_says("301", "hello")
    time.sleep(2)
    assert send_calls(fake) == calls  # not one call while blocked

    fake.policy_enforcement("unblock", "")
    fake.wait_for_sent("301", 1, timeout=20)
    assert page_state(service) is None


def test_the_worker_notices_an_unsubscribed_app_and_a_dead_token_without_traffic(
        start_service: StartService, standin: tuple[Standin, str]) -> None:
    fake, _ = standin
    service = start_service(page_pause_ms=400)
    assert service.app is not None
    rt = service.app.extensions["runtime"]
    runtime.install(rt)
    fake.unsubscribe()
    check_page(rt)
    pages = health(service)[1]["pages"]
    assert "messenger subscribe" in pages[p.PAGE_ID]["unsubscribed"]

    fake.revoke_token(True)
    check_page(rt)
    assert page_state(service) == "token_invalid"
    fake.revoke_token(False)
    fake.graph(lambda page, _now: page.subscribe(list(WEBHOOK_FIELDS)))
    check_page(rt)
    assert health(service)[1]["pages"] == {}

