"""The ticket screen: `/tickets` (list), `/tickets/new`, `/tickets/<id>` with its
messages, Resolve and reply forms. Customers see only their own tickets (any
other id is a plain 404); agents see all (or their Pages', `tickets.scope`) and may
reply."""

from __future__ import annotations

import logging
import secrets

from flask import Blueprint, redirect, request, url_for
from redis.exceptions import RedisError
from werkzeug.wrappers import Response

from attachments import queries as attachment_queries
from attachments.serve import file_response
from attachments.sniff import INLINE_IMAGES
from bot.flows import Flows
from bot.models import Customer
from core.runtime import Runtime
from tickets import resolved, service
from tickets.auth import Viewer, current_viewer, login_required
from tickets.chat_links import chat_links
from tickets.errors import TicketNotFound
from tickets.forms import ActionForm, MessageForm, NewTicketForm
from tickets.jobs import enqueue_mails
from tickets.models import STATUSES, Ticket
from tickets.notify import push_reply
from tickets.pages import error_page, remember_language, render
from tickets.queries import Filters, list_tickets, mails_of, replies_of, visible_ticket
from tickets.types import mailbox_for, ticket_types, type_title, type_titles
from tickets.webapp import configure, db, local_preview, pages, runtime, secure_headers

log = logging.getLogger(__name__)
bp = Blueprint("tickets", __name__, url_prefix="/tickets", template_folder="templates",
               static_folder="static", static_url_path="/static")
bp.record_once(configure)
bp.before_request(remember_language)
bp.after_request(secure_headers)

Page = tuple[str, int] | Response


@bp.errorhandler(TicketNotFound)
def not_found(_error: TicketNotFound) -> tuple[str, int]:
    return error_page(current_viewer(), "not_found", 404)


@bp.get("")
@login_required
def index(viewer: Viewer) -> Page:
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    filters = Filters(scope=viewer.scope, status=status,
                      type_id=request.args.get("type") or None)
    page = list_tickets(db(), filters, before=_id_arg("before"), after=_id_arg("after"))
    titles = type_titles(_visible_flows(viewer), viewer.locale)
    keep = {name: value for name, value in (("status", status), ("type", filters.type_id)) if value}
    return render("tickets/list.html", viewer, page=page, type_titles=titles, filters=filters,
                  statuses=STATUSES, keep=keep)


@bp.get("/chat")
@login_required
def chat(viewer: Viewer) -> Page:
    """Chat Support: the links that open the conversation, per Page and channel."""
    links = chat_links(pages(), db(), preview=local_preview(), only=viewer.scope.page_ids)
    return render("tickets/chat.html", viewer, section="chat", chat_links=links)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new(viewer: Viewer) -> Page:
    if viewer.is_staff:
        return error_page(viewer, "forbidden", 403)
    flows = _customer_flows(viewer)
    form = NewTicketForm()
    form.type.choices = [(type_id, flows.text(kind.title, viewer.locale))
                         for type_id, kind in ticket_types(flows).items()]
    if not form.validate_on_submit():
        form.nonce.data = form.nonce.data or secrets.token_urlsafe(16)
        return render("tickets/new.html", viewer, 400 if form.is_submitted() else 200, form=form)
    return redirect(url_for("tickets.show", ticket_id=_open_from_form(viewer, form)))


def _open_from_form(viewer: Viewer, form: NewTicketForm) -> int:
    rt, session = runtime(), db()
    key = f"web:{viewer.id}:{(form.nonce.data or '')[:64]}" if form.nonce.data else None
    ticket = service.find_by_source(session, key) if key else None
    if ticket is None:  # not a resubmission of the same form
        customer = session.get(Customer, viewer.id)
        assert customer is not None
        ticket, _ = service.open_ticket(
            session, customer=customer, ticket_type=ticket_types(_customer_flows(viewer))[form.type.data],
            title=form.title.data or "", description=form.description.data or "", source="web",
            locale=viewer.locale, sender=rt.settings.support_email_from, source_key=key,
            page_id=_page_of(rt, customer.page_id))
        session.commit()
        _enqueue(rt, [mail.id for mail in mails_of(session, ticket.id)])  # type: ignore[arg-type]
    assert ticket.id is not None
    return ticket.id


@bp.get("/<int:ticket_id>")
@login_required
def show(viewer: Viewer, ticket_id: int) -> Page:
    session = db()
    ticket = visible_ticket(session, ticket_id, scope=viewer.scope)
    title = type_title(runtime().flows_or_default(ticket.page_id).current, ticket.type_id,
                       viewer.locale)
    return render("tickets/detail.html", viewer, ticket=ticket, replies=replies_of(session, ticket_id),
                  mails=mails_of(session, ticket_id), type_title=title,
                  page_name=_page_name(ticket.page_id),
                  files=attachment_queries.of_ticket(session, ticket_id),
                  inline_types=INLINE_IMAGES, message_form=MessageForm(), action_form=ActionForm())


