"""A Brazilian customer end to end, over real HTTP: the stand-in Messenger says her profile
locale is pt_BR, and everything she sees is Portuguese — the flows' menu, the handover's
out-of-hours text with its date phrase, the ticket questions, the Messenger sign-in link,
the ticket screen — and the team's notification emails are written in her language."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from aiosmtpd.controller import Controller

from messenger.standin import Standin
from tests.e2e.conftest import StartService
from tests.support.servers import free_port, wait_until
from tests.support.smtp import CapturedMail

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
PSID = "5511"
# Babel's pt_BR medium date and 24-hour time, then the business-hours zone: "5 de dez. de 2026 14:30 (UTC)"
PT_MOMENT = re.compile(r"\d{1,2} de [a-zç]{3,4}\. de \d{4} \d{2}:\d{2} \(UTC\)")


@pytest.fixture
def mailbox() -> Iterator[tuple[CapturedMail, int]]:
    handler, port = CapturedMail(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def closed_until_tomorrow(tmp_path: Path) -> Path:
    """The shipped flows with agents in only tomorrow, 09:00-18:00 UTC."""
    text = (ROOT / "config" / "flows.yaml").read_text()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%a").lower()
    old = "  timezone: Europe/Madrid\n"
    assert text.count(old) == 1
    path = tmp_path / "flows.yaml"
    path.write_text(text.replace(old, f"  timezone: UTC\n  hours:\n    {tomorrow}: \"09:00-18:00\"\n"))
    return path


def text_of(body: dict[str, Any]) -> str:
    message = body["message"]
    return message.get("text") or message["attachment"]["payload"]["text"]


def chips(body: dict[str, Any]) -> list[str]:
    return [q["title"] for q in body["message"].get("quick_replies", [])]


def buttons(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["message"].get("attachment", {}).get("payload", {}).get("buttons", [])


def says(fake: Standin, text: str, quick_reply: str | None = None) -> list[dict[str, Any]]:
    """The customer writes; every message the bot answers with (waits until it is quiet)."""
    before = len(fake.sent(PSID))
    fake.customer_says(PSID, text, quick_reply=quick_reply)
    fake.wait_for_sent(PSID, before + 1, timeout=30)

    def settled() -> bool:
        count = len(fake.sent(PSID))
        time.sleep(0.4)
        return len(fake.sent(PSID)) == count

    wait_until(settled, timeout=20)
    return fake.sent(PSID)[before:]


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def test_a_pt_br_customer_is_answered_in_portuguese_everywhere(
        start_service: StartService, standin: tuple[Standin, str], tmp_path: Path,
        mailbox: tuple[CapturedMail, int]) -> None:
    fake, _ = standin
    captured, smtp_port = mailbox
    start_service(flows_path=str(closed_until_tomorrow(tmp_path)), smtp_url=f"smtp://127.0.0.1:{smtp_port}",
                  support_email_from="Suporte <support@example.com>")
    base = str(fake.webhook_url).removesuffix("/webhook")
    fake.add_user(PSID, first_name="Joana", locale="pt_BR")

    # The flows: greeting and menu from the pt_BR texts of flows.yaml.
    greeting = says(fake, "oi")
    assert text_of(greeting[0]).startswith("Olá, Joana!")
    menu = set(chips(greeting[-1]))
    assert {"Cobrança", "Falar com atendente", "Suporte por e-mail", "Meus tickets"} <= menu

    # The handover out of hours: the text and its date phrase, in Portuguese.
    closed = says(fake, "quero falar com um atendente")[-1]
    assert "Nossa equipe não está disponível agora; ela volta amanhã às 09:00 (UTC)." in text_of(closed)
    assert chips(closed)[:2] == ["Suporte por e-mail", "Esperar atendente"]

    # The ticket flow's questions come from the pt_BR catalog.
    asked = says(fake, "Suporte por e-mail", "flow:email_support")[-1]
    assert text_of(asked).startswith("Vamos abrir um ticket. Sobre o que é?")
    kinds = says(fake, "Cobrança em dobro")[-1]
    assert text_of(kinds) == "Que tipo de dúvida é?"
    assert chips(kinds) == ["Cobrança", "Técnico", "Outra dúvida", "Cancelar"]
    described = says(fake, "Cobrança", "ticket:type:billing")[-1]
    assert text_of(described).startswith("Agora descreva o que aconteceu")
    created = says(fake, "Fui cobrada duas vezes no dia 2 de março.")[-1]
    found = re.search(r"O ticket #(\d+) está aberto: “Cobrança em dobro”", text_of(created))
    assert found, text_of(created)
    number = int(found.group(1))
    assert [b["title"] for b in buttons(created)] == ["Ver ticket"]

    # The team's email, in the ticket's language, its time in the business-hours zone.
    wait_until(lambda: captured.messages, timeout=30)
    notification = captured.messages[0]
    assert notification["Subject"] == f"[#{number}] Cobrança em dobro"
    body = notification.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"Novo ticket #{number} de Joana" in body and "Tipo:        Cobrança" in body
    assert PT_MOMENT.search(body), body
    assert f"Mantenha [#{number}] no assunto." in body
    html = notification.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Arquivos do cliente" not in html and "Página do ticket" in html

    # "Meus tickets": a sign-in link, then the ticket screen in Portuguese.
    link = says(fake, "Meus tickets", "flow:my_tickets")[-1]
    assert text_of(link).startswith("Aqui está o seu link de acesso")
    url = urlsplit(buttons(link)[0]["url"])
    browser = requests.Session()
    page = browser.get(f"{base}{url.path}?{url.query}", timeout=10)
    assert "Continuar como Joana" in page.text and '<html lang="pt-BR">' in page.text
    token = url.query.split("token=", 1)[1]
    signed_in = browser.post(f"{base}/login/link", data={"csrf_token": csrf(page.text), "token": token},
                             timeout=10)
    assert signed_in.status_code == 200 and "Meus tickets" in signed_in.text
    assert f'id="ticket-{number}"' in signed_in.text and ">Aberto<" in signed_in.text
    assert "Novo ticket" in signed_in.text and PT_MOMENT.search(signed_in.text)
    detail = browser.get(f"{base}/tickets/{number}", timeout=10).text
    assert "Ainda não há respostas." in detail and "Adicionar uma mensagem" in detail
    assert ">Resolver<" in detail

    # Resolving from Messenger: said in Portuguese, and the team's email too.
    resolved = says(fake, f"Resolver #{number}", f"ticket:resolve:{number}")
    assert any(f"O ticket #{number} está resolvido. Obrigado!" in text_of(m) for m in resolved)
    wait_until(lambda: len(captured.messages) == 2, timeout=30)
    assert captured.messages[1]["Subject"] == f"Re: [#{number}] Resolvido: Cobrança em dobro"
    closing = captured.messages[1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"O ticket #{number} (Cobrança: Cobrança em dobro) foi marcado como resolvido em " in closing
    assert not [call for call in fake.calls if call[2] >= 400], "no call was refused"
