"""The worker's periodic look at the Page (every 5 minutes, one worker of the fleet):
does the token work, is this app still subscribed to the Page's webhook.

A token that fails (190) pauses the Page (`core.page_health`) before any
customer's reply meets it; a token that works again ends that pause at once.
Facebook unsubscribes an app whose webhook failed for an hour, silently: no
event arrives to tell, so only asking does. Problems are logged at ERROR once
and shown by `/healthz`, `/metrics` and `flask messenger status`.
"""

from __future__ import annotations

import logging

from config.pages import Page
from core.page_health import page_health
from core.runtime import Runtime
from messenger.errors import GraphError, InvalidToken
from messenger.graph import GraphClient
from messenger.subscription import missing_fields

log = logging.getLogger(__name__)

CHECK_EVERY_SECONDS = 300
WHILE_PAUSED_SECONDS = 60  # while the token is refused: notice a new token soon
_LOCK = "sd:page-check"
_PAGE_ID = "sd:page-check:page-id"  # the Page the token belongs to, once known
UNKNOWN_PAGE = "unknown"


def check_pages_if_due(rt: Runtime) -> bool:
    """Check the Pages if no worker did recently; True if this call checked."""
    single = rt.pages.single
    if single and not rt.settings.messenger_page_access_token:
        return False
    paused = any(s.state == "token_invalid" for s in page_health(rt.redis).states().values())
    every = WHILE_PAUSED_SECONDS if paused else CHECK_EVERY_SECONDS
    if not rt.redis.set(_LOCK, b"1", nx=True, ex=every):
        return False
    if single:
        check_page(rt)
    else:
        for page in rt.pages.pages:
            check_listed_page(rt, page)
    return True


def check_listed_page(rt: Runtime, page: Page) -> None:
    """A Page of the pages file: its own token must work and be that Page's."""
    health = page_health(rt.redis, first_pause_ms=rt.settings.page_pause_ms)
    try:
        found = str(rt.graph_for(page.id).whoami()["id"])
    except InvalidToken as exc:
        health.pause(page.id, "token_invalid", f"code {exc.code}: {exc.message}")
        return
    except (GraphError, KeyError) as exc:
        log.warning("page check: could not read Page %s (%s); next time", page.id, exc)
        return
    health.clear_state(page.id, "token_invalid", reason="the token works again")
    if found != page.id:
        health.notice(page.id, "token_mismatch", f"${page.token_env} is the token of Page {found}, "
                      f"not {page.id}: run `flask --app app pages check`")
        return
    health.notice(page.id, "token_mismatch", None)
    _check_subscription(rt, page.id, rt.graph_for(page.id))


def check_page(rt: Runtime) -> None:
    health = page_health(rt.redis, first_pause_ms=rt.settings.page_pause_ms)
    known = rt.redis.get(_PAGE_ID)
    try:
        page_id = str(rt.graph.messaging_feature_status()["id"])
    except InvalidToken as exc:
        page = known.decode() if known else UNKNOWN_PAGE
        health.pause(page, "token_invalid", f"code {exc.code}: {exc.message}")
        return
    except (GraphError, KeyError) as exc:
        log.warning("page check: could not read the Page (%s); next time", exc)
        return
    rt.redis.set(_PAGE_ID, page_id)
    health.notice(UNKNOWN_PAGE, "token_invalid", None)
    health.clear_state(page_id, "token_invalid", reason="the token works again")
    health.clear_state(UNKNOWN_PAGE, "token_invalid", reason="the token works again")
    _check_subscription(rt, page_id, rt.graph)


def _check_subscription(rt: Runtime, page_id: str, graph: GraphClient) -> None:
    app_id = rt.settings.messenger_app_id
    if not app_id:
        return
    try:
        missing = missing_fields(graph.subscribed_apps(page_id), app_id)
    except GraphError as exc:
        log.warning("page check: could not read the Page's subscriptions (%s); next time", exc)
        return
    health = page_health(rt.redis)
    if missing is None:
        health.notice(page_id, "unsubscribed", f"app {app_id} receives no webhooks from the Page "
                      "(Facebook unsubscribes an app after an hour of failed deliveries): run "
                      "`flask --app app messenger subscribe`")
    elif missing:
        health.notice(page_id, "unsubscribed", f"app {app_id} misses {', '.join(missing)}: run "
                      "`flask --app app messenger subscribe`")
    else:
        health.notice(page_id, "unsubscribed", None)
