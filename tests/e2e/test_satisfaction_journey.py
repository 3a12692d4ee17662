"""Satisfaction ratings end to end: the stand-in Facebook over HTTP, the web app, an RQ
worker process. A ticket resolved from Messenger or the web screen, and a chat the Page
Inbox passes back, are rated once (also when Meta redelivers the webhook), with a
comment; outside the 24-hour window nothing is sent and the skip is recorded; the
flows file can switch it off; the API shows the rating."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlmodel import Session, select

from bot.models import Customer
from messenger.standin import Standin, serve_standin
from messenger.standin.world import PAGE_INBOX_APP_ID as INBOX
from satisfaction.models import ChatRating
from tests.e2e.conftest import StartService
from tests.support import payloads as p
from tests.support.servers import wait_until
from tests.support.service import Service
from tickets import links
from tickets.models import Ticket

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
ADMIN = "admin-e2e-token-5530"
HOUR = 3600.0
STARS = ["⭐", "⭐⭐", "⭐⭐⭐", "⭐⭐⭐⭐", "⭐⭐⭐⭐⭐"]
QUESTION = "How would you rate the help you got"


class Clock:
    """The stand-in's clock; `offset` seconds back makes the customer speak in the past."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() - self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def standin(clock: Clock) -> Iterator[tuple[Standin, str]]:
    fake = Standin(page_id=p.PAGE_ID, app_id=p.APP_ID, app_secret=p.APP_SECRET,
                   access_token=p.ACCESS_TOKEN, clock=clock)
    server, url = serve_standin(fake)
    yield fake, url
    fake.close()
    server.shutdown()


class Desk:
    def __init__(self, service: Service, fake: Standin, clock: Clock) -> None:
        self.service, self.fake, self.clock = service, fake, clock
        self.base = str(fake.webhook_url).removesuffix("/webhook")

    def says(self, psid: str, text: str | None = None, quick_reply: str | None = None, *,
             hours_ago: float = 0, count: int = 1) -> list[dict[str, Any]]:
        """The customer writes; returns the bot's next `count` messages."""
        before = len(self.fake.sent(psid))
        self.clock.offset = hours_ago * HOUR
        self.fake.customer_says(psid, text, quick_reply=quick_reply)
        answer = self.fake.wait_for_sent(psid, before + count, timeout=30)[before:]
        self.clock.offset = 0
        return answer

    def open_ticket(self, psid: str, *, hours_ago: float = 0) -> int:
        self.fake.add_user(psid, first_name="Ana")
        self.says(psid, "Email Support", "flow:email_support", hours_ago=hours_ago)
        self.says(psid, "Charged twice", hours_ago=hours_ago)
        self.says(psid, "Billing", "ticket:type:billing", hours_ago=hours_ago)
        [done] = self.says(psid, "I was charged 49 EUR twice.", hours_ago=hours_ago)
        found = re.search(r"#(\d+)", text(done))
        assert found, text(done)
        return int(found.group(1))

    def api(self, path: str = "") -> Any:
        answer = requests.get(f"{self.base}/api/tickets{path}", timeout=5,
                              headers={"Authorization": f"Bearer {ADMIN}"})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def redeliver_last_webhook(self) -> None:
        """Meta delivers the last webhook again (same event, same body)."""
        body, headers = p.signed(self.fake.webhooks[-1])
        assert requests.post(str(self.fake.webhook_url), data=body, headers=headers,
                             timeout=5).status_code == 200

    def quiet(self, psid: str, seconds: float = 1.5) -> list[dict[str, Any]]:
        """What was sent to `psid` in the next `seconds` (after the queue is drained)."""
        before = len(self.fake.sent(psid))
        time.sleep(seconds)
        return self.fake.sent(psid)[before:]

    def rows(self, model: type, psid: str) -> list[Any]:
        assert self.service.app is not None
        with Session(self.service.app.extensions["runtime"].engine) as session:
            customer = session.exec(select(Customer).where(Customer.psid == psid)).one()
            return list(session.exec(select(model).where(
                model.customer_id == customer.id)).all())  # type: ignore[attr-defined]

    def resolve_on_the_web(self, psid: str, number: int) -> None:
        """The customer signs in with the bot's link and presses Resolve."""
        [customer] = [c for c in self._customers() if c.psid == psid]
        settings = self.service.settings
        url = links.login_url(settings.public_url, settings.secret_key, customer.id or 0,
                              next_path=f"/tickets/{number}")
        browser = requests.Session()
        path = url.removeprefix(settings.public_url)
        page = browser.get(self.base + path, timeout=5)
        browser.post(f"{self.base}/login/link", timeout=5, data={
            "csrf_token": csrf(page.text), "token": path.split("token=", 1)[1]})
        page = browser.get(f"{self.base}/tickets/{number}", timeout=5)
        answer = browser.post(f"{self.base}/tickets/{number}/resolve", timeout=5,
                              data={"csrf_token": csrf(page.text)}, allow_redirects=False)
        assert answer.status_code == 302, answer.text

    def _customers(self) -> list[Customer]:
        assert self.service.app is not None
        with Session(self.service.app.extensions["runtime"].engine) as session:
            return list(session.exec(select(Customer)).all())


