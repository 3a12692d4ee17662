"""Instagram end to end, beside Messenger: two Pages (Spain, with its linked Instagram
account, and France) behind the Graph stand-in over HTTP, the web app and a real RQ
worker process. Each customer is answered with their own Page's token (the stand-in
refuses any other), the Instagram customer by the Spanish Page's; Live Agent Request
hands the Instagram thread to Instagram's inbox, Resume Chat With Bot takes it back, a
rating is asked when the agent is done, Restart shows the menu, a ticket opened from
Instagram (with a photo the customer sent) says so, and echoes and seen receipts are
read without a word sent."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.models import Customer
from messenger.standin import Standin, serve_standin
from messenger.standin.instagram import INSTAGRAM_INBOX_APP_ID as IG_INBOX
from messenger.standin.world import PAGE_INBOX_APP_ID
from tests.e2e.conftest import StartService
from tests.support import payloads as p
from tests.support.files import png
from tests.support.servers import wait_until
from tests.support.service import Service
from tickets.models import Ticket

pytestmark = pytest.mark.e2e
IG_ID, IGSID = "1784001", "5550001"
ADMIN = "admin-api-token-for-tests"
PAGES = f"""\
pages:
  - id: "1001"
    name: Shop Spain
    token_env: ES_TOKEN
    instagram_id: "{IG_ID}"
  - id: "1002"
    name: Shop France
    token_env: FR_TOKEN
"""


@pytest.fixture
def france() -> Iterator[Standin]:
    page = Standin(page_id="1002", app_id=p.APP_ID, app_secret=p.APP_SECRET,
                   access_token="token-fr")
    yield page
    page.close()


@pytest.fixture
def standin(france: Standin) -> Iterator[tuple[Standin, str]]:
    """Spain (with Instagram) and France behind one Graph API, each with its own token."""
    spain = Standin(page_id="1001", app_id=p.APP_ID, app_secret=p.APP_SECRET,
                    access_token="token-es")
    spain.link_instagram(IG_ID)
    server, url = serve_standin(spain, others=[france])
    yield spain, url
    spain.close()
    server.shutdown()


@pytest.fixture
def desk(start_service: StartService, standin: tuple[Standin, str], france: Standin,
         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Service:
    (tmp_path / "pages.yaml").write_text(PAGES)
    monkeypatch.setenv("ES_TOKEN", "token-es")  # the worker process inherits them
    monkeypatch.setenv("FR_TOKEN", "token-fr")
    service = start_service(pages_path=str(tmp_path / "pages.yaml"),
                            messenger_page_access_token=None, admin_api_token=ADMIN,
                            attachment_hosts=f"fbcdn.net,{standin[1]}")
    france.webhook_url = standin[0].webhook_url
    return service


def text_of(body: dict) -> str:
    message = body["message"]
    return message.get("text") or message["attachment"]["payload"]["text"]


def chips(body: dict) -> list[tuple[str, str]]:
    return [(q["title"], q["payload"]) for q in body["message"].get("quick_replies", [])]


def says(fake: Standin, psid: str, *args: str | None, **fields: str | None) -> list[dict]:
    """The customer's message or tap, and what the bot sends back (at least one)."""
    before = len(fake.sent(psid))
    fake.customer_says(psid, *args, **fields)  # type: ignore[arg-type]
    return fake.wait_for_sent(psid, before + 1, timeout=30)[before:]


def settle(fake: Standin, psid: str) -> list[dict]:
    """Everything sent to `psid` once nothing more comes for a moment."""
    def quiet() -> bool:
        before = len(fake.sent(psid))
        time.sleep(0.5)
        return len(fake.sent(psid)) == before
    wait_until(quiet, timeout=30)
    return fake.sent(psid)


def customer(service: Service, psid: str) -> Customer:
    assert service.app is not None
    with Session(service.app.extensions["runtime"].engine) as session:
        found = session.exec(select(Customer).where(Customer.psid == psid)).one()
        session.expunge(found)
        return found


