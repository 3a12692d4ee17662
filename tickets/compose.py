"""Notification emails, rendered from `templates/tickets/email/<kind>.txt|html`
with the ticket's own data, threaded under the ticket's first email, with the
ticket's signed reply address (tickets.reply_address) as `Reply-To`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from attachments.mail import MailFile, attach
from core.dates import moment_text
from core.i18n import catalog_locale, say, translations
from tickets.models import OutboundMail, Ticket, TicketReply, as_utc, utcnow

TEMPLATES = Path(__file__).resolve().parent / "templates"
SUBJECTS = {  # `[#id]` stays as is in every language: replies are matched by it
    "new_ticket": "[#{id}] {title}",
    "customer_message": "Re: [#{id}] {title}",
    "resolved": "Re: [#{id}] {resolved}: {title}",
}


@cache
def _environment(locale: str) -> Environment:
    """One environment per catalog, its `_()` bound to that catalog (jobs run outside Flask)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html"]), keep_trailing_newline=True,
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    return env


def ticket_url(public_url: str, ticket_id: int | None) -> str:
    return f"{public_url.rstrip('/')}/tickets/{ticket_id}"


def compose(mail: OutboundMail, ticket: Ticket, *, reply: TicketReply | None, type_title: str,
            sender: str, reply_to: str, thread_root: str | None, public_url: str,
            files: Sequence[MailFile] = (), zone: ZoneInfo | None = None) -> EmailMessage:
    """The email, in the ticket's language with times in `zone` (the business hours' one);
    `files` (a new ticket's) are listed, and attached where they carry bytes."""
    locale = catalog_locale(ticket.locale)
    context = {"ticket": ticket, "reply": reply, "type_title": type_title,
               "ticket_url": ticket_url(public_url, ticket.id), "files": files,
               "when": lambda moment: moment_text(moment, ticket.locale, zone)}
    env = _environment(locale)
    message = EmailMessage()
    message["Subject"] = SUBJECTS[mail.kind].format(id=ticket.id, title=ticket.title,
                                                    resolved=say(locale, "Resolved"))
    message["From"] = sender
    message["To"] = mail.to_addr
    message["Reply-To"] = reply_to
    message["Date"] = format_datetime(_now())
    message["Message-ID"] = mail.message_id
    if thread_root and thread_root != mail.message_id:
        message["In-Reply-To"] = thread_root
        message["References"] = thread_root
    # RFC 3834: ours is automatic mail; auto-responders should not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(env.get_template(f"tickets/email/{mail.kind}.txt").render(context))
    message.add_alternative(env.get_template(f"tickets/email/{mail.kind}.html").render(context),
                            subtype="html")
    attach(message, list(files))
    return message


def _now() -> datetime:
    return as_utc(utcnow())