def text(body: dict[str, Any]) -> str:
    message = body["message"]
    return message.get("text") or message["attachment"]["payload"]["text"]


def chips(body: dict[str, Any]) -> list[str]:
    return [q["title"] for q in body["message"].get("quick_replies", [])]


def payloads(body: dict[str, Any]) -> list[str]:
    return [q["payload"] for q in body["message"].get("quick_replies", [])]


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


@pytest.fixture
def desk(start_service: StartService, standin: tuple[Standin, str], clock: Clock) -> Desk:
    service = start_service(admin_api_token=ADMIN)
    return Desk(service, standin[0], clock)


def test_a_ticket_resolved_on_messenger_is_rated_once_with_a_comment(desk: Desk) -> None:
    number = desk.open_ticket("801")
    [asked] = desk.says("801", f"Resolve #{number}", f"ticket:resolve:{number}")
    assert f"Ticket #{number} is resolved" in text(asked) and QUESTION in text(asked)
    assert chips(asked) == STARS and payloads(asked)[3] == f"rate:ticket:{number}:4"
    desk.redeliver_last_webhook()  # Meta's duplicate of the Resolve tap
    assert desk.quiet("801") == []

    [prompt] = desk.says("801", "⭐⭐⭐⭐", f"rate:ticket:{number}:4")
    assert "anything you would like to add" in text(prompt) and chips(prompt) == ["Skip"]
    [thanks] = desk.says("801", "Quick and kind. The refund came the next day.")
    assert "Thanks for your feedback" in text(thanks) and "Billing" in chips(thanks)

    ticket = desk.api(f"/{number}")
    assert (ticket["rating"], ticket["rating_comment"]) == (
        4, "Quick and kind. The refund came the next day.")
    assert [t["rating"] for t in desk.api()["tickets"] if t["id"] == number] == [4]
    [again] = desk.says("801", f"Resolve #{number}", f"ticket:resolve:{number}")
    assert "already resolved" in text(again) and "Billing" in chips(again)  # not asked twice


def test_the_rating_prompt_never_traps_a_customer_who_types_a_keyword(desk: Desk) -> None:
    number = desk.open_ticket("802")
    [asked] = desk.says("802", f"Resolve #{number}", f"ticket:resolve:{number}")
    assert chips(asked) == STARS
    answer = desk.says("802", "billing")
    assert "Happy to help with billing" in text(answer[0])
    assert desk.api(f"/{number}")["rating"] is None

    other = desk.open_ticket("803")
    desk.says("803", f"Resolve #{other}", f"ticket:resolve:{other}")
    [prompt] = desk.says("803", "5")  # typed instead of tapped
    assert chips(prompt) == ["Skip"]
    desk.says("803", "Skip", f"rate:skip:ticket:{other}")
    assert (desk.api(f"/{other}")["rating"], desk.api(f"/{other}")["rating_comment"]) == (5, None)


def test_a_chat_passed_back_from_the_inbox_is_rated_once(desk: Desk) -> None:
    fake = desk.fake
    fake.add_user("901", first_name="Ana")
    desk.says("901", "hi")
    desk.says("901", "I want to talk to a human")
    wait_until(lambda: fake.owner("901") == INBOX)
    fake.agent_says("901", "Hi Ana, Sam here. Done: the refund is on its way.")
    before = len(fake.sent("901"))
    fake.agent_done("901")
    [asked] = fake.wait_for_sent("901", before + 1, timeout=30)[before:]
    assert "Thanks for chatting with our team" in text(asked) and QUESTION in text(asked)
    assert chips(asked) == STARS and asked["messaging_type"] == "UPDATE"
    desk.redeliver_last_webhook()  # the pass_thread_control webhook again
    assert desk.quiet("901") == []

    handover = desk.rows(ChatRating, "901")[0].handover_ms
    [prompt] = desk.says("901", "⭐⭐⭐⭐⭐", f"rate:chat:{handover}:5")
    assert chips(prompt) == ["Skip"]
    [thanks] = desk.says("901", "Sam was great")
    assert "Thanks for your feedback" in text(thanks)
    [rating] = desk.rows(ChatRating, "901")
    assert (rating.status, rating.rating, rating.comment) == ("asked", 5, "Sam was great")


