"""A customer on Messenger, end to end: stand-in Facebook -> signed webhook ->
Redis -> RQ worker processes -> Send API on the stand-in."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import requests

from bot.flows.loader import load_flows
from messenger.standin import Standin
from tests.e2e.conftest import StartService
from tests.support import payloads as p
from tests.support.servers import wait_until

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def texts(bodies: list[dict]) -> list[str]:
    out = []
    for body in bodies:
        message = body["message"]
        out.append(message.get("text") or message["attachment"]["payload"]["text"])
    return out


def chips(body: dict) -> list[str]:
    return [q["title"] for q in body["message"].get("quick_replies", [])]


def test_english_menu_keyword_and_restart(start_service: StartService,
                                          standin: tuple[Standin, str]) -> None:
    fake, _ = standin
    start_service()
    fake.add_user("100", first_name="Ana", locale="en_US")
    fake.customer_says("100", "hello")
    greeting = fake.wait_for_sent("100", 1)[0]
    assert "Ana" in texts([greeting])[0]
    assert chips(greeting)[:2] == ["Billing", "Technical help"]
    assert greeting["messaging_type"] == "RESPONSE"

    fake.customer_says("100", "Billing", quick_reply="flow:billing")
    wait_until(lambda: len(_first_replies(fake.sent("100"))) >= 2)
    billing = fake.sent("100")[1:]
    assert "billing" in " ".join(texts(billing)).lower()

    fake.customer_says("100", "RESTART")
    wait_until(lambda: len(_first_replies(fake.sent("100"))) >= 3)
    menu = fake.sent("100")[-1]
    assert "Billing" in chips(menu) and "Pick a topic" in texts([menu])[0]


def test_spanish_customer_gets_the_spanish_menu_and_accented_keywords_match(
        start_service: StartService, standin: tuple[Standin, str]) -> None:
    fake, _ = standin
    start_service()
    fake.add_user("200", first_name="Lucía", locale="es_LA")
    fake.customer_says("200", "hola")
    greeting = fake.wait_for_sent("200", 1)[0]
    assert "Lucía" in texts([greeting])[0] and "Facturación" in chips(greeting)
    fake.customer_says("200", "FACTURACIÓN!")
    reply = fake.wait_for_sent("200", 2)[1]
    assert "Facturación" not in chips(reply) or reply != greeting
    assert any(word in texts([reply])[0].lower() for word in ("factura", "pago", "cobro"))


def test_text_the_bot_cannot_place_gets_the_fallback_with_the_menu(
        start_service: StartService, standin: tuple[Standin, str]) -> None:
    fake, _ = standin
    start_service()
    fake.add_user("300")
    fake.customer_says("300", "hi")
    fake.wait_for_sent("300", 1)
    fake.customer_says("300", "my toaster is singing")
    fallback = fake.wait_for_sent("300", 2)[1]
    assert "Billing" in chips(fallback)
    assert "didn't get that" in texts([fallback])[0]


def test_a_redelivered_post_is_answered_once(start_service: StartService,
                                            standin: tuple[Standin, str]) -> None:
    fake, _ = standin
    service = start_service()
    fake.add_user("400")
    event = fake.customer_says("400", "billing")
    delivered = next(w for w in reversed(fake.webhooks)  # not an echo that came after it
                     if any(event in e.get("messaging", []) for e in w["entry"]))
    body, headers = p.signed(delivered)  # Meta redelivers the same POST
    for _ in range(2):
        response = requests.post(str(fake.webhook_url), data=body, headers=headers, timeout=5)
        assert response.status_code == 200
    fake.wait_for_sent("400", 1)
    time.sleep(1.0)  # time for a wrong second answer to show up
    assert len(_first_replies(fake.sent("400"))) == 1
    assert service.app is not None


def test_each_customer_is_answered_in_order_with_two_workers(
        start_service: StartService, standin: tuple[Standin, str]) -> None:
    fake, _ = standin
    start_service(workers=2, drain_jobs=4)
    fake.latency = 0.02  # a slow Send API makes interleaving likely
    keywords = ["billing", "technical", "account", "hours", "refunds", "invoices"]
    customers = [str(500 + i) for i in range(12)]
    for psid in customers:
        fake.add_user(psid)
    for keyword in keywords:  # every customer's messages interleave with the others'
        for psid in customers:
            fake.customer_says(psid, keyword)
    flows = load_flows(ROOT / "config" / "flows.yaml")
    expected = [flows.text(flows.match(k, "en").messages[0].text, "en")  # type: ignore[union-attr]
                for k in keywords]
    for psid in customers:
        wait_until(lambda psid=psid: len(_first_replies(fake.sent(psid))) >= len(keywords),
                   timeout=60)
        firsts = _first_replies(fake.sent(psid))
        assert firsts == expected, psid  # answered in the order typed, for every customer


def _first_replies(bodies: list[dict]) -> list[str]:
    """The first message of each answer: the ones carrying quick replies end a turn."""
    turns, current = [], []
    for body in bodies:
        current.append(body)
        if body["message"].get("quick_replies"):
            turns.append(texts(current)[0])
            current = []
    return turns


def test_graph_500_and_613_then_success_delivers_once(start_service: StartService,
                                                      standin: tuple[Standin, str]) -> None:
    fake, _ = standin
    start_service()
    fake.add_user("600")
    fake.fail_next(2, status=500)
    fake.fail_next(1, code=613)
    fake.customer_says("600", "hours")
    fake.wait_for_sent("600", 1, timeout=30)
    time.sleep(1.0)
    sent = fake.sent("600")
    assert len(_first_replies(sent)) == 1


def test_flows_reload_and_a_broken_file_keeps_the_last_good_one(
        start_service: StartService, standin: tuple[Standin, str], tmp_path: Path) -> None:
    fake, _ = standin
    flows = tmp_path / "flows.yaml"
    shutil.copy(ROOT / "config" / "flows.yaml", flows)
    start_service(flows_path=str(flows))
    fake.add_user("700")
    fake.customer_says("700", "hi")
    fake.wait_for_sent("700", 1)

    time.sleep(1.1)  # mtime resolution and the store's check interval
    flows.write_text(flows.read_text().replace("Pick a topic", "Choose a subject"))
    fake.customer_says("700", "restart")
    assert "Choose a subject" in texts(fake.wait_for_sent("700", 2))[-1]

    time.sleep(1.1)
    flows.write_text(flows.read_text().replace("title: {en: Billing,", "title: {en: 123456789012345678901,"))
    fake.customer_says("700", "restart")
    reply = fake.wait_for_sent("700", 3)[-1]
    assert "Choose a subject" in texts([reply])[0] and "Billing" in chips(reply)
