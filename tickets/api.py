"""`GET /api/tickets` and `GET /api/tickets/<id>`: JSON for admins, with
`Authorization: Bearer $ADMIN_API_TOKEN`. The list filters by `status` and
`type` and pages with `before` (the `next` link carries it). A ticket's files:
`GET /api/tickets/<id>/attachments/<n>`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from attachments import queries as attachment_queries
from attachments.serve import describe, file_response
from core.bearer import bearer_ok
from tickets.errors import TicketNotFound
from tickets.models import STATUSES, OutboundMail, Ticket, TicketReply, as_utc
from tickets.queries import Filters, TicketRow, list_tickets, mails_of, replies_of, visible_ticket
from tickets.scope import EVERYTHING
from tickets.webapp import configure, db, runtime

bp = Blueprint("tickets_api", __name__, url_prefix="/api/tickets")
bp.record_once(configure)

MAX_LIMIT = 100
Answer = tuple[Response, int]


@bp.before_request
def require_token() -> Answer | None:
    if not bearer_ok(request, runtime().settings.admin_api_token):
        answer = jsonify(error="missing or wrong bearer token")
        answer.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return answer, 401
    return None


@bp.get("")
def index() -> Answer:
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        return jsonify(error=f"status must be one of {', '.join(STATUSES)}"), 400
    limit, before = _number("limit", 20), _number("before", None)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        return jsonify(error=f"limit must be 1 to {MAX_LIMIT}"), 400
    filters = Filters(status=status, type_id=request.args.get("type") or None)
    page = list_tickets(db(), filters, before=before, limit=limit)
    next_url = None
    if page.older is not None:
        args = {k: v for k, v in request.args.items() if k != "before"}
        next_url = url_for("tickets_api.index", **args, before=page.older)
    return jsonify(tickets=[_summary(row) for row in page.rows], next=next_url), 200


@bp.get("/<int:ticket_id>")
def show(ticket_id: int) -> Answer:
    session = db()
    try:
        ticket = visible_ticket(session, ticket_id, scope=EVERYTHING)
    except TicketNotFound:
        return jsonify(error="no such ticket"), 404
    detail = _detail(ticket, replies_of(session, ticket_id), mails_of(session, ticket_id))
    detail["attachments"] = [
        {**describe(row), "url": url_for("tickets_api.attachment", ticket_id=ticket_id, n=n,
                                         _external=True) if row.status == "stored" else None}
        for n, row in enumerate(attachment_queries.of_ticket(session, ticket_id), start=1)]
    return jsonify(detail), 200


@bp.get("/<int:ticket_id>/attachments/<int:n>")
def attachment(ticket_id: int, n: int) -> Response | Answer:
    """The bytes of the ticket's `n`th file (from 1), always as a download."""
    found = attachment_queries.nth_of_ticket(db(), ticket_id, n)
    if found is None:
        return jsonify(error="no such attachment"), 404
    return file_response(*found, download=True)


def _number(name: str, default: int | None) -> int | None:
    value = request.args.get(name)
    if value is None:
        return default
    return int(value) if value.isdigit() and len(value) < 13 else None


def _summary(row: TicketRow) -> dict[str, Any]:
    return {"id": row.id, "title": row.title, "type": row.type_id, "status": row.status,
            "created_at": as_utc(row.created_at).isoformat(), "created_by": row.created_by,
            "source": row.source, "rating": row.rating, "page_id": row.page_id,
            "channel": row.channel}


def _detail(ticket: Ticket, replies: list[TicketReply], mails: list[OutboundMail]) -> dict[str, Any]:
    return {
        "id": ticket.id, "title": ticket.title, "type": ticket.type_id, "description": ticket.description,
        "status": ticket.status, "created_at": as_utc(ticket.created_at).isoformat(),
        "created_by": ticket.created_by, "source": ticket.source, "transcript": ticket.transcript,
        "page_id": ticket.page_id, "channel": ticket.channel,
        "rating": ticket.rating, "rating_comment": ticket.rating_comment,
        "rated_at": as_utc(ticket.rated_at).isoformat() if ticket.rated_at else None,
        "replies": [{"id": r.id, "author": r.author, "author_kind": r.author_kind, "body": r.body,
                     "source": r.source, "messenger": r.messenger,
                     "created_at": as_utc(r.created_at).isoformat()} for r in replies],
        "notifications": [{"kind": m.kind, "to": m.to_addr, "status": m.status, "attempts": m.attempts,
                           "last_error": m.last_error, "message_id": m.message_id,
                           "sent_at": as_utc(m.sent_at).isoformat() if m.sent_at else None} for m in mails],
    }