def test_outside_the_24_hour_window_nothing_is_asked_and_the_skip_is_recorded(desk: Desk) -> None:
    fake = desk.fake
    fake.add_user("902", first_name="Ana")
    desk.says("902", "agent", hours_ago=30)
    wait_until(lambda: fake.owner("902") == INBOX)
    fake.agent_says("902", "Sorry for the wait.")
    fake.agent_done("902")
    wait_until(lambda: desk.rows(ChatRating, "902"))
    assert desk.quiet("902") == []
    assert [r.status for r in desk.rows(ChatRating, "902")] == ["outside_window"]

    number = desk.open_ticket("1102", hours_ago=30)
    desk.resolve_on_the_web("1102", number)
    wait_until(lambda: desk.rows(Ticket, "1102")[0].rating_status, timeout=30)
    assert desk.quiet("1102") == []
    assert desk.rows(Ticket, "1102")[0].rating_status == "outside_window"
    assert desk.api(f"/{number}")["rating"] is None


def test_a_ticket_resolved_on_the_web_is_rated_on_messenger(desk: Desk) -> None:
    number = desk.open_ticket("1101")
    before = len(desk.fake.sent("1101"))
    desk.resolve_on_the_web("1101", number)
    [asked] = desk.fake.wait_for_sent("1101", before + 1, timeout=30)[before:]
    assert f"Ticket #{number} is resolved" in text(asked) and chips(asked) == STARS
    assert asked["messaging_type"] == "UPDATE"
    desk.says("1101", "⭐⭐⭐", f"rate:ticket:{number}:3")
    desk.says("1101", "Took a while, but solved.")
    ticket = desk.api(f"/{number}")
    assert (ticket["rating"], ticket["rating_comment"]) == (3, "Took a while, but solved.")


def test_the_flows_file_switches_it_off(start_service: StartService, standin: tuple[Standin, str],
                                        clock: Clock, tmp_path: Path) -> None:
    flows = (ROOT / "config" / "flows.yaml").read_text()
    assert flows.count("  enabled: true\n") == 1
    off = tmp_path / "flows.yaml"
    off.write_text(flows.replace("  enabled: true\n", "  enabled: {en: false, es: true}\n"))
    desk = Desk(start_service(admin_api_token=ADMIN, flows_path=str(off)), standin[0], clock)

    number = desk.open_ticket("1201")
    [resolved] = desk.says("1201", f"Resolve #{number}", f"ticket:resolve:{number}")
    assert QUESTION not in text(resolved) and "Billing" in chips(resolved)
    desk.says("1201", "agent")
    wait_until(lambda: desk.fake.owner("1201") == INBOX)
    desk.fake.agent_says("1201", "Hello!")
    before = len(desk.fake.sent("1201"))
    desk.fake.agent_done("1201")
    [back] = desk.fake.wait_for_sent("1201", before + 1, timeout=30)[before:]
    assert "Thanks for chatting" in text(back) and "Billing" in chips(back)
    assert desk.rows(ChatRating, "1201") == [] and desk.rows(Ticket, "1201")[0].rating_status is None


@pytest.mark.postgres
def test_both_paths_on_postgresql(start_service: StartService, standin: tuple[Standin, str],
                                  clock: Clock, postgres_url: str) -> None:
    desk = Desk(start_service(admin_api_token=ADMIN, database_url=postgres_url), standin[0], clock)
    number = desk.open_ticket("1301")
    desk.says("1301", f"Resolve #{number}", f"ticket:resolve:{number}")
    desk.says("1301", "⭐⭐", f"rate:ticket:{number}:2")
    desk.says("1301", "Skip", f"rate:skip:ticket:{number}")
    assert desk.api(f"/{number}")["rating"] == 2

    desk.says("1301", "agent")
    wait_until(lambda: desk.fake.owner("1301") == INBOX)
    desk.fake.agent_says("1301", "Hello!")
    before = len(desk.fake.sent("1301"))
    desk.fake.agent_done("1301")
    [asked] = desk.fake.wait_for_sent("1301", before + 1, timeout=30)[before:]
    handover = desk.rows(ChatRating, "1301")[0].handover_ms
    assert handover > 2**31 and payloads(asked)[0] == f"rate:chat:{handover}:1"  # a BIGINT
    desk.says("1301", "⭐", f"rate:chat:{handover}:1")
    assert [r.rating for r in desk.rows(ChatRating, "1301")] == [1]
