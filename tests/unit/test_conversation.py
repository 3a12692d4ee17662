"""Conversation decisions, without Facebook or a database: what a customer gets."""

from __future__ import annotations

from pathlib import Path

from bot.conversation import handle_turn
from bot.flows.loader import load_flows
from bot.models import Customer
from bot.turn import Turn
from core.mailbox import Queued
from tests.conftest import make_settings
from tests.support import payloads as p

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "flows.yaml"


def turn_for(tmp_path: Path, words: str, *, flows_text: str | None = None,
             state: dict | None = None) -> Turn:
    path = tmp_path / "flows.yaml"
    path.write_text(flows_text or SHIPPED.read_text())
    customer = Customer(id=1, page_id=p.PAGE_ID, psid="42", messenger_locale="en_US",
                        state=state or {"greeted": True})
    item = Queued(f"{p.PAGE_ID}:42", "m", "messaging", "message", p.text("42", words))
    return Turn(customer, load_flows(path), item, make_settings(tmp_path))


def sent_texts(turn: Turn) -> list[str]:
    out = []
    for kind, body in turn.calls:
        if kind == "send":
            message = body["message"]
            out.append(message.get("text") or message["attachment"]["payload"]["text"])
    return out


def test_an_action_flow_says_its_messages_before_the_action(tmp_path: Path) -> None:
    with_words = SHIPPED.read_text().replace(
        "      es: [reiniciar, empezar de nuevo,",
        "      es: [reiniciar, empezar de nuevo,", 1).replace(
        "    action: restart\n",
        "    messages:\n      - text: {en: \"Starting over.\", es: \"Empezamos de nuevo.\",\n"
        "               pt_BR: \"Recomeçando.\"}\n"
        "    action: restart\n", 1)
    turn = turn_for(tmp_path, "restart", flows_text=with_words,
                    state={"greeted": True, "flow": "billing"})
    handle_turn(turn)
    texts = sent_texts(turn)
    assert texts[0] == "Starting over." and "Pick a topic" in texts[-1]
    assert "flow" not in turn.customer.state  # restart cleared the flow state


def test_typed_keywords_match_regardless_of_case_and_accents(tmp_path: Path) -> None:
    for typed in ("BILLING", "billing!!", "Facturación"):
        turn = turn_for(tmp_path, typed)
        handle_turn(turn)
        assert turn.customer.state.get("flow") == "billing", typed


def test_unknown_text_gets_the_fallback_and_the_menu(tmp_path: Path) -> None:
    turn = turn_for(tmp_path, "qwerty zxcv")
    handle_turn(turn)
    assert "didn't get that" in sent_texts(turn)[0]
    assert turn.calls[-1][1]["message"]["quick_replies"]