def test_instagram_beside_two_pages_through_web_and_worker(
        desk: Service, standin: tuple[Standin, str], france: Standin) -> None:
    spain, _ = standin
    spain.add_instagram_user(IGSID, name="Ana Silva", username="ana.silva")
    spain.add_user("2001", first_name="Lucía", locale="es_LA")
    france.add_user("3001", first_name="Zoé", locale="fr_FR")

    # Each customer is answered through their own Page (its token: the stand-in refuses
    # another Page's); the Instagram customer by username, in the flows' default language.
    spain.customer_says(IGSID, "hello")
    spain.customer_says("2001", "hola")
    france.customer_says("3001", "hello")
    greeting = spain.wait_for_sent(IGSID, 1, timeout=30)[0]
    assert text_of(greeting).startswith("Hi @ana.silva!")
    assert text_of(spain.wait_for_sent("2001", 1, timeout=30)[0]).startswith("¡Hola Lucía!")
    assert text_of(france.wait_for_sent("3001", 1, timeout=30)[0]).startswith("Hi Zoé!")
    found = customer(desk, IGSID)
    assert (found.page_id, found.channel, found.username) == (IG_ID, "instagram", "ana.silva")

    # Live Agent Request: the thread goes to Instagram's inbox, not the Page Inbox.
    spain.customer_says(IGSID, "Live Agent Request", quick_reply="flow:live_agent")
    wait_until(lambda: spain.owner(IGSID) == IG_INBOX, timeout=30)
    assert str(spain.control_calls(IGSID)[-1]["target_app_id"]) == IG_INBOX
    quiet_from = len(settle(spain, IGSID))
    spain.customer_says(IGSID, "are you there?")  # on standby now: the bot keeps quiet
    spain.agent_says(IGSID, "Hi Ana, Sam here.")  # the agent's echo, from Instagram's inbox
    spain.customer_sees(IGSID)  # messaging_seen: accepted, nothing to answer
    time.sleep(1.0)
    assert len(spain.sent(IGSID)) == quiet_from

    # The agent is done: the bot is back and asks for a rating; the customer gives 5 stars.
    before = len(spain.sent(IGSID))
    spain.agent_done(IGSID)
    asked = spain.wait_for_sent(IGSID, before + 1, timeout=30)[-1]
    assert "Thanks for chatting with our team" in text_of(asked)
    five = chips(asked)[-1]
    assert [title for title, _ in chips(says(spain, IGSID, five[0], quick_reply=five[1])[-1])
            ] == ["Skip"]
    spain.customer_says(IGSID, "Skip", quick_reply=chips(spain.sent(IGSID)[-1])[0][1])
    settle(spain, IGSID)

    # Again an agent, then Resume Chat With Bot: Instagram's inbox gives the thread back.
    spain.customer_says(IGSID, "agent")
    wait_until(lambda: spain.owner(IGSID) == IG_INBOX, timeout=30)
    resumed = says(spain, IGSID, postback="handoff:resume")
    wait_until(lambda: spain.owner(IGSID) == p.APP_ID, timeout=30)
    assert "chatting with the bot again" in text_of(settle(spain, IGSID)[-1]), resumed
    restarted = says(spain, IGSID, "Restart", quick_reply="flow:restart")
    assert "Pick a topic" in text_of(restarted[-1])
    settle(spain, IGSID)

    # A ticket opened from Instagram says so (and names the Spanish Page).
    says(spain, IGSID, "Email Support", quick_reply="flow:email_support")
    settle(spain, IGSID)
    typed = says(spain, IGSID, "Order never arrived")[-1]
    other = next(payload for title, payload in chips(typed) if title == "Other query")
    says(spain, IGSID, "Other query", quick_reply=other)
    settle(spain, IGSID)
    before = len(spain.sent(IGSID))  # a photo, on Instagram's CDN, goes with the ticket
    spain.customer_sends_file(IGSID, png(), name="parcel.png", kind="image")
    spain.wait_for_sent(IGSID, before + 1, timeout=30)
    settle(spain, IGSID)
    says(spain, IGSID, "Ordered on 2 March, still nothing.")
    done = settle(spain, IGSID)[-1]
    assert desk.app is not None
    with Session(desk.app.extensions["runtime"].engine) as session:
        [ticket] = session.exec(select(Ticket)).all()
    assert f"#{ticket.id}" in text_of(done)
    assert (ticket.channel, ticket.page_id, ticket.created_by) == ("instagram", "1001",
                                                                   "@ana.silva")
    def api() -> dict:
        assert desk.app is not None
        return desk.app.test_client().get(f"/api/tickets/{ticket.id}", headers={
            "Authorization": f"Bearer {ADMIN}"}).get_json()

    assert (api()["channel"], api()["page_id"]) == ("instagram", "1001")
    wait_until(lambda: [a["name"] for a in api()["attachments"]] == ["parcel.png"], timeout=30)

    settle(spain, IGSID)
    agent_lines = [c for c in spain.control_calls("2001")]
    assert agent_lines == []  # the Page's Messenger customer was never handed over
    refused = [c for page in (spain, france) for c in page.calls if c[2] >= 400]
    assert refused == [], "no call was refused: every message fit Instagram and its Page"
    assert PAGE_INBOX_APP_ID not in {str(c.get("target_app_id")) for c in
                                     spain.control_calls(IGSID)}


def test_a_send_while_instagrams_inbox_owns_the_thread_is_not_retried(
        desk: Service, standin: tuple[Standin, str]) -> None:
    spain, _ = standin
    spain.add_instagram_user(IGSID, username="ana.silva")
    spain.customer_says(IGSID, "hello")
    spain.wait_for_sent(IGSID, 1, timeout=30)
    settle(spain, IGSID)
    breakers = [{"locale": "default", "call_to_actions": [
        {"question": "Billing", "payload": "flow:billing"}]}]
    spain.graph(lambda page, now: page.set_messenger_profile({"ice_breakers": breakers}),
                platform="instagram")
    # Instagram's inbox takes the thread and the bot is not told (no webhook) ...
    spain.graph(lambda page, now: page.set_owner(page.threads[IGSID], IG_INBOX, now),
                recipient=IGSID)
    before = len(spain.sent(IGSID))
    # ... then the customer taps an ice breaker, ours, so delivered to the bot: its answer
    # is refused with 100/2534037 and never retried; the bot asks who owns the thread
    # and stays quiet for the agent.
    spain.customer_says(IGSID, postback="flow:billing")
    wait_until(lambda: ("GET", "/v27.0/me/thread_owner", 200) in spain.calls, timeout=30)
    calls = len(spain.calls)
    time.sleep(1.5)
    assert len(spain.calls) == calls, spain.calls[calls:]  # nothing more: no retry
    refused = [c for c in spain.calls if c[2] >= 400]
    assert 1 <= len(refused) <= 2  # the answer (and the mark_seen before it, also refused)
    assert len(spain.sent(IGSID)) == before and spain.owner(IGSID) == IG_INBOX
    wait_until(lambda: customer(desk, IGSID).state["handoff"]["owner"] == "human")
