"""The Messenger ticket wizard: title → type (quick replies) → description.

Its progress lives in `Customer.state["ticket_wizard"]` (a Restart clears it).
"cancel"/"cancelar" at any step leaves without a ticket; an empty or too long
answer gets the question again with the reason; tapping another menu choice
leaves the wizard and goes there. Files sent at any step are acknowledged and
attached to the ticket when it opens (their rows come from `attachments.record`).
"""

from __future__ import annotations

from typing import Any

from attachments.record import keys_of, link_to_ticket
from bot import replies
from bot.flows.schema import Flow
from bot.flows.text import normalize
from bot.models import Customer
from bot.turn import Turn
from core import runtime
from core.db import session_scope
from core.i18n import say
from tickets import links
from tickets.i18n import N_
from tickets.jobs import enqueue_mails, pending_mail_ids
from tickets.models import Ticket
from tickets.service import DESCRIPTION_MAX, TITLE_MAX, find_by_source, open_ticket
from tickets.turns import event_key, quick_reply_payload, typed_text
from tickets.types import ticket_types

STATE = "ticket_wizard"
CANCEL_PAYLOAD = "ticket:cancel"
TYPE_PREFIX = "ticket:type:"
MAX_FILES = 20  # per ticket from the chat
CANCEL_WORDS = frozenset({"cancel", "cancelar", "cancela", "cancel ticket", "cancelar ticket"})
ASK_TITLE = N_("Let's open a ticket. What is it about? Send a short title (up to {max} characters), "
               "or type cancel to stop.")
ASK_DESCRIPTION = N_("Now describe what happened in one message (up to {max} characters).")
TOO_LONG = N_("That is {length} characters; please keep it to {max}.")
FILES = N_("Got it: {count} file(s) will go with your ticket.")
CREATED = N_("Ticket #{number} is open: “{title}”. Our team will answer you here. "
             "You can also follow it on the ticket screen.")
QUESTIONS = {"ask_type": N_("What type of question is it?"),
             "pick_type": N_("Please pick one of these types:")}


def start(turn: Turn, _flow: Flow | None = None) -> None:
    """The `create_ticket` action (bot.conversation sends the flow's own messages first)."""
    turn.set_state(**{STATE: {"step": "title"}}, greeted=True)
    turn.send(*replies.text_messages(say(turn.locale, ASK_TITLE, max=TITLE_MAX)))


def in_progress(turn: Turn) -> bool:
    return isinstance(turn.state.get(STATE), dict)


def step(turn: Turn) -> bool:
    """Take the customer's answer; False when they left the wizard for something else."""
    wizard: dict[str, Any] = dict(turn.state[STATE])
    payload = quick_reply_payload(turn)
    text = typed_text(turn) if payload is None else None
    files = keys_of(turn)
    if files:  # accepted at any step; they go with the ticket when it opens
        wizard["files"] = [*wizard.get("files", []), *files][-MAX_FILES:]
        turn.set_state(**{STATE: wizard})
        if text is None and payload is None:
            _took_files(turn, wizard, len(files))
            return True
    if turn.kind != "message" or (payload and not _ours(payload)) or _restarts(turn, text):
        turn.clear_state(STATE)
        return False
    if payload == CANCEL_PAYLOAD or (text is not None and normalize(text) in CANCEL_WORDS):
        turn.clear_state(STATE)
        cancelled = say(turn.locale, "OK, no ticket was opened.")
        turn.send(*replies.menu_messages(turn.flows, turn.locale, intro=cancelled))
    elif wizard["step"] == "title":
        _take_title(turn, wizard, text)
    elif wizard["step"] == "type":
        _take_type(turn, wizard, payload, text)
    else:
        _take_description(turn, wizard, text)
    return True


def _took_files(turn: Turn, wizard: dict[str, Any], count: int) -> None:
    """Say the files were taken, and ask the step's question again."""
    turn.send(*replies.text_messages(say(turn.locale, FILES, count=count)))
    if wizard["step"] == "title":
        turn.send(*replies.text_messages(say(turn.locale, ASK_TITLE, max=TITLE_MAX)))
    elif wizard["step"] == "type":
        _ask_type(turn, "ask_type")
    else:
        turn.send(*replies.text_messages(say(turn.locale, ASK_DESCRIPTION, max=DESCRIPTION_MAX)))


def _ours(payload: str) -> bool:
    return payload == CANCEL_PAYLOAD or payload.startswith(TYPE_PREFIX)


