"""`flask messenger ...`: a page admin's set-up commands, for every Page or `--page ID`.

`setup-profile` sets Get Started, greeting and persistent menu from the Page's flows file
(and, for a Page with a linked Instagram account, Instagram's ice breakers)
(`--dry-run` prints the JSON instead), `subscribe` subscribes the app to the page's
webhook fields, `status` reports what Facebook has, so set-up mistakes show at once.
With a pages file each Page is done with its own token and flows, under a `Page ID
(name):` heading; one Page's failure does not stop the others (exit 1 at the end).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from bot.flows.loader import FlowsError, load_flows
from bot.flows.schema import Flows
from config.pages import Page
from config.settings import Settings
from core.runtime import Runtime
from messenger import ice_breakers
from messenger import setup_checks as checks
from messenger.errors import GraphError
from messenger.graph import GraphClient
from messenger.profile import ProfileError, build_profile, check_profile, describe
from messenger.subscription import WEBHOOK_FIELDS

messenger_cli = AppGroup("messenger", help="Set up the Facebook Pages: profile, webhook, checks.")
PAGE_OPTION = click.option("--page", "page_option", metavar="ID",
                           help="Only this Page of the pages file (default: every Page).")


class SetupFailed(click.ClickException):
    """A set-up step failed; shown as one line, exit code 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def _rt() -> Runtime:
    return current_app.extensions["runtime"]


def _targets(page_option: str | None) -> list[Page]:
    pages = _rt().pages
    if pages.single:
        if page_option is not None:
            raise SetupFailed("--page needs a pages file (PAGES_PATH): one Page is served here")
        if not _settings().messenger_page_access_token:
            raise SetupFailed("MESSENGER_PAGE_ACCESS_TOKEN is not set: it is the Page token these "
                              "calls need (try it without Facebook: python app.py)")
        return [pages.pages[0]]
    if page_option is None:
        return list(pages.pages)
    page = pages.page(page_option)
    if page is None:
        raise SetupFailed(f"--page {page_option}: not a Page of {pages.source} "
                          "(`flask --app app pages list` shows them)")
    return [page]


def _graph(page: Page) -> GraphClient:
    rt = _rt()
    return rt.graph if rt.pages.single else rt.graph_for(page.id)


def _for_each(page_option: str | None, run: Callable[[Page], None], *, err: bool = False) -> None:
    """Run for each target Page; in single-Page mode, exactly as before (no heading)."""
    targets = _targets(page_option)
    if _rt().pages.single:
        run(targets[0])
        return
    failed = 0
    for page in targets:
        click.echo(f"Page {page.id} ({page.name}):", err=err)
        try:
            run(page)
        except SetupFailed as exc:
            exc.show()
            failed += 1
    if failed:
        raise SetupFailed(f"{failed} of {len(targets)} Page(s) failed; see above")


def _call(what: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except GraphError as exc:  # its text never holds the token
        raise SetupFailed(f"{what}: Facebook refused: {exc}") from None


@messenger_cli.command("setup-profile")
@click.option("--dry-run", is_flag=True, help="Print the JSON that would be sent; send nothing.")
@PAGE_OPTION
def setup_profile(dry_run: bool, page_option: str | None) -> None:
    """Set Get Started, greeting and persistent menu (per locale) from each Page's flows file."""
    _for_each(page_option, lambda page: _setup_profile(page, dry_run), err=dry_run)


def _setup_profile(page: Page, dry_run: bool) -> None:
    path = page.flows_path
    try:
        flows = load_flows(path)
    except FlowsError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise SetupFailed(f"{path} has problems; nothing was sent") from None
    body = build_profile(flows)
    problems = check_profile(body)
    for problem in problems:
        click.echo(f"{path}: {problem}", err=True)
    if problems:
        raise SetupFailed("the Messenger profile breaks Messenger's limits; nothing was sent")
    if dry_run:
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
    elif checks.current_profile(graph := _graph(page), _call) == body:
        click.echo(f"Messenger profile already up to date: {describe(body)}")
    else:
        _call("setting the Messenger profile", lambda: graph.set_messenger_profile(body))
        if "persistent_menu" not in body:
            _call("removing the persistent menu",
                  lambda: graph.delete_messenger_profile(["persistent_menu"]))
        click.echo(f"Messenger profile set: {describe(body)}")
    if page.instagram_id:  # Instagram: ice breakers only, never Get Started, greeting or menu
        _setup_ice_breakers(page, flows, dry_run)


def _setup_ice_breakers(page: Page, flows: Flows, dry_run: bool) -> None:
    body = ice_breakers.build_ice_breakers(flows)
    if dry_run:
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    try:
        _, sent = _call("setting Instagram's ice breakers",
                        lambda: ice_breakers.set_ice_breakers(_graph(page), flows))
    except ProfileError as error:
        for problem in error.problems:
            click.echo(f"{page.flows_path}: {problem}", err=True)
        raise SetupFailed("the ice breakers break Instagram's limits; nothing was sent") from None
    state = "set" if sent else "already up to date"
    click.echo(f"Instagram {page.instagram_id}: {ice_breakers.describe(body)} {state}")


@messenger_cli.command("subscribe")
@click.option("--page-id", help="The Page's id (default: asked from Facebook with the Page token).")
@PAGE_OPTION
def subscribe(page_id: str | None, page_option: str | None) -> None:
    """Subscribe this app to each Page's webhook fields (Facebook drops it after 1 h of failures)."""
    def run(page: Page) -> None:
        graph = _graph(page)
        target = page_id or (page.id if not _rt().pages.single else _page_id(graph))
        _call("subscribing", lambda: graph.subscribe_app(target, WEBHOOK_FIELDS))
        click.echo(f"Page {target}: this app now receives {', '.join(WEBHOOK_FIELDS)}")

    _for_each(page_option, run)


def _page_id(graph: GraphClient) -> str:
    answer = _call("asking for the page id", graph.messaging_feature_status)
    return str(answer["id"])


@messenger_cli.command("status")
@click.option("--page-id", help="The Page's id (default: asked from Facebook with the Page token).")
@click.option("--psid", help="A conversation (e.g. your own) whose thread owner to check.")
@PAGE_OPTION
def status(page_id: str | None, psid: str | None, page_option: str | None) -> None:
    """Report the webhook subscription, Conversation Routing mode, thread control and profile."""
    _for_each(page_option, lambda page: _status(page, page_id, psid))


def _status(page: Page, page_id: str | None, psid: str | None) -> None:
    graph, settings, single = _graph(page), _settings(), _rt().pages.single
    answer = _call("reading the page", graph.messaging_feature_status)
    page_id = page_id or (str(answer["id"]) if single else page.id)
    if single:
        click.echo(f"Page {page_id}")
    found = [] if single else [checks.identity(answer, page.id)]
    found += [checks.subscription(graph, page_id, settings, _call), checks.routing(answer),
              checks.take_control(graph, psid, settings),
              checks.profile(graph, page.flows_path, _call), checks.sending(_rt().redis, page_id)]
    if page.instagram_id:
        found.append(_call("reading Instagram's ice breakers", lambda: ice_breakers.status(
            graph, page.flows_path, str(page.instagram_id))))
    for ok, line in found:
        click.echo(f"  [{'ok' if ok else '!!'}] {line}")
    problems = sum(1 for ok, _ in found if not ok)
    if problems:
        raise SetupFailed(f"{problems} set-up problem(s); see the [!!] lines")
