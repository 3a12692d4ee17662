"""Live agent handover end to end: the stand-in Facebook enforces thread ownership
(Conversation Routing), the Page Inbox's agents reply and mark chats done, and the
bot must never speak while they own the thread."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.flows import load_flows
from bot.models import Customer, Message
from messenger.standin import Standin
from messenger.standin.world import PAGE_INBOX_APP_ID as INBOX
from tests.e2e.conftest import StartService
from tests.support import payloads as p
from tests.support.servers import wait_until
from tests.support.service import Service

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
RESUME = "handoff:resume"

JOURNEYS = {
    "en": {"locale": "en_US", "name": "Ana", "keyword": "billing", "topic": "Billing",
           "ask": "I want to talk to a human", "agent": "Live Agent Request",
           "connecting": "A person from our team", "resume": "Resume Chat With Bot",
           "waiting": "are you there?", "agent_says": "Hi Ana, I'm Sam. Let me check.",
           "returned": "Thanks for chatting with our team", "resumed": "chatting with the bot again",
           "restart": "Restart", "menu": "Pick a topic"},
    "es": {"locale": "es_LA", "name": "Lucía", "keyword": "facturación", "topic": "Facturación",
           "ask": "quiero hablar con un humano", "agent": "Hablar con un humano",
           "connecting": "Una persona del equipo", "resume": "Volver al bot",
           "waiting": "¿sigue ahí?", "agent_says": "Hola Lucía, soy Sam. Lo reviso.",
           "returned": "Gracias por hablar con nuestro equipo", "resumed": "chatear con un humano",
           "restart": "Reiniciar", "menu": "Elige un tema"},
    "pt": {"locale": "pt_BR", "name": "Joana", "keyword": "cobrança", "topic": "Cobrança",
           "ask": "quero falar com um atendente", "agent": "Falar com atendente",
           "connecting": "Uma pessoa da nossa equipe", "resume": "Voltar ao bot",
           "waiting": "ainda está aí?", "agent_says": "Oi Joana, sou o Sam. Vou verificar.",
           "returned": "Obrigado por falar com a nossa equipe", "resumed": "voltou a conversar com o bot",
           "restart": "Recomeçar", "menu": "Escolha um assunto"},
}


def text_of(body: dict) -> str:
    message = body["message"]
    return message.get("text") or message["attachment"]["payload"]["text"]


def chips(body: dict) -> list[str]:
    return [q["title"] for q in body["message"].get("quick_replies", [])]


def buttons(body: dict) -> list[tuple[str, str]]:
    payload = body["message"].get("attachment", {}).get("payload", {})
    return [(b["title"], b.get("payload", "")) for b in payload.get("buttons", [])]


def transcript(service: Service, psid: str) -> list[tuple[str, str | None]]:
    assert service.app is not None
    with Session(service.app.extensions["runtime"].engine) as session:
        customer = session.exec(select(Customer).where(Customer.psid == psid)).first()
        if customer is None:
            return []
        rows = session.exec(select(Message).where(Message.customer_id == customer.id)
                            .order_by(Message.id)).all()  # type: ignore[arg-type]
        return [(row.author, row.text) for row in rows]


def heard(service: Service, psid: str, author: str, text: str) -> bool:
    return (author, text) in transcript(service, psid)


def next_sends(fake: Standin, psid: str, count: int = 1) -> list[dict]:
    before = len(fake.sent(psid))
    return fake.wait_for_sent(psid, before + count, timeout=30)[before:]


def settle(fake: Standin, psid: str, quiet: float = 0.4) -> None:
    """Wait until nothing more is being sent to `psid`."""
    def quiet_now() -> bool:
        before = len(fake.sent(psid))
        time.sleep(quiet)
        return len(fake.sent(psid)) == before
    wait_until(quiet_now, timeout=20)


@pytest.mark.parametrize("lang", ["en", "es", "pt"])
def test_agent_then_back_to_the_bot(lang: str, start_service: StartService,
                                    standin: tuple[Standin, str]) -> None:
    j, psid = JOURNEYS[lang], {"en": "1001", "es": "1002", "pt": "1003"}[lang]
    fake, _ = standin
    service = start_service()
    fake.add_user(psid, first_name=j["name"], locale=j["locale"])

    fake.customer_says(psid, j["keyword"])
    next_sends(fake, psid)
    settle(fake, psid)
    assert j["agent"] in chips(fake.sent(psid)[-1]), "Live Agent Request follows a keyword"

    # Live Agent Request, typed: confirm with a Resume button, then pass to the Page Inbox.
    fake.customer_says(psid, j["ask"])
    connecting = next_sends(fake, psid)[0]
    assert j["connecting"] in text_of(connecting)
    assert buttons(connecting) == [(j["resume"], RESUME)]
    wait_until(lambda: fake.owner(psid) == INBOX)
    handover = fake.control_calls(psid)[-1]
    assert handover["action"] == "pass" and str(handover["target_app_id"]) == INBOX
    assert j["name"] in handover["metadata"] and j["topic"] in handover["metadata"]
    assert len(handover["metadata"]) < 1000

    # While the inbox owns the thread: no sends, and everything is in the transcript.
    sent_during_handover = len(fake.sent(psid))
    fake.customer_says(psid, j["waiting"])
    fake.agent_says(psid, j["agent_says"])
    wait_until(lambda: heard(service, psid, "customer", j["waiting"])
               and heard(service, psid, "agent", j["agent_says"]))
    time.sleep(0.3)
    assert len(fake.sent(psid)) == sent_during_handover

    # The agent marks the chat done: the bot thanks and asks for a rating (1 to 5 stars,
    # tests/e2e/test_satisfaction_journey.py); the customer may go on with anything else.
    fake.agent_done(psid)
    back = next_sends(fake, psid)[-1]
    assert j["returned"] in text_of(back) and chips(back) == ["⭐" * n for n in range(1, 6)]
    assert back["messaging_type"] == "UPDATE"

    # Again an agent, then Resume Chat With Bot (our button: its payload survives).
    fake.customer_says(psid, j["agent"], quick_reply="flow:live_agent")
    next_sends(fake, psid)
    wait_until(lambda: fake.owner(psid) == INBOX)
    fake.customer_says(psid, postback=RESUME)
    resumed = next_sends(fake, psid)[-1]
    assert fake.owner(psid) == p.APP_ID
    assert fake.control_calls(psid)[-1]["action"] == "take"
    assert j["resumed"] in text_of(resumed)
    assert {j["agent"], j["restart"]} <= set(chips(resumed))

    fake.customer_says(psid, j["restart"], quick_reply="flow:restart")
    assert j["menu"] in text_of(next_sends(fake, psid)[-1])
    assert not [call for call in fake.calls if call[2] >= 400], "no call was refused"


def test_the_inbox_takes_asks_and_a_send_it_refuses_is_never_retried(
        start_service: StartService, standin: tuple[Standin, str]) -> None:
    fake, _ = standin
    service = start_service()
    for psid, first in (("201", "hello"), ("202", "hello"), ("203", "account")):
        fake.add_user(psid)
        fake.customer_says(psid, first)
        fake.wait_for_sent(psid, 1, timeout=30)
        settle(fake, psid)

    # An agent replies from the inbox unasked: the inbox takes the thread, the bot goes quiet.
    fake.agent_says("201", "Hi, Sam from support here.")
    fake.customer_says("201", "billing")
    fake.customer_says("201", "oh, hi Sam")
    wait_until(lambda: heard(service, "201", "customer", "oh, hi Sam"))

    # The inbox asks for a thread the bot owns: granted.
    fake.inbox_requests("202")
    wait_until(lambda: fake.owner("202") == INBOX)
    assert fake.control_calls("202")[-1]["action"] == "pass"
    fake.customer_says("202", "billing")

    # The bot misses the inbox's take (an outage), then answers a button of its own, which
    # Facebook delivers on `messaging`: the send is refused (2018300), recorded, not retried.
    sent = len(fake.sent("203"))
    url, fake.webhook_url = fake.webhook_url, None
    fake.agent_says("203", "Hello, this is Sam.")
    fake.webhook_url = url
    fake.customer_says("203", postback="flow:password_reset")
    wait_until(lambda: ("GET", "/v27.0/me/thread_owner", 200) in fake.calls)
    refused = [call for call in fake.calls if call[2] >= 400]
    assert [(method, path.rsplit("/", 1)[-1]) for method, path, _ in refused] == [
        ("POST", "messages")] * 2  # its mark_seen (one attempt), then the send
    fake.customer_says("203", "are you there?")  # on standby now

    wait_until(lambda: heard(service, "202", "customer", "billing")
               and heard(service, "203", "customer", "are you there?"))
    time.sleep(1.0)  # time for a wrong answer or retry to show up
    assert heard(service, "201", "agent", "Hi, Sam from support here.")
    assert [len(fake.sent(psid)) for psid in ("201", "202", "203")] == [1, 1, sent]
    assert [call for call in fake.calls if call[2] >= 400] == refused


def test_resume_when_the_bot_may_not_take_control_asks_for_it(
        start_service: StartService, standin: tuple[Standin, str]) -> None:
    fake, _ = standin
    service = start_service()
    fake.take_permission = False  # Page Settings: no "take control of conversations"
    fake.add_user("400")
    fake.customer_says("400", "agent")
    wait_until(lambda: fake.owner("400") == INBOX)
    sent = len(fake.sent("400"))

    fake.customer_says("400", postback=RESUME)
    wait_until(lambda: ("GET", "/v27.0/me/thread_owner", 200) in fake.calls)
    assert fake.pending_request("400") is not None
    assert fake.owner("400") == INBOX and len(fake.sent("400")) == sent
    assert fake.control_calls("400")[-1]["action"] == "request"

    fake.agent_done("400")  # the inbox answers the request
    back = next_sends(fake, "400")[-1]
    assert "chatting with the bot again" in text_of(back)
    assert "Live Agent Request" in chips(back) and "Restart" in chips(back)
    assert service.app is not None


def test_out_of_hours_then_no_agent_reply_offers_a_ticket(
        start_service: StartService, standin: tuple[Standin, str], tmp_path: Path) -> None:
    fake, _ = standin
    flows, email = _closed_until_tomorrow(tmp_path)
    start_service(flows_path=str(flows))
    fake.add_user("500")

    fake.customer_says("500", "human")
    closed = next_sends(fake, "500")[-1]
    assert "they are back tomorrow at 9:00\u202fAM (UTC)" in text_of(closed)
    assert chips(closed)[:2] == [email, "Wait for an agent"]
    assert fake.owner("500") == p.APP_ID  # no handover into silence

    fake.customer_says("500", "Wait for an agent", quick_reply="handoff:wait")
    next_sends(fake, "500")
    wait_until(lambda: fake.owner("500") == INBOX)
    assert "outside business hours" in fake.control_calls("500")[-1]["metadata"]

    # No agent writes within the wait (3 s here): the bot takes the chat back and offers a ticket.
    offer = fake.wait_for_sent("500", len(fake.sent("500")) + 1, timeout=15)[-1]
    assert fake.control_calls("500")[-1]["action"] == "take"
    assert "no agent has been able to pick up" in text_of(offer)
    assert {email, "Wait for an agent"} <= set(chips(offer))


def _closed_until_tomorrow(tmp_path: Path) -> tuple[Path, str]:
    """The shipped flows with agents in only tomorrow (UTC), a 3-second wait, and Email Support."""
    text = (ROOT / "config" / "flows.yaml").read_text()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%a").lower()
    text = _once(text, "  timezone: Europe/Madrid\n",
                 f"  timezone: UTC\n  hours:\n    {tomorrow}: \"09:00-18:00\"\n")
    text = _once(text, "  agent_wait_minutes: 10\n", "  agent_wait_minutes: 0.05\n")
    shipped = load_flows(ROOT / "config" / "flows.yaml")
    if not any(flow.action == "create_ticket" for flow in shipped.flows.values()):
        text = _once(text, "\nflows:\n", "\nflows:\n  test_email:\n"
                     "    title: {en: Email Support, es: Soporte por email}\n"
                     "    action: create_ticket\n")
    if shipped.tickets is None:
        text += "\ntickets:\n  types:\n    other:\n      title: {en: Other, es: Otro}\n" \
                "      mailbox: support@example.com\n"
    path = tmp_path / "flows.yaml"
    path.write_text(text)
    loaded = load_flows(path)
    email = next(f for f in loaded.flows.values() if f.action == "create_ticket")
    return path, loaded.title(email.id, "en")


def _once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)
