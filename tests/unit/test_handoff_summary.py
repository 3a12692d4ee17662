"""The note for the agent: who, which topics, the last messages; short, and without secrets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, SQLModel, create_engine

from bot.flows import Flows, load_flows
from bot.models import Customer, Message
from bot.turn import Turn
from config.settings import Settings
from core.mailbox import Queued
from handoff.summary import LIMIT, for_agent, mask
from tests.support import payloads as p

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def flows() -> Flows:
    return load_flows(ROOT / "config" / "flows.yaml")


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def turn_for(session: Session, flows: Flows, said: list[tuple[str, str | None]],
             typed_now: str = "I want a human") -> Turn:
    customer = Customer(page_id=p.PAGE_ID, psid="987654321012345", first_name="Lucía",
                        messenger_locale="es_LA")
    session.add(customer)
    session.flush()
    assert customer.id is not None
    for text, payload in said:
        session.add(Message(customer_id=customer.id, direction="in", author="customer",
                            kind="text", text=text, payload=payload))
        session.add(Message(customer_id=customer.id, direction="out", author="bot",
                            kind="text", text="A canned answer from the bot"))
    session.flush()
    event = {"sender": {"id": customer.psid}, "message": {"mid": "m_1", "text": typed_now}}
    turn = Turn(customer, flows, Queued("c", "m", "messaging", "message", event),
                Settings(messenger_page_access_token=p.ACCESS_TOKEN))
    turn.hear("customer", "text", typed_now, None, "m_1")
    return turn


def test_the_agent_learns_who_what_and_the_last_words(session: Session, flows: Flows) -> None:
    said = [("Facturación", "flow:billing"), ("quiero un reembolso", None),
            ("me cobraron dos veces", None)]
    note = for_agent(turn_for(session, flows, said))
    assert note.startswith("Live agent request from Lucía (language: es_LA).")
    assert "Topics chosen: Facturación > Reembolsos" in note
    assert note.endswith("- quiero un reembolso\n- me cobraron dos veces\n- I want a human")
    assert "canned answer" not in note, "the customer's words, not the bot's"


def test_out_of_hours_is_said(session: Session, flows: Flows) -> None:
    assert "outside business hours" in for_agent(turn_for(session, flows, []), out_of_hours=True)


def test_a_long_conversation_stays_under_facebook_s_limit(session: Session, flows: Flows) -> None:
    said = [(f"message {i} " + "bla " * 300, None) for i in range(40)]
    note = for_agent(turn_for(session, flows, said, typed_now="agent " * 400))
    assert len(note) <= LIMIT < 1000
    assert "message 39" in note and "message 30" not in note


@pytest.mark.parametrize(("typed", "masked"), [
    ("mail me at ana.silva+x@example.co.uk", "mail me at [email]"),
    ("card 4111 1111 1111 1111 exp 12/29", "card [number] exp 12/29"),
    ("call +34 600-123-456", "call [number]"),
    ("see https://shop.example.com/o/77?token=abc&sig=9", "see https://shop.example.com/o/77"),
    ("my key is EAAtest-page-token-123456abcdefgh", "my key is [hidden]"),
    ("order 12345 arrived broken", "order 12345 arrived broken"),
])
def test_personal_data_and_credentials_are_masked(typed: str, masked: str) -> None:
    assert mask(typed) == masked


def test_no_ids_or_tokens_reach_the_agent(session: Session, flows: Flows) -> None:
    said = [(f"my token {p.ACCESS_TOKEN}", None)]
    note = for_agent(turn_for(session, flows, said))
    assert p.ACCESS_TOKEN not in note and "987654321012345" not in note
