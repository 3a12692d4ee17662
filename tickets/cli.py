"""`flask tickets ...` (for the mail server's pipe and the operator) and
`flask users create-agent` (staff accounts of the ticket screen).

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
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import select
from werkzeug.security import generate_password_hash

from core.db import session_scope
from core.runtime import Runtime
from tickets import agents
from tickets.errors import UnparsableEmail
from tickets.ingest import ingest_email
from tickets.jobs import enqueue_mails, stuck_mail_ids
from tickets.models import Agent, OutboundMail, as_utc
from tickets.unmatched import unmatched_mail

EX_DATAERR, EX_NOUSER, EX_TEMPFAIL = 65, 67, 75
MIN_PASSWORD = 10

tickets_cli = AppGroup("tickets", help="Email Support tickets.")
users_cli = AppGroup("users", help="Staff accounts of the ticket screen.")


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


@users_cli.command("create-agent")
@click.argument("email")
@click.option("--name", required=True, help="Shown on the ticket screen and on replies.")
@click.option("--admin", is_flag=True, help="An admin rather than an agent.")
@click.password_option(help="Prompted for when not given (at least 10 characters).")
def create_agent(email: str, name: str, admin: bool, password: str) -> None:
    """Create a staff account that signs in to the ticket screen with a password."""
    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter("expected an email address", param_hint="EMAIL")
    if len(password) < MIN_PASSWORD:
        raise click.BadParameter(f"use at least {MIN_PASSWORD} characters", param_hint="--password")
    agent = Agent(email=email, name=name.strip(), password_hash=generate_password_hash(password),
                  role="admin" if admin else "agent")
    try:
        with session_scope(_runtime().engine) as session:
            session.add(agent)
    except IntegrityError:
        raise click.ClickException(f"{email} already has an account") from None
    click.echo(f"{agent.role} {email} created")


@users_cli.command("list")
def list_agents() -> None:
    """Every staff account: email, role, active or not, name."""
    with session_scope(_runtime().engine) as session:
        accounts = session.exec(select(Agent).order_by(Agent.email)).all()
        if not accounts:
            click.echo("no staff accounts; create one with `users create-agent`")
        for agent in accounts:
            state = "active" if agent.active else "deactivated"
            click.echo(f"{agent.email}\t{agent.role}\t{state}\t{agent.name}")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_agent(email: str) -> None:
    """Stop an account signing in, and end its sessions everywhere."""
    with session_scope(_runtime().engine) as session:
        try:
            agents.deactivate(session, email)
        except agents.NoSuchAgent:
            raise click.ClickException(f"no account for {email.strip().lower()}") from None
    click.echo(f"{email.strip().lower()} deactivated; its sessions ended")


@users_cli.command("set-password")
@click.argument("email")
@click.password_option(help="Prompted for when not given (at least 10 characters).")
def set_password(email: str, password: str) -> None:
    """Give an account a new password, and end its sessions everywhere."""
    if len(password) < MIN_PASSWORD:
        raise click.BadParameter(f"use at least {MIN_PASSWORD} characters", param_hint="--password")
    with session_scope(_runtime().engine) as session:
        try:
            agents.set_password(session, email, password)
        except agents.NoSuchAgent:
            raise click.ClickException(f"no account for {email.strip().lower()}") from None
    click.echo(f"{email.strip().lower()}: new password set; its sessions ended")
