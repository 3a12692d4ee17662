"""Email Support in the Messenger conversation: the turn hook (agent replies
arriving through the mailbox, replies that waited, the wizard's steps), the
`create_ticket` and `my_tickets` actions, and the `ticket:` payloads (Resolve).

Reply delivery states change in the turn's own transaction (with its state and
outbox). Opening and resolving a ticket commit on their own first, because the
email job they enqueue must find the rows; they are idempotent per Messenger
event (`turns.event_key`), so a re-run of a turn opens no second ticket.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from attachments.outbound import FILE_CALL
from attachments.queries import of_reply
from bot import replies
from bot.flows.schema import Flow
from bot.models import Customer
from bot.outbox import CallOutcome
from bot.turn import Turn
from core import runtime
from core.db import session_scope
from core.i18n import say
from core.mailbox import Queued
from messenger.errors import OutsideMessagingWindow
from tickets import i18n, links, resolved, service, unseen, wizard
from tickets.jobs import enqueue_mails, pending_mail_ids
from tickets.models import Ticket, TicketReply, utcnow
from tickets.notify import REPLY_EVENT
from tickets.turns import agent_has_thread, event_key, in_transaction, turn_session
from tickets.types import mailbox_for
from tickets.window import Delivery, delivery_for, send_options

log = logging.getLogger(__name__)

RESOLVE_PREFIX = "ticket:resolve:"
REPLY_SENT = "tickets.reply_sent"  # outbox follow-up name
FILE_SENT = "tickets.file_sent"  # outbox follow-up of an agent's file


def turn_hook(turn: Turn) -> bool:
    """Registered after the handoff hook: True when the event is fully handled."""
    if turn.kind == REPLY_EVENT:
        deliver_reply(turn)
        return True
    if turn.on_standby or turn.kind not in ("message", "postback") or agent_has_thread(turn):
        return False
    mention_waiting(turn)
    return wizard.in_progress(turn) and wizard.step(turn)


def joins_batch(customer: Customer, item: Queued) -> bool:
    """A wizard step or a `ticket:` payload is decided in a transaction of its own: opening
    and resolving commit on their own and read the transcript, which must be committed."""
    if isinstance(customer.state.get(wizard.STATE), dict):
        return False
    part = item.event.get("postback") or _dict(item.event.get("message")).get("quick_reply")
    payload = _dict(part).get("payload")
    return not (isinstance(payload, str) and payload.startswith("ticket:"))


def deliver_reply(turn: Turn, *, now: datetime | None = None) -> None:
    """An agent's reply, sent under Messenger's window rule or kept waiting."""
    reply_id, key = _dict(turn.event.get(REPLY_EVENT)).get("reply_id"), event_key(turn)
    with turn_session(turn) as session:
        reply = session.get(TicketReply, reply_id) if isinstance(reply_id, int) else None
        ticket = session.get(Ticket, reply.ticket_id) if reply else None
        if reply is None or ticket is None or ticket.customer_id != turn.customer.id:
            log.warning("ticket reply %r is not for customer %s; dropped", reply_id, turn.customer.id)
            return
        if reply.delivered_in not in (None, key):
            return  # it went out with a message the customer sent meanwhile
        delivery = Delivery.WAIT if agent_has_thread(turn) else delivery_for(
            turn.customer.last_inbound_at, now or utcnow())
        if delivery is not Delivery.WAIT:
            messages = reply_messages(turn.locale, ticket, reply)
            for i, message in enumerate(messages, start=1):
                then = {"then": REPLY_SENT} if i == len(messages) else {}
                turn.call("send", message=message, author="agent", **send_options(delivery), **then)
            _send_files(turn, session, reply, send_options(delivery))
        reply.messenger, reply.delivered_in = delivery.value, key
        session.add(reply)
    log.info("ticket %s reply %s: %s", ticket.id, reply.id, delivery.value)


def _send_files(turn: Turn, session: Session, reply: TicketReply, options: dict[str, Any]) -> None:
    """The reply's files follow its text, under the same window rule."""
    for file in of_reply(session, reply.id):  # type: ignore[arg-type]
        if file.status == "stored" and file.messenger != "sent":
            turn.call(FILE_CALL, attachment=file.id, author="agent", **options, then=FILE_SENT)


def file_sent(turn: Turn, outcome: CallOutcome) -> bool:
    """Outbox follow-up of a file's send: one Messenger refused gets a link to the ticket."""
    if outcome.ok:
        return True
    with turn_session(turn) as session:
        ticket_id = session.exec(select(TicketReply.ticket_id).where(
            TicketReply.delivered_in == turn.item.member)).first()
    log.warning("customer %s: a file of a ticket reply was not delivered (%s)", turn.customer.id,
                outcome.error)
    if isinstance(outcome.error, OutsideMessagingWindow) or not isinstance(ticket_id, int):
        return True  # the reply's text waits for the window, and its files with the ticket page
    assert turn.customer.id is not None
    url = links.login_url(turn.settings.public_url, turn.settings.secret_key, turn.customer.id,
                          next_path=f"/tickets/{ticket_id}")
    turn.send(replies.button_message(say(turn.locale, i18n.FILE_AS_LINK, number=ticket_id), [
        {"type": "web_url", "title": say(turn.locale, "View ticket"), "url": url}]))
    return True


