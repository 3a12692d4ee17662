"""Instagram's ice breakers, built from the flows file: Instagram has no Get Started or
greeting, so the first questions a customer can tap are the menu's keywords (doc §7).

Set with `POST /me/messenger_profile?platform=instagram` and the linked Page's token:
at most 4 questions per locale, a `default` locale required; a tap arrives as a postback
with the question's payload (the flow's, so it starts that flow like the menu would).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.flows.loader import FlowsError, load_flows
from bot.flows.schema import Flows
from bot.replies import flow_payload
from messenger.graph import GraphClient
from messenger.profile import KNOWN_META_LOCALES, PAYLOAD_MAX, ProfileError, locale_pairs

PLATFORM = "instagram"
QUESTIONS_MAX = 4
FIELDS = ("ice_breakers",)
# What Instagram has no use for, or refuses, on its profile (Instagram Messaging docs).
NOT_ON_INSTAGRAM = ("get_started", "greeting", "persistent_menu")

Json = dict[str, Any]


def build_ice_breakers(flows: Flows) -> Json:
    """The `POST /me/messenger_profile?platform=instagram` body: the menu's first 4 flows."""
    chosen = flows.menu.items[:QUESTIONS_MAX]
    return {"platform": PLATFORM, "ice_breakers": [
        {"locale": meta, "call_to_actions": [
            {"question": flows.title(flow_id, locale), "payload": flow_payload(flow_id)}
            for flow_id in chosen]}
        for meta, locale in locale_pairs(flows)]}


def check_ice_breakers(body: Json) -> list[str]:
    """Every problem Instagram would refuse this body for (empty: good to send)."""
    return list(_problems(body))


def _problems(body: Json) -> Iterator[str]:
    for field in NOT_ON_INSTAGRAM:
        if field in body:
            yield f"{field}: Instagram has none; its ice breakers start the conversation"
    entries = body.get("ice_breakers") or []
    codes = [entry.get("locale") for entry in entries]
    if "default" not in codes:
        yield "ice_breakers: an entry with locale default is required"
    for entry in entries:
        where, actions = f"ice_breakers[{entry.get('locale')}]", entry.get("call_to_actions") or []
        if entry.get("locale") not in ("default", *KNOWN_META_LOCALES):
            yield f"{where}: not a locale Instagram knows"
        if not 0 < len(actions) <= QUESTIONS_MAX:
            yield f"{where}: {len(actions)} questions; Instagram allows 1 to {QUESTIONS_MAX}"
        for action in actions:
            question, payload = action.get("question") or "", action.get("payload") or ""
            if not question.strip():
                yield f"{where}: a question is empty"
            if not 0 < len(payload) <= PAYLOAD_MAX:
                yield f"{where}: payload of {question!r} must have 1 to {PAYLOAD_MAX} characters"


def describe(body: Json) -> str:
    """One line saying what is set, for the CLI."""
    entries = body.get("ice_breakers") or []
    if not entries:
        return "no ice breakers"
    questions = ", ".join(action["question"] for action in entries[0]["call_to_actions"])
    return f"Instagram ice breakers in {len(entries)} locales ({questions})"


def set_ice_breakers(graph: GraphClient, flows: Flows) -> tuple[Json, bool]:
    """Set the linked Instagram account's ice breakers with its Page's client, unless it
    already has them: (body, sent). ProfileError (nothing sent) if Instagram would refuse."""
    body = build_ice_breakers(flows)
    problems = check_ice_breakers(body)
    if problems:
        raise ProfileError(problems)
    current = graph.get_messenger_profile(FIELDS, platform=PLATFORM).get("data") or [{}]
    if current[0].get("ice_breakers") == body["ice_breakers"]:
        return body, False
    graph.set_messenger_profile(body, platform=PLATFORM)
    return body, True


def status(graph: GraphClient, flows_path: str, account_id: str) -> tuple[bool, str]:
    """The `messenger status` line for a Page's Instagram account: are its ice breakers the
    flows'? Raises GraphError if Facebook cannot be asked."""
    try:
        wanted = build_ice_breakers(load_flows(flows_path))["ice_breakers"]
    except FlowsError:
        return False, f"instagram {account_id}: {flows_path} has problems"
    current = (graph.get_messenger_profile(FIELDS, platform=PLATFORM).get("data") or [{}])[0]
    if current.get("ice_breakers") == wanted:
        return True, f"instagram {account_id}: ice breakers as in the flows"
    what = "not set" if not current.get("ice_breakers") else "differ from the flows"
    return False, (f"instagram {account_id}: ice breakers {what}: "
                   "run `flask --app app messenger setup-profile`")
