"""The checks of `flask messenger status`, one `[ok]`/`[!!]` line each, for one Page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from bot.flows.loader import FlowsError, load_flows
from config.settings import Settings
from core.page_health import page_health
from messenger.errors import GraphError, RecipientUnavailable
from messenger.graph import GraphClient
from messenger.profile import FIELDS, build_profile, describe
from messenger.subscription import WEBHOOK_FIELDS, missing_fields

Check = tuple[bool, str]
Call = Callable[[str, Callable[[], Any]], Any]  # the CLI's: a refusal becomes SetupFailed


def current_profile(graph: GraphClient, call: Call) -> dict[str, Any]:
    """What the page has now (the Profile API allows 10 calls in 10 minutes: diff first)."""
    answer = call("reading the Messenger profile", lambda: graph.get_messenger_profile(FIELDS))
    data = answer.get("data") or [{}]
    return {key: value for key, value in data[0].items() if key in FIELDS}


def subscription(graph: GraphClient, page_id: str, settings: Settings, call: Call) -> Check:
    app_id = settings.messenger_app_id
    if not app_id:
        return False, "webhook: MESSENGER_APP_ID is not set, so this app cannot be found"
    apps = call("reading the subscriptions", lambda: graph.subscribed_apps(page_id))
    missing = missing_fields(apps, app_id)
    if missing is None:
        return False, f"webhook: app {app_id} is not subscribed: run `flask --app app messenger subscribe`"
    if missing:
        return False, (f"webhook: app {app_id} misses {', '.join(missing)}: "
                       "run `flask --app app messenger subscribe`")
    return True, f"webhook: app {app_id} receives {', '.join(WEBHOOK_FIELDS)}"


def routing(page: dict[str, Any]) -> Check:
    features = page.get("messaging_feature_status") or {}
    shown = ", ".join(f"{key}={str(value).lower()}" for key, value in features.items())
    if features.get("msgr_multi_app"):
        return True, f"routing: Conversation Routing ({shown})"
    return False, (f"routing: not Conversation Routing ({shown or 'nothing reported'}); "
                   "handover to the Page Inbox may not work")


def take_control(graph: GraphClient, psid: str | None, settings: Settings) -> Check:
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
    owners = {settings.messenger_app_id: "this app", settings.page_inbox_app_id: "the Page Inbox",
              None: "nobody (idle: the default app answers next)"}
    if owner in owners:
        return True, f"take control: this app reads thread owners; {psid}'s thread: {owners[owner]}"
    return False, (f"take control: {psid}'s thread is held by app {owner}: another app competes "
                   "with this one and the Page Inbox")


def profile(graph: GraphClient, path: str, call: Call) -> Check:
    try:
        wanted = build_profile(load_flows(path))
    except FlowsError:
        return False, f"profile: {path} has problems: run `flask --app app flows check`"
    current = current_profile(graph, call)
    if current == wanted:
        return True, f"profile: as in {path}: {describe(current)}"
    missing = [name for name in wanted if name not in current]
    what = f"{', '.join(missing)} not set" if missing else f"differs from {path}"
    return False, f"profile: {what}: run `flask --app app messenger setup-profile`"


def sending(redis: Redis, page_id: str) -> Check:
    """What the workers last met: a Page-wide refusal pauses every reply (core.page_health)."""
    try:
        state = page_health(redis).report().get(page_id)
    except RedisError as exc:
        return False, f"sending: cannot read the workers' state from Redis ({type(exc).__name__})"
    if state is None or state.get("state") == "ok":
        return True, "sending: no Page-wide refusal recorded by the workers"
    return False, (f"sending: paused since {_when(state['since'])}: {state['state']} "
                   f"({state['detail']}); next try in {state['retry_in_s']} s")


def identity(page: dict[str, Any], expected: str) -> Check:
    """Is the token the listed Page's (a token pasted into the wrong variable is not)?"""
    if str(page.get("id")) == expected:
        return True, f"token: is Page {expected}'s"
    return False, f"token: is for Page {page.get('id')}, not {expected}: check its token_env"


def _when(epoch: object) -> str:
    return datetime.fromtimestamp(float(str(epoch)), UTC).strftime("%Y-%m-%d %H:%M UTC")
