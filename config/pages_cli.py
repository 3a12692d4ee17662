"""`flask pages list | check`: the Pages and Instagram accounts served, and whether each
Page's token works and is really that Page's. Tokens are never printed."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from config.pages import Page, PagesDirectory
from core.runtime import Runtime
from messenger.errors import GraphError, InvalidToken

pages_cli = AppGroup("pages", help="The Pages and Instagram accounts this deployment serves.")


def _rt() -> Runtime:
    return current_app.extensions["runtime"]


@pages_cli.command("list")
def list_pages() -> None:
    """One line per Page: id, name, token variable, flows file, Instagram account."""
    pages = _rt().pages
    click.echo(_source(pages))
    for page in pages.pages:
        instagram = page.instagram_id or "-"
        if page.instagram_id and page.instagram_username:
            instagram += f" (@{page.instagram_username})"
        name = f"{page.name} (@{page.username})" if page.username else page.name
        click.echo(f"{page.id}\t{name}\ttoken: ${page.token_env}\tflows: {page.flows_path}\t"
                   f"instagram: {instagram}")


def _source(pages: PagesDirectory) -> str:
    if pages.single:
        return "one Page (no pages file): any Page id, with MESSENGER_PAGE_ACCESS_TOKEN"
    accounts = sum(1 for page in pages.pages if page.instagram_id)
    return f"{pages.source}: {len(pages.pages)} Page(s), {accounts} Instagram account(s)"


@pages_cli.command("check")
def check_pages() -> None:
    """Ask Facebook which Page each token is (GET /me); exit 1 on any problem."""
    rt = _rt()
    problems = 0
    for page in rt.pages.pages:
        ok, line = _check(rt, page)
        click.echo(f"[{'ok' if ok else '!!'}] {page.id} {page.name}: {line}")
        problems += not ok
    if problems:
        raise click.ClickException(f"{problems} Page(s) with a problem; see the [!!] lines")


def _check(rt: Runtime, page: Page) -> tuple[bool, str]:
    if not page.token:
        return False, f"${page.token_env} is not set"
    graph = rt.graph if rt.pages.single else rt.graph_for(page.id)
    try:
        me = graph.whoami()
    except InvalidToken as exc:
        return False, f"token invalid (${page.token_env}: code {exc.code}: {exc.message})"
    except GraphError as exc:
        return False, f"could not check: {exc}"
    found, name = str(me.get("id")), me.get("name") or "?"
    if rt.pages.single:
        return True, f"the token is Page {found} ({name})"
    if found != page.id:
        return False, f"token is for Page {found} ({name}), not {page.id}: check ${page.token_env}"
    return True, f"token works ({name})"
