"""`flask users ...`: staff accounts of the ticket screen.

With a pages file, an agent may be bound to some of its Pages (`--page`, `set-pages`):
they then see only those Pages' tickets and chat ratings (tickets.scope), as an agency's
client team should. Agents bound to no Page, and admins, see every Page's.
"""

from __future__ import annotations

from collections.abc import Sequence

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from werkzeug.security import generate_password_hash

from config.pages import PagesDirectory
from core.db import session_scope
from core.runtime import Runtime
from tickets import agents
from tickets.models import Agent

MIN_PASSWORD = 10

users_cli = AppGroup("users", help="Staff accounts of the ticket screen.")
page_option = click.option(
    "--page", "pages", multiple=True, metavar="PAGE_ID",
    help="A Page of the pages file whose tickets the agent sees (repeat for several; "
         "its Instagram account comes with it). Without it: every Page's.")


def _runtime() -> Runtime:
    return current_app.extensions["runtime"]


def checked_pages(directory: PagesDirectory, page_ids: Sequence[str]) -> list[str]:
    """`page_ids` without repeats, each a Page the pages file lists; else BadParameter."""
    if directory.single:
        raise click.BadParameter("one Page is served (no pages file): every agent sees its "
                                 "tickets", param_hint="--page")
    chosen: list[str] = []
    for page_id in (raw.strip() for raw in page_ids):
        if directory.page(page_id) is None:
            raise click.BadParameter(_not_a_page(directory, page_id), param_hint="--page")
        if page_id not in chosen:
            chosen.append(page_id)
    return chosen


def _not_a_page(directory: PagesDirectory, page_id: str) -> str:
    account = directory.find(page_id)
    if account is not None:  # an Instagram account id
        return (f"{page_id} is the Instagram account of Page {account.page.id} "
                f"({account.page.name}): give the Page's id")
    known = ", ".join(f"{page.id} ({page.name})" for page in directory.pages)
    return f"{page_id} is not a Page of {directory.source}; its Pages: {known}"


def _password_ok(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise click.BadParameter(f"use at least {MIN_PASSWORD} characters", param_hint="--password")


def _pages_text(agent: Agent) -> str:
    pages = agents.bound_pages(agent)
    if pages is None:
        return "every Page"
    return ("Pages " + ", ".join(pages)) if pages else "no Page"


@users_cli.command("create-agent")
@click.argument("email")
@click.option("--name", required=True, help="Shown on the ticket screen and on replies.")
@click.option("--admin", is_flag=True, help="An admin rather than an agent (sees every Page).")
@page_option
@click.password_option(help="Prompted for when not given (at least 10 characters).")
def create_agent(email: str, name: str, admin: bool, pages: tuple[str, ...], password: str) -> None:
    """Create a staff account that signs in to the ticket screen with a password."""
    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter("expected an email address", param_hint="EMAIL")
    _password_ok(password)
    if admin and pages:
        raise click.BadParameter("an admin sees every Page; leave out --admin or --page",
                                 param_hint="--page")
    bound = checked_pages(_runtime().pages, pages) if pages else None
    agent = Agent(email=email, name=name.strip(), password_hash=generate_password_hash(password),
                  role="admin" if admin else "agent", pages=bound)
    try:
        with session_scope(_runtime().engine) as session:
            session.add(agent)
    except IntegrityError:
        raise click.ClickException(f"{email} already has an account") from None
    click.echo(f"{agent.role} {email} created; sees {_pages_text(agent)}")


@users_cli.command("set-pages")
@click.argument("email")
@page_option
@click.option("--all", "every", is_flag=True, help="Every Page's tickets (no Page bound).")
def set_pages(email: str, pages: tuple[str, ...], every: bool) -> None:
    """Choose the Pages whose tickets an agent sees; applies at the agent's next click."""
    if every == bool(pages):
        raise click.UsageError("give --page (one or more) or --all")
    bound = None if every else checked_pages(_runtime().pages, pages)
    with session_scope(_runtime().engine) as session:
        try:
            agent = agents.find(session, email)
        except agents.NoSuchAgent:
            raise click.ClickException(f"no account for {email.strip().lower()}") from None
        if agent.role == "admin" and bound is not None:
            raise click.ClickException(f"{agent.email} is an admin: admins see every Page")
        agent.pages = bound
        session.add(agent)
        click.echo(f"{agent.email} sees {_pages_text(agent)}")


@users_cli.command("list")
def list_agents() -> None:
    """Every staff account: email, role, active or not, name, the Pages it sees."""
    with session_scope(_runtime().engine) as session:
        accounts = session.exec(select(Agent).order_by(Agent.email)).all()
        if not accounts:
            click.echo("no staff accounts; create one with `users create-agent`")
        for agent in accounts:
            state = "active" if agent.active else "deactivated"
            click.echo(f"{agent.email}\t{agent.role}\t{state}\t{agent.name}\t{_pages_text(agent)}")


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
    _password_ok(password)
    with session_scope(_runtime().engine) as session:
        try:
            agents.set_password(session, email, password)
        except agents.NoSuchAgent:
            raise click.ClickException(f"no account for {email.strip().lower()}") from None
    click.echo(f"{email.strip().lower()}: new password set; its sessions ended")