def reply_sent(turn: Turn, outcome: CallOutcome) -> bool:
    """Outbox follow-up of a reply's send: Facebook refused it, so it waits (window) or failed."""
    if outcome.ok:
        return True
    waiting = isinstance(outcome.error, OutsideMessagingWindow)
    with turn_session(turn) as session:
        for reply in session.exec(select(TicketReply).where(TicketReply.delivered_in == turn.item.member)):
            reply.messenger = "waiting" if waiting else "failed"
            session.add(reply)
    log.warning("customer %s: a ticket reply was refused (%s); %s", turn.customer.id, outcome.error,
                "it waits for the customer's next message" if waiting else "see the ticket screen")
    return True


def reply_messages(locale: str, ticket: Ticket, reply: TicketReply) -> list[replies.Message]:
    text = say(locale, "Reply on ticket #{number}:", number=ticket.id) + f"\n\n{reply.body}"
    resolve = (say(locale, "Resolve #{number}", number=ticket.id), f"{RESOLVE_PREFIX}{ticket.id}")
    return replies.text_messages(text, [resolve])


def mention_waiting(turn: Turn) -> None:
    """Replies not sent yet (the window had closed, an agent had the thread, or their
    event is still queued) go out now that the customer wrote, each with Resolve
    and a link; their own event then finds them delivered and sends nothing."""
    if not in_transaction(turn):
        return  # a turn built by hand (tests of other features): no database to look in
    key = event_key(turn)
    with turn_session(turn) as session:
        for reply, ticket in unseen.replies(session, turn, key):
            turn.send(*replies.text_messages(
                say(turn.locale, i18n.WAITING_INTRO, number=ticket.id) + f"\n\n{reply.body}"))
            turn.send(_ticket_buttons(turn, ticket))
            _send_files(turn, session, reply, {"messaging_type": "RESPONSE"})
            reply.messenger, reply.delivered_in = "delivered", key
            session.add(reply)


def _ticket_buttons(turn: Turn, ticket: Ticket) -> replies.Message:
    assert turn.customer.id is not None
    url = links.login_url(turn.settings.public_url, turn.settings.secret_key, turn.customer.id,
                          next_path=f"/tickets/{ticket.id}")
    return replies.button_message(say(turn.locale, "Ticket #{number}: is it solved?", number=ticket.id), [
        replies.postback_button(say(turn.locale, "Resolve"), f"{RESOLVE_PREFIX}{ticket.id}"),
        {"type": "web_url", "title": say(turn.locale, "View ticket"), "url": url},
    ])


def create_ticket(turn: Turn, flow: Flow | None = None) -> None:
    wizard.start(turn, flow)


def my_tickets(turn: Turn, _flow: Flow | None = None) -> None:
    """A single-use sign-in link to the customer's tickets."""
    assert turn.customer.id is not None
    url = links.login_url(turn.settings.public_url, turn.settings.secret_key, turn.customer.id)
    text = say(turn.locale, i18n.SIGN_IN_LINK, minutes=links.MAX_AGE_SECONDS // 60)
    message = replies.button_message(text, [
        {"type": "web_url", "title": say(turn.locale, "My tickets"), "url": url}])
    message["quick_replies"] = [{"content_type": "text", "title": title, "payload": payload}
                                for title, payload in replies.menu_options(turn.flows, turn.locale)]
    turn.send(message)
    turn.set_state(greeted=True)


def on_payload(turn: Turn, payload: str) -> bool:
    """`ticket:resolve:<n>`; a stale wizard tap (wizard gone) falls back to the menu."""
    number = payload.removeprefix(RESOLVE_PREFIX)
    if payload.startswith(RESOLVE_PREFIX) and number.isdigit():
        resolve(turn, int(number))
        return True
    return False


def resolve(turn: Turn, ticket_id: int) -> None:
    rt = runtime.current()
    with session_scope(rt.engine) as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None or ticket.customer_id != turn.customer.id:
            unknown = say(turn.locale, "I can't find that ticket.")
            turn.send(*replies.menu_messages(turn.flows, turn.locale, intro=unknown))
            return
        mailbox = mailbox_for(turn.flows, ticket.type_id, rt.settings.support_email_from)
        mail = service.resolve(session, ticket, mailbox=mailbox, sender=rt.settings.support_email_from)
        session.flush()
        pending = pending_mail_ids(session, ticket_id)
    enqueue_mails(rt, pending)
    said = say(turn.locale, i18n.RESOLVED if mail is not None else i18n.ALREADY_RESOLVED, number=ticket_id)
    if not resolved.in_chat(turn, ticket_id, intro=said):  # asked once, whoever resolved it
        turn.send(*replies.menu_messages(turn.flows, turn.locale, intro=said))
    turn.set_state(greeted=True)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
