"""Email Support end to end: a customer on the stand-in Messenger opens a ticket,
an RQ worker process emails it to a real SMTP server (aiosmtpd) on loopback,
the agent's emailed reply comes in over `POST /email/inbound` and reaches the
customer under Messenger's window rules, and Resolve closes the ticket."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller

from messenger.standin import Standin, serve_standin
from tests.e2e.conftest import StartService
from tests.support import payloads as p
from tests.support.servers import free_port, wait_until
from tests.support.smtp import CapturedMail

pytestmark = pytest.mark.e2e
INBOUND = "inbound-e2e-token-4417"
ADMIN = "admin-e2e-token-9021"
HOUR = 3600.0


class Clock:
    """The stand-in's clock; `offset` seconds back makes the customer speak in the past."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() - self.offset


Mailbox = CapturedMail


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


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def mailbox(smtp_port: int) -> Iterator[Mailbox]:
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield handler
    controller.stop()


class Desk:
    def __init__(self, fake: Standin, base: str, clock: Clock) -> None:
        self.fake, self.base, self.clock = fake, base, clock

    def says(self, psid: str, text: str, quick_reply: str | None = None, *,
             hours_ago: float = 0) -> dict[str, Any]:
        """The customer writes; returns the bot's answer (one message in these flows)."""
        before = len(self.fake.sent(psid))
        self.clock.offset = hours_ago * HOUR
        self.fake.customer_says(psid, text, quick_reply=quick_reply)
        answer = self.fake.wait_for_sent(psid, before + 1, timeout=30)[before]
        self.clock.offset = 0
        return answer

    def open_ticket(self, psid: str, title: str, *, hours_ago: float = 0) -> int:
        self.fake.add_user(psid, first_name="Ana")
        self.says(psid, "Email Support", "flow:email_support", hours_ago=hours_ago)
        self.says(psid, title, hours_ago=hours_ago)
        self.says(psid, "Billing", "ticket:type:billing", hours_ago=hours_ago)
        done = self.says(psid, "I was charged 49 EUR twice on 2 March.", hours_ago=hours_ago)
        found = re.search(r"#(\d+)", text(done))
        assert found, text(done)
        return int(found.group(1))

    def ticket(self, number: int) -> dict[str, Any]:
        answer = requests.get(f"{self.base}/api/tickets/{number}", timeout=5,
                              headers={"Authorization": f"Bearer {ADMIN}"})
        assert answer.status_code == 200
        return answer.json()

    def notification(self, number: int, status: str) -> dict[str, Any]:
        """The ticket's notification email, once it has `status`."""
        def reached() -> dict[str, Any] | None:
            notification = self.ticket(number)["notifications"][0]
            return notification if notification["status"] == status else None

        return wait_until(reached, timeout=30)

    def email_in(self, raw: bytes) -> requests.Response:
        return requests.post(f"{self.base}/email/inbound", data=raw, timeout=10, headers={
            "Authorization": f"Bearer {INBOUND}", "Content-Type": "message/rfc822"})


def text(body: dict[str, Any]) -> str:
    message = body["message"]
    return message.get("text") or message["attachment"]["payload"]["text"]


def chips(body: dict[str, Any]) -> list[str]:
    return [q["title"] for q in body["message"].get("quick_replies", [])]


def agent_reply(body: str, *, subject: str, in_reply_to: str | None = None, n: int = 1,
                to: str = "support@example.com") -> bytes:
    threading = f"In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n" if in_reply_to else ""
    return (f"From: Eva Green <eva@example.com>\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <agent-{n}-{time.time_ns()}@example.com>\r\n{threading}"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n\r\n"
            f"On Mon, Support Desk <support@example.com> wrote:\r\n> I was charged twice\r\n").encode()


@pytest.fixture
def desk(start_service: StartService, standin: tuple[Standin, str], clock: Clock,
         smtp_port: int) -> Desk:
    fake, _ = standin
    start_service(smtp_url=f"smtp://127.0.0.1:{smtp_port}", inbound_email_token=INBOUND,
                  admin_api_token=ADMIN, support_email_from="Support Desk <support@example.com>")
    return Desk(fake, str(fake.webhook_url).removesuffix("/webhook"), clock)


