"""The local Messenger preview: the page, and one status endpoint it polls.

Registered by local mode only. The page itself drives the stand-in's `/_graph/_standin/`
endpoints (a customer speaks, an agent answers, the Inbox marks a thread done), which
deliver real signed webhooks to `/webhook`; this endpoint adds what only the server knows:
the flows file's problems, the page's Messenger profile and the threads in the Page Inbox.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, url_for

from messenger.profile import meta_locales
from messenger.standin.errors import StandinError, WebhookDeliveryError
from messenger.standin.page import Page
from preview.demo import DemoAccount, control_prefix
from preview.local import GRAPH_PREFIX

bp = Blueprint("preview", __name__, template_folder="templates", static_folder="static",
               static_url_path="/preview/static")

REF = re.compile(r"[A-Za-z0-9_-]{1,64}")
# The stand-in customer's first name, by language, for a friendly greeting.
NAMES = {"en": "Ana", "es": "Lucía", "pt": "João", "fr": "Camille", "de": "Lena", "it": "Giulia"}


def _account() -> DemoAccount:
    """The demo account the page shows (`?account=<id>`), else the first Page."""
    accounts: list[DemoAccount] = current_app.extensions["preview_accounts"]
    chosen = request.args.get("account")
    return next((account for account in accounts if account.id == chosen), accounts[0])


@bp.get("/")
def home() -> Response:
    return redirect(url_for("preview.page"))  # type: ignore[return-value]


@bp.get("/preview")
def page() -> str:
    account, accounts = _account(), current_app.extensions["preview_accounts"]
    standin = account.standin
    config = {"graph": GRAPH_PREFIX, "control": control_prefix(GRAPH_PREFIX, account, account is accounts[0]),
              "status": url_for("preview.status", account=account.id), "page_id": account.id,
              "app_id": standin.app_id, "inbox_app_id": account.inbox_app_id,
              "channel": account.channel, "page_name": account.page_name,
              "open_link": url_for("preview.open_link", account=account.id), "ref": _ref()}
    choices = [{"id": a.id, "label": a.label, "url": url_for("preview.page", account=a.id)}
               for a in accounts]
    return render_template("preview/index.html", config=config, account=account, choices=choices)


@bp.get("/preview/api/status")
def status() -> Response:
    rt = current_app.extensions["runtime"]
    flows = rt.flows.current  # also notices a changed file
    problems = [str(problem) for problem in rt.flows.last_problems]
    problems += current_app.extensions["preview_profile"].refresh()
    account = _account()
    platform = "instagram" if account.channel == "instagram" else None
    return jsonify(
        page_id=account.id, flows_source=flows.source, problems=problems,
        default_locale=flows.default_locale,
        locales=[_locale(code) for code in flows.locales],
        profile=account.standin.graph(lambda page, now: copy.deepcopy(page.messenger_profile),
                                      platform=platform),
        inbox=account.standin.graph(lambda page, now: _inbox(page), platform=platform))


def _ref() -> str | None:
    """The `ref` of the chat link that opened the preview (Messenger's own limits)."""
    ref = request.args.get("ref", "")
    return ref if REF.fullmatch(ref) else None


@bp.post("/preview/api/open_link")
def open_link() -> Response | tuple[Response, int]:
    """The customer opens the shown account's chat link with a ref (the web's Chat Support)."""
    body = request.get_json(silent=True) or {}
    psid, ref = body.get("psid"), body.get("ref")
    if not isinstance(psid, str) or not isinstance(ref, str) or not REF.fullmatch(ref):
        return jsonify(error="send psid and a ref of letters, digits, - or _"), 400
    try:
        event = _account().standin.customer_opens_link(psid, ref)
    except StandinError as error:
        return jsonify(error=str(error)), 409
    except WebhookDeliveryError as error:
        return jsonify(error=str(error)), 502
    return jsonify(event=event)


def _locale(code: str) -> dict[str, str]:
    meta = (meta_locales(code) or (code,))[0]
    return {"code": code, "meta": meta, "name": NAMES.get(code.split("_")[0], "Alex")}


def _inbox(page: Page) -> list[dict[str, Any]]:
    """Threads the Page Inbox owns, most recently handed over first."""
    threads = [t for t in page.threads.values() if t.owner == page.inbox_app_id]
    threads.sort(key=lambda t: t.active_at, reverse=True)
    return [{"psid": t.psid, "name": _name(t.profile), "locale": t.profile.get("locale", ""),
             "since": int(t.active_at * 1000), "summary": _summary(t.control_calls)}
            for t in threads]


def _name(profile: dict[str, Any]) -> str:
    """A Messenger profile's first and last name; an Instagram one's name and @username."""
    if "username" in profile:
        return f"{profile['name']} (@{profile['username']})"
    return f"{profile['first_name']} {profile['last_name']}"


def _summary(control_calls: list[dict[str, Any]]) -> str | None:
    """The metadata our app sent with its latest pass to the Inbox (the agent's summary)."""
    passes = [call for call in control_calls if call.get("action") == "pass"]
    if not passes:
        return None
    return str(passes[-1].get("metadata") or "") or None
