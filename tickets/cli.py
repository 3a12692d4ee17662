"""`flask tickets ...`: for the mail server's pipe and the operator.

`ingest-email` exits with sysexits codes a mail server understands: 0 taken
(or an automatic reply, kept), 65 unreadable mail, 67 kept as unmatched: it
proves no ticket (the sender gets a bounce), 75 try later.
"""

from __future__ import annotations

import sys
from typing import BinaryIO

import click
from flask import current_app
from flask.cli import AppGroup
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from core.db import session_scope
from core.runtime import Runtime
from tickets.errors import UnparsableEmail
from tickets.ingest import ingest_email
from tickets.jobs import enqueue_mails, stuck_mail_ids
from tickets.models import OutboundMail, as_utc
from tickets.unmatched import unmatched_mail

EX_DATAERR, EX_NOUSER, EX_TEMPFAIL = 65, 67, 75

tickets_cli = AppGroup("tickets", help="Email Support tickets.")


def _runtime() -> Runtime:
    return current_app.extensions["runtime"]


@tickets_cli.command("ingest-email")
@click.argument("file", type=click.File("rb"))
def ingest_email_command(file: BinaryIO) -> None:
    """Attach one RFC 5322 message (a file, or - for stdin) to its ticket."""
    try:
        outcome = ingest_email(_runtime(), file.read())
    except UnparsableEmail as exc:
        click.echo(f"refused: {exc}", err=True)
        sys.exit(EX_DATAERR)
    except (RedisError, OperationalError) as exc:
        click.echo(f"temporarily unavailable ({type(exc).__name__}); retry later", err=True)
        sys.exit(EX_TEMPFAIL)
    click.echo(f"{outcome.status}: ticket {outcome.ticket_id or '-'}, reply {outcome.reply_id or '-'}")
    if outcome.status == "unmatched":
        sys.exit(EX_NOUSER)


@tickets_cli.command("unmatched")
@click.option("--limit", default=50, show_default=True, help="How many, newest first.")
def unmatched(limit: int) -> None:
    """Inbound mail kept because it proves no ticket: never passed to a customer."""
    with session_scope(_runtime().engine) as session:
        kept_mail = unmatched_mail(session, limit=limit)
        if not kept_mail:
            click.echo("no unmatched email")
        for kept in kept_mail:
            received = f"{as_utc(kept.received_at):%Y-%m-%d %H:%M} UTC"
            fields = (str(kept.id), received, kept.reason, kept.sender or "-", kept.subject or "-")
            click.echo("\t".join(_printable(field) for field in fields))


def _printable(text: str) -> str:
    """Mail headers are the sender's words: no terminal control characters."""
    return "".join(char if char.isprintable() else "?" for char in text)


@tickets_cli.command("send-pending")
def send_pending() -> None:
    """Queue again every notification email not sent yet (after a Redis loss, say),
    and those stuck in `sending` past their lease (a worker died mid-send)."""
    rt = _runtime()
    with session_scope(rt.engine) as session:
        ids = list(session.exec(select(OutboundMail.id).where(
            OutboundMail.status.in_(("pending", "retrying", "failed")))).all())  # type: ignore[attr-defined]
        stuck = stuck_mail_ids(session)
    enqueue_mails(rt, [*ids, *stuck])
    click.echo(f"{len(ids) + len(stuck)} emails queued ({len(stuck)} stuck in sending)")
