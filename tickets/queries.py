"""Reading tickets for the screen and the API: newest first, keyset-paginated
(`before`/`after` an id), so page 500 costs what page 1 does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from core.metrics import PREFIX
from tickets.errors import TicketNotFound
from tickets.models import OutboundMail, Ticket, TicketReply
from tickets.scope import EVERYTHING, Scope

PAGE_SIZE = 20
LIST_COLUMNS = (Ticket.id, Ticket.title, Ticket.type_id, Ticket.status, Ticket.created_at, Ticket.created_by,
                Ticket.source, Ticket.rating, Ticket.page_id, Ticket.channel)


@dataclass(frozen=True)
class TicketRow:
    id: int
    title: str
    type_id: str
    status: str
    created_at: datetime
    created_by: str
    source: str
    rating: int | None = None
    page_id: str | None = None
    channel: str = "messenger"


@dataclass(frozen=True)
class TicketPage:
    rows: list[TicketRow]
    newer: int | None  # pass as `after` to see the page before this one
    older: int | None  # pass as `before` for the next page


@dataclass(frozen=True)
class Filters:
    scope: Scope = EVERYTHING  # whose tickets the viewer may see (tickets.scope)
    status: str | None = None
    type_id: str | None = None

    def where(self) -> list[Any]:
        clauses = self.scope.ticket_clauses()
        if self.status:
            clauses.append(Ticket.status == self.status)
        if self.type_id:
            clauses.append(Ticket.type_id == self.type_id)
        return clauses


def list_tickets(session: Session, filters: Filters, *, before: int | None = None, after: int | None = None,
                 limit: int = PAGE_SIZE) -> TicketPage:
    query = select(*LIST_COLUMNS).where(*filters.where())
    if after is not None:
        query = query.where(col(Ticket.id) > after).order_by(col(Ticket.id).asc())
    else:
        if before is not None:
            query = query.where(col(Ticket.id) < before)
        query = query.order_by(col(Ticket.id).desc())
    rows = [TicketRow(*row) for row in session.exec(query.limit(limit)).all()]
    if after is not None:
        rows.reverse()
    if not rows:
        return TicketPage([], None, None)
    newer = rows[0].id if _exists(session, filters, col(Ticket.id) > rows[0].id) else None
    older = rows[-1].id if _exists(session, filters, col(Ticket.id) < rows[-1].id) else None
    return TicketPage(rows, newer, older)


def _exists(session: Session, filters: Filters, clause: Any) -> bool:
    return session.exec(select(Ticket.id).where(*filters.where(), clause).limit(1)).first() is not None


def visible_ticket(session: Session, ticket_id: int, *, scope: Scope) -> Ticket:
    """The ticket, if this viewer may see it; else TicketNotFound, as for no ticket."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not scope.sees(ticket):
        raise TicketNotFound(ticket_id)
    return ticket


def replies_of(session: Session, ticket_id: int) -> list[TicketReply]:
    return list(session.exec(select(TicketReply).where(TicketReply.ticket_id == ticket_id)
                             .order_by(col(TicketReply.id))).all())


def mails_of(session: Session, ticket_id: int) -> list[OutboundMail]:
    return list(session.exec(select(OutboundMail).where(OutboundMail.ticket_id == ticket_id)
                             .order_by(col(OutboundMail.id))).all())


def status_gauges(connection: Connection) -> list[Metric]:
    """`/metrics` (registered with core.metrics_scrape): tickets and their emails by status."""
    tickets = GaugeMetricFamily(PREFIX + "tickets", "Tickets by status", labels=["status"])
    emails = GaugeMetricFamily(PREFIX + "emails", "Notification emails by status",
                               labels=["status"])
    for family, table in ((tickets, "ticket"), (emails, "ticket_mail")):
        rows = connection.execute(text(f"SELECT status, COUNT(*) FROM {table} GROUP BY status"))  # noqa: S608
        for status, count in rows:
            family.add_metric([str(status)], count)
    return [tickets, emails]