def _restarts(turn: Turn, text: str | None) -> bool:
    """Typed exactly a keyword of a Restart flow ("menu", "reiniciar")."""
    if text is None:
        return False
    typed = normalize(text)
    return any(typed == normalize(word) for flow in turn.flows.flows.values() if flow.action == "restart"
               for words in flow.keywords.values() for word in words)


def _answer(turn: Turn, text: str | None, limit: int) -> str | None:
    """The answer if it is usable, else None after saying what is wrong."""
    answer = (text or "").strip()
    if not answer:
        turn.send(*replies.text_messages(say(turn.locale, "Please type it in words.")))
    elif len(answer) > limit:
        turn.send(*replies.text_messages(say(turn.locale, TOO_LONG, length=len(answer), max=limit)))
    else:
        return answer
    return None


def _take_title(turn: Turn, wizard: dict[str, Any], text: str | None) -> None:
    title = _answer(turn, text, TITLE_MAX)
    if title is None:
        turn.send(*replies.text_messages(say(turn.locale, ASK_TITLE, max=TITLE_MAX)))
        return
    turn.set_state(**{STATE: {**wizard, "step": "type", "title": title}})
    _ask_type(turn, "ask_type")


def _ask_type(turn: Turn, question: str) -> None:
    options = [(turn.text(kind.title), TYPE_PREFIX + type_id)
               for type_id, kind in ticket_types(turn.flows).items()]
    options.append((say(turn.locale, "Cancel"), CANCEL_PAYLOAD))
    turn.send(*replies.text_messages(say(turn.locale, QUESTIONS[question]), options))


def _take_type(turn: Turn, wizard: dict[str, Any], payload: str | None, text: str | None) -> None:
    types = ticket_types(turn.flows)
    chosen = payload[len(TYPE_PREFIX):] if payload and payload.startswith(TYPE_PREFIX) else None
    if chosen is None and text:  # typed instead of tapped: match a title or the id
        typed = normalize(text)
        chosen = next((type_id for type_id, kind in types.items()
                       if typed in (normalize(type_id), *(normalize(x) for x in kind.title.values()))), None)
    if chosen not in types:
        _ask_type(turn, "pick_type")
        return
    turn.set_state(**{STATE: {**wizard, "step": "description", "type": chosen}})
    turn.send(*replies.text_messages(say(turn.locale, ASK_DESCRIPTION, max=DESCRIPTION_MAX)))


def _take_description(turn: Turn, wizard: dict[str, Any], text: str | None) -> None:
    description = _answer(turn, text, DESCRIPTION_MAX)
    if description is None:
        turn.send(*replies.text_messages(say(turn.locale, ASK_DESCRIPTION, max=DESCRIPTION_MAX)))
        return
    ticket = _open(turn, wizard, description)
    turn.clear_state(STATE)
    assert ticket.id is not None and turn.customer.id is not None
    settings = turn.settings
    url = links.login_url(settings.public_url, settings.secret_key, turn.customer.id,
                          next_path=f"/tickets/{ticket.id}")
    text = say(turn.locale, CREATED, number=ticket.id, title=ticket.title)
    button = {"type": "web_url", "title": say(turn.locale, "View ticket"), "url": url}
    message = replies.button_message(text, [button])
    message["quick_replies"] = [{"content_type": "text", "title": title, "payload": payload}
                                for title, payload in replies.menu_options(turn.flows, turn.locale)]
    turn.send(message)


def _open(turn: Turn, wizard: dict[str, Any], description: str) -> Ticket:
    """Open the ticket once: a re-run of this event finds the one it opened."""
    rt = runtime.current()
    key = event_key(turn)
    with session_scope(rt.engine) as session:
        ticket = find_by_source(session, key)
        if ticket is None:
            customer = session.get(Customer, turn.customer.id)
            assert customer is not None
            ticket, _ = open_ticket(
                session, customer=customer, ticket_type=ticket_types(turn.flows)[wizard["type"]],
                title=wizard["title"], description=description, source="messenger", locale=turn.locale,
                sender=rt.settings.support_email_from, source_key=key,
                page_id=turn.account.page.id if turn.account else None)
            link_to_ticket(session, keys=wizard.get("files", []), customer_id=customer.id,  # type: ignore[arg-type]
                           ticket_id=ticket.id)  # type: ignore[arg-type]
        pending = pending_mail_ids(session, ticket.id)  # type: ignore[arg-type]
    enqueue_mails(rt, pending)
    return ticket
