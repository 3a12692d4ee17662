"""Ticket types as the admin configures them in the flows file (`tickets.types`)."""

from __future__ import annotations

from collections.abc import Iterable
from email.utils import parseaddr

from bot.flows.schema import Flows, TicketType


def ticket_types(flows: Flows) -> dict[str, TicketType]:
    return dict(flows.tickets.types) if flows.tickets else {}


def type_title(flows: Flows, type_id: str, locale: str) -> str:
    """The localized title; the bare id for a type since removed from the file."""
    ticket_type = ticket_types(flows).get(type_id)
    return flows.text(ticket_type.title, locale) if ticket_type else type_id


def mailbox_for(flows: Flows, type_id: str, support_address: str) -> str:
    """Who is told about this type's tickets; the support address when the type is gone."""
    ticket_type = ticket_types(flows).get(type_id)
    return ticket_type.mailbox if ticket_type else parseaddr(support_address)[1]


def type_titles(flows: Iterable[Flows], locale: str) -> dict[str, str]:
    """Every type of these flows files (one per Page) by id, with its title in the first
    file that defines it: what the ticket list shows and filters by."""
    titles: dict[str, str] = {}
    for each in flows:
        for type_id, kind in ticket_types(each).items():
            titles.setdefault(type_id, each.text(kind.title, locale))
    return titles
