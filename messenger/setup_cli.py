"""`flask messenger ...`: a page admin's set-up commands.

`setup-profile` sets Get Started, greeting and persistent menu from the flows file
(`--dry-run` prints the JSON instead), `subscribe` subscribes the app to the page's
webhook fields, `status` reports what Facebook has, so set-up mistakes show at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from redis.exceptions import RedisError

from bot.flows.loader import FlowsError, load_flows
from config.settings import Settings
from core.page_health import page_health
from messenger.errors import GraphError, RecipientUnavailable
from messenger.graph import GraphClient
from messenger.profile import FIELDS, build_profile, check_profile, describe
from messenger.subscription import WEBHOOK_FIELDS, missing_fields

messenger_cli = AppGroup("messenger", help="Set up the Facebook Page: profile, webhook, checks.")



class SetupFailed(click.ClickException):
    """A set-up step failed; shown as one line, exit code 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def _graph() -> GraphClient:
    if not _settings().messenger_page_access_token:
        raise SetupFailed("MESSENGER_PAGE_ACCESS_TOKEN is not set: it is the Page token these "
                          "calls need (try it without Facebook: python app.py)")
    return current_app.extensions["runtime"].graph


def _call(what: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except GraphError as exc:  # its text never holds the token
        raise SetupFailed(f"{what}: Facebook refused: {exc}") from None


@messenger_cli.command("setup-profile")
@click.option("--dry-run", is_flag=True, help="Print the JSON that would be sent; send nothing.")
def setup_profile(dry_run: bool) -> None:
    """Set Get Started, greeting and persistent menu (per locale) from the flows file."""
    path = _settings().flows_path
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
        return
    graph = _graph()
    if _current_profile(graph) == body:
        click.echo(f"Messenger profile already up to date: {describe(body)}")
        return
    _call("setting the Messenger profile", lambda: graph.set_messenger_profile(body))
    if "persistent_menu" not in body:
        _call("removing the persistent menu",
              lambda: graph.delete_messenger_profile(["persistent_menu"]))
    click.echo(f"Messenger profile set: {describe(body)}")


def _current_profile(graph: GraphClient) -> dict[str, Any]:
    """What the page has now (the Profile API allows 10 calls in 10 minutes: diff first)."""
    answer = _call("reading the Messenger profile", lambda: graph.get_messenger_profile(FIELDS))
    data = answer.get("data") or [{}]
    return {key: value for key, value in data[0].items() if key in FIELDS}


@messenger_cli.command("subscribe")
@click.option("--page-id", help="The Page's id (default: asked from Facebook with the Page token).")
def subscribe(page_id: str | None) -> None:
    """Subscribe this app to the page's webhook fields (Facebook drops it after 1 h of failures)."""
    graph = _graph()
    page_id = page_id or _page_id(graph)
    _call("subscribing", lambda: graph.subscribe_app(page_id, WEBHOOK_FIELDS))
    click.echo(f"Page {page_id}: this app now receives {', '.join(WEBHOOK_FIELDS)}")


def _page_id(graph: GraphClient) -> str:
    answer = _call("asking for the page id", graph.messaging_feature_status)
    return str(answer["id"])


@messenger_cli.command("status")
@click.option("--page-id", help="The Page's id (default: asked from Facebook with the Page token).")
@click.option("--psid", help="A conversation (e.g. your own) whose thread owner to check.")
def status(page_id: str | None, psid: str | None) -> None:
    """Report the webhook subscription, Conversation Routing mode, thread control and profile."""
    graph = _graph()
    page = _call("reading the page", graph.messaging_feature_status)
    page_id = page_id or str(page["id"])
    click.echo(f"Page {page_id}")
    checks = [_subscription(graph, page_id), _routing(page), _take_control(graph, psid),
              _profile(graph), _sending(page_id)]
    for ok, line in checks:
        click.echo(f"  [{'ok' if ok else '!!'}] {line}")
    problems = sum(1 for ok, _ in checks if not ok)
    if problems:
        raise SetupFailed(f"{problems} set-up problem(s); see the [!!] lines")


Check = tuple[bool, str]


def _subscription(graph: GraphClient, page_id: str) -> Check:
    app_id = _settings().messenger_app_id
    if not app_id:
        return False, "webhook: MESSENGER_APP_ID is not set, so this app cannot be found"
    apps = _call("reading the subscriptions", lambda: graph.subscribed_apps(page_id))
    missing = missing_fields(apps, app_id)
    if missing is None:
        return False, f"webhook: app {app_id} is not subscribed: run `flask --app app messenger subscribe`"
    if missing:
        return False, (f"webhook: app {app_id} misses {', '.join(missing)}: "
                       "run `flask --app app messenger subscribe`")
    return True, f"webhook: app {app_id} receives {', '.join(WEBHOOK_FIELDS)}"


def _routing(page: dict[str, Any]) -> Check:
    features = page.get("messaging_feature_status") or {}
    shown = ", ".join(f"{key}={str(value).lower()}" for key, value in features.items())
    if features.get("msgr_multi_app"):
        return True, f"routing: Conversation Routing ({shown})"
    return False, (f"routing: not Conversation Routing ({shown or 'nothing reported'}); "
                   "handover to the Page Inbox may not work")


def _take_control(graph: GraphClient, psid: str | None) -> Check:
    if psid is None:
        return True, ("take control: Facebook does not report this permission. In Page settings "
                      "make this app the default app (Conversation Routing) and allow it to "
                      "take control of conversations; --psid PSID checks a conversation")
    try:
        owner = graph.thread_owner(psid)
    except RecipientUnavailable as exc:
        return False, f"take control: no conversation {psid} on this Page to check ({exc.message})"
    except GraphError as exc:
        return False, (f"take control: this app may not read who owns {psid}'s thread "
                       f"({exc.message}); it must be the Page's default app")
    settings = _settings()
    owners = {settings.messenger_app_id: "this app", settings.page_inbox_app_id: "the Page Inbox",
              None: "nobody (idle: the default app answers next)"}
    if owner in owners:
        return True, f"take control: this app reads thread owners; {psid}'s thread: {owners[owner]}"
    return False, (f"take control: {psid}'s thread is held by app {owner}: another app competes "
                   "with this one and the Page Inbox")


def _profile(graph: GraphClient) -> Check:
    path = _settings().flows_path
    try:
        wanted = build_profile(load_flows(path))
    except FlowsError:
        return False, f"profile: {path} has problems: run `flask --app app flows check`"
    current = _current_profile(graph)
    if current == wanted:
        return True, f"profile: as in {path}: {describe(current)}"
    missing = [name for name in wanted if name not in current]
    what = f"{', '.join(missing)} not set" if missing else f"differs from {path}"
    return False, f"profile: {what}: run `flask --app app messenger setup-profile`"


def _sending(page_id: str) -> Check:
    """What the workers last met: a Page-wide refusal pauses every reply (core.page_health)."""
    try:
        state = page_health(current_app.extensions["runtime"].redis).report().get(page_id)
    except RedisError as exc:
        return False, f"sending: cannot read the workers' state from Redis ({type(exc).__name__})"
    if state is None or state.get("state") == "ok":
        return True, "sending: no Page-wide refusal recorded by the workers"
    return False, (f"sending: paused since {_when(state['since'])}: {state['state']} "
                   f"({state['detail']}); next try in {state['retry_in_s']} s")


def _when(epoch: object) -> str:
    return datetime.fromtimestamp(float(str(epoch)), UTC).strftime("%Y-%m-%d %H:%M UTC")