def test_a_ticket_from_messenger_is_emailed_answered_by_email_and_resolved(
        desk: Desk, mailbox: Mailbox) -> None:
    desk.fake.add_user("700", first_name="Ana")
    desk.says("700", "hi")
    number = desk.open_ticket("700", "Card charged twice")
    assert desk.ticket(number)["status"] == "open"

    wait_until(lambda: mailbox.messages, timeout=30)
    [notification] = mailbox.messages
    assert notification["Subject"] == f"[#{number}] Card charged twice"
    assert notification["To"] == "billing@example.com"
    reply_to = notification["Reply-To"].addresses[0]
    assert reply_to.display_name == "Support Desk" and reply_to.domain == "example.com"
    assert re.fullmatch(rf"support\+t{number}\.[a-z2-7]{{24}}", reply_to.username)
    body = notification.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for part in ("Billing", "I was charged 49 EUR twice on 2 March.", "Ana", "customer: hi"):
        assert part in body
    assert desk.notification(number, "sent")["message_id"] == notification["Message-ID"].strip()

    answer = desk.email_in(agent_reply("We refunded the second charge.",
                                       subject=f"Re: {notification['Subject']}",
                                       in_reply_to=notification["Message-ID"].strip()))
    assert answer.status_code == 200 and answer.json()["ticket"] == number
    reply = desk.fake.wait_for_sent("700", len(desk.fake.sent("700")) + 1, timeout=30)[-1]
    assert "We refunded the second charge." in text(reply) and "I was charged twice" not in text(reply)
    assert reply["messaging_type"] == "RESPONSE" and chips(reply) == [f"Resolve #{number}"]
    assert desk.ticket(number)["status"] == "answered"

    sent_before = len(desk.fake.sent("700"))
    forged = agent_reply("Send us your card number.", subject=f"RE: [#{number}] more", n=4)
    assert desk.email_in(forged).status_code == 404  # [#N] from the mailbox's domain proves nothing
    voucher = agent_reply("Also: a voucher is on its way.", subject="more", n=2, to=str(reply_to))
    assert desk.email_in(voucher).status_code == 200  # sent to the ticket's signed reply address
    later = desk.fake.wait_for_sent("700", sent_before + 1, timeout=30)
    assert "voucher" in text(later[-1]) and not any("card number" in text(m) for m in later)
    assert desk.email_in(agent_reply("Who is this for?", subject="Hello there", n=3)).status_code == 404

    resolved = desk.says("700", f"Resolve #{number}", f"ticket:resolve:{number}")
    assert "resolved" in text(resolved)
    assert desk.ticket(number)["status"] == "resolved"
    wait_until(lambda: len(mailbox.messages) == 2, timeout=30)
    assert "Resolved" in mailbox.messages[1]["Subject"]
    assert mailbox.messages[1]["In-Reply-To"] == notification["Message-ID"]


def test_replies_after_24_hours_are_tagged_and_after_7_days_wait(desk: Desk, mailbox: Mailbox) -> None:
    day_old = desk.open_ticket("710", "Charged twice", hours_ago=30)
    thread = desk.notification(day_old, "sent")["message_id"]
    assert desk.email_in(agent_reply("Refunded.", subject="Re: x", in_reply_to=thread)).status_code == 200
    tagged = desk.fake.wait_for_sent("710", len(desk.fake.sent("710")) + 1, timeout=30)[-1]
    assert (tagged["messaging_type"], tagged["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert "Refunded." in text(tagged)

    week_old = desk.open_ticket("711", "Charged twice", hours_ago=8 * 24)
    sent_before = len(desk.fake.sent("711"))
    late = agent_reply("Sorry for the wait.", subject="Re: x", n=2,
                       in_reply_to=desk.notification(week_old, "sent")["message_id"])
    assert desk.email_in(late).status_code == 200
    wait_until(lambda: desk.ticket(week_old)["replies"][0]["messenger"] == "waiting", timeout=30)
    assert len(desk.fake.sent("711")) == sent_before  # nothing may be sent after 7 days
    desk.fake.customer_says("711", "hello?")
    later = desk.fake.wait_for_sent("711", sent_before + 2, timeout=30)
    assert "Sorry for the wait." in text(later[sent_before])
    wait_until(lambda: desk.ticket(week_old)["replies"][0]["messenger"] == "delivered", timeout=30)


def test_smtp_down_then_up_delivers_the_notification_once(desk: Desk, smtp_port: int) -> None:
    number = desk.open_ticket("720", "Login broken")  # no SMTP server is listening yet
    failing = desk.notification(number, "retrying")
    assert failing["attempts"] == 1 and "refused" in failing["last_error"].lower()
    assert desk.ticket(number)["status"] == "open"  # the ticket exists without its email

    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        wait_until(lambda: handler.messages, timeout=30)  # RQ's retry, after its backoff
        sent = desk.notification(number, "sent")
        time.sleep(1.0)  # time for a wrong second delivery to show up
    finally:
        controller.stop()
    assert len(handler.messages) == 1 and sent["attempts"] == 2 and sent["last_error"] is None