@bp.get("/<int:ticket_id>/attachments/<int:n>")
@login_required
def attachment(viewer: Viewer, ticket_id: int, n: int) -> Page | Response:
    """A ticket's file, to whoever may see the ticket (a customer: only their own)."""
    session = db()
    visible_ticket(session, ticket_id, scope=viewer.scope)
    found = attachment_queries.nth_of_ticket(session, ticket_id, n)
    if found is None:
        return error_page(viewer, "not_found", 404)
    return file_response(*found, download=request.args.get("download") == "1")


@bp.post("/<int:ticket_id>/resolve")
@login_required
def resolve(viewer: Viewer, ticket_id: int) -> Page:
    if not ActionForm().validate_on_submit():
        return error_page(viewer, "form_expired", 400)
    rt, session = runtime(), db()
    ticket = visible_ticket(session, ticket_id, scope=viewer.scope)
    mailbox = mailbox_for(rt.flows_or_default(ticket.page_id).current, ticket.type_id,
                          rt.settings.support_email_from)
    mail = service.resolve(session, ticket, mailbox=mailbox, sender=rt.settings.support_email_from)
    session.commit()
    _enqueue(rt, [mail.id if mail else None])
    if mail is not None:
        _ask_rating(rt, ticket)
    return redirect(url_for("tickets.show", ticket_id=ticket_id))


def _ask_rating(rt: Runtime, ticket: Ticket) -> None:
    """Tell who listens (`tickets.resolved`: satisfaction asks for a rating on Messenger)."""
    customer = db().get(Customer, ticket.customer_id)
    assert customer is not None and ticket.id is not None
    try:
        resolved.on_screen(rt, page_id=customer.page_id, psid=customer.psid, ticket_id=ticket.id)
    except RedisError:  # resolved all the same; only the question is lost
        log.warning("ticket %s resolved; Redis down, its rating is not asked", ticket.id)


@bp.post("/<int:ticket_id>/messages")
@login_required
def add_message(viewer: Viewer, ticket_id: int) -> Page:
    session = db()
    ticket = visible_ticket(session, ticket_id, scope=viewer.scope)
    form = MessageForm()
    if not form.validate_on_submit():
        key = "form_expired" if "csrf_token" in form.errors else "required"
        return error_page(viewer, key, 400)
    if viewer.is_staff:
        _agent_reply(viewer, ticket, form.body.data or "")
    else:
        _customer_message(viewer, ticket, form.body.data or "")
    return redirect(url_for("tickets.show", ticket_id=ticket_id))


def _agent_reply(viewer: Viewer, ticket: Ticket, body: str) -> None:
    rt, session = runtime(), db()
    reply = service.add_agent_reply(session, ticket, author=viewer.name, body=body, source="web")
    session.commit()
    customer = session.get(Customer, ticket.customer_id)
    assert customer is not None and reply.id is not None
    try:
        push_reply(rt, page_id=customer.page_id, psid=customer.psid, reply_id=reply.id)
    except RedisError:  # stored and shown as queued; the customer's next message carries it
        log.warning("reply %s on ticket %s stored; Redis down, Messenger delivery waits", reply.id,
                    ticket.id)


def _customer_message(viewer: Viewer, ticket: Ticket, body: str) -> None:
    rt, session = runtime(), db()
    mailbox = mailbox_for(rt.flows_or_default(ticket.page_id).current, ticket.type_id,
                          rt.settings.support_email_from)
    mail = service.add_customer_message(session, ticket, body=body, source="web", mailbox=mailbox,
                                        sender=rt.settings.support_email_from, author=viewer.name)
    session.commit()
    _enqueue(rt, [mail.id])


def _enqueue(rt: Runtime, mail_ids: list[int | None]) -> None:
    try:
        enqueue_mails(rt, mail_ids)
    except RedisError:  # the rows say "pending": `flask tickets send-pending` queues them again
        log.warning("emails %s stored but not queued: Redis unavailable", mail_ids)


def _customer_flows(viewer: Viewer) -> Flows:
    """The flows of the signed-in customer's Page (its ticket types)."""
    customer = db().get(Customer, viewer.customer_id) if viewer.customer_id else None
    return runtime().flows_or_default(customer.page_id if customer else None).current


def _visible_flows(viewer: Viewer) -> list[Flows]:
    """The flows of the Pages whose tickets the viewer sees (each may have its own types)."""
    if not viewer.is_staff:
        return [_customer_flows(viewer)]
    rt, only = runtime(), viewer.scope.page_ids
    flows = [rt.flows.current] if only is None else []  # FLOWS_PATH: one Page, or old tickets
    if not rt.pages.single:
        flows += [rt.flows_for(page.id).current for page in rt.pages.pages
                  if only is None or page.id in only]
    return flows


def _page_name(page_id: str | None) -> str | None:
    rt = runtime()
    if page_id is None or rt.pages.single:  # one Page: its name is not in any file
        return None
    page = rt.pages.page(page_id)
    return page.name if page is not None else None


def _page_of(rt: Runtime, account_id: str) -> str:
    account = rt.pages.find(account_id)
    return account.page.id if account is not None else account_id


def _id_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 13 else None
