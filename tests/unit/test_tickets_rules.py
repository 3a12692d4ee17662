"""The `tickets:` section of the flows file, and Messenger's window rule for agent replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.flows import FlowsError, load_flows
from tickets.window import Delivery, delivery_for, send_options

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
BASE = """\
default_locale: en
locales: [en, es]
greeting: {en: "Hi", es: "Hola"}
menu:
  text: {en: "Pick:", es: "Elige:"}
  items: [support]
fallback: {en: "Sorry.", es: "Perdona."}
flows:
  support:
    title: {en: Email support, es: Soporte}
    action: create_ticket
tickets:
  types:
    billing:
      title: {en: Billing, es: Facturación}
      mailbox: billing@example.com
    other:
      title: {en: Other query, es: Otra consulta}
      mailbox: help@example.com
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "flows.yaml"
    path.write_text(text)
    with pytest.raises(FlowsError) as refused:
        load_flows(path)
    return [f"{p.line}: {p.message}" for p in refused.value.problems]


def test_ticket_types_are_read_in_order_with_their_mailboxes(tmp_path: Path) -> None:
    path = tmp_path / "flows.yaml"
    path.write_text(BASE)
    tickets = load_flows(path).tickets
    assert tickets is not None and list(tickets.types) == ["billing", "other"]
    assert tickets.types["other"].mailbox == "help@example.com"
    shipped = load_flows(ROOT / "config" / "flows.yaml").tickets
    assert shipped is not None and {"billing", "technical", "other"} <= set(shipped.types)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("mailbox: help@example.com", "mailbox: help",
     '19: tickets.types.other.mailbox: "help" is not an email address'),
    ("{en: Other query, es: Otra consulta}", "{en: Other query}",
     '18: tickets.types.other.title: missing the "es" translation'),
    ("{en: Other query, es: Otra consulta}", "{en: Other query, es: Otra consulta muy larga}",
     '18: tickets.types.other.title.es: "Otra consulta muy larga" is 23 characters'),
    ("    other:\n", "    Other-Query:\n",
     '17: tickets.types.Other-Query: "Other-Query" is not a ticket type id'),
    ("      mailbox: help@example.com", "      mailbox: help@example.com\n      colour: red",
     "20: tickets.types.other.colour: unknown key; allowed here: title, mailbox"),
])
def test_mistakes_in_ticket_types_are_refused_with_their_line(tmp_path: Path, old: str, new: str,
                                                              expected: str) -> None:
    found = problems(tmp_path, BASE.replace(old, new))
    assert any(problem.startswith(expected) for problem in found), found


def test_create_ticket_needs_the_tickets_section(tmp_path: Path) -> None:
    found = problems(tmp_path, BASE.split("tickets:")[0])
    assert found == ["11: flows.support.action: create_ticket needs a tickets: section with the ticket types"]


@pytest.mark.parametrize(("since", "expected"), [
    (timedelta(minutes=1), Delivery.RESPONSE),
    (timedelta(hours=23, minutes=50), Delivery.RESPONSE),
    (timedelta(hours=23, minutes=58), Delivery.HUMAN_AGENT),  # too close to the edge for a response
    (timedelta(days=3), Delivery.HUMAN_AGENT),
    (timedelta(days=6, hours=23, minutes=50), Delivery.HUMAN_AGENT),
    (timedelta(days=6, hours=23, minutes=58), Delivery.WAIT),
    (timedelta(days=30), Delivery.WAIT),
])
def test_the_window_rule_for_a_human_agents_reply(since: timedelta, expected: Delivery) -> None:
    assert delivery_for(NOW - since, NOW) is expected
    naive = (NOW - since).replace(tzinfo=None)  # as SQLite hands it back
    assert delivery_for(naive, NOW) is expected


def test_a_customer_who_never_wrote_is_never_messaged() -> None:
    assert delivery_for(None, NOW) is Delivery.WAIT


def test_send_options_tag_only_human_agent_replies() -> None:
    assert send_options(Delivery.RESPONSE) == {"messaging_type": "RESPONSE"}
    assert send_options(Delivery.HUMAN_AGENT) == {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    with pytest.raises(ValueError):
        send_options(Delivery.WAIT)
