"""Messenger Profile API bodies checked the way Facebook checks them (doc §7)."""

from __future__ import annotations

from typing import Any

from messenger.standin.errors import GraphError, bad_param
from messenger.standin.validate import MAX_PAYLOAD, check_text, check_url

PROPERTIES = ("get_started", "greeting", "persistent_menu", "ice_breakers",
              "whitelisted_domains", "account_linking_url", "commands")
MAX_GREETING = 160
MAX_MENU_ITEMS = 20
MAX_MENU_TITLE = 30
MAX_ICE_BREAKERS = 4
MAX_QUESTION = 1000  # the doc names no limit; only absurd questions are refused


def profile_body(body: Any, current: dict[str, Any]) -> GraphError | None:
    """The first problem Facebook would report for a `POST /me/messenger_profile` body."""
    if not isinstance(body, dict) or not body:
        return bad_param("Set at least one Messenger Profile property")
    for key in body:
        if key not in PROPERTIES:
            return bad_param(f"Param {key} is not a Messenger Profile property: "
                             f"use one of {{{', '.join(PROPERTIES)}}}")
    if "persistent_menu" in body and "get_started" not in body and "get_started" not in current:
        return bad_param("A get_started button must be set before a persistent_menu")
    return (
        _get_started(body.get("get_started"))
        or _per_locale(body, "greeting", _greeting)
        or _per_locale(body, "persistent_menu", _menu)
        or _ice_breakers(body.get("ice_breakers"))
    )


def delete_fields(fields: Any) -> GraphError | None:
    """`DELETE /me/messenger_profile` needs a non-empty list of known property names."""
    if not isinstance(fields, list) or not fields:
        return bad_param("The parameter fields is required")
    unknown = [field for field in fields if field not in PROPERTIES]
    if unknown:
        return bad_param(f"Param fields[{fields.index(unknown[0])}] must be one of "
                         f"{{{', '.join(PROPERTIES)}}}")
    return None


def _get_started(value: Any) -> GraphError | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        return bad_param("The parameter get_started.payload is required")
    return check_text(value.get("payload"), "get_started.payload", MAX_PAYLOAD)


def _per_locale(body: dict[str, Any], key: str, check: Any) -> GraphError | None:
    """A list of `{"locale": ..., ...}` objects that includes the `default` locale."""
    if key not in body:
        return None
    items = body[key]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        return bad_param(f"Param {key} must be a list of objects")
    if not any(item.get("locale") == "default" for item in items):
        return bad_param(f"Param {key} must include an entry with locale default")
    for i, item in enumerate(items):
        error = check(item, f"{key}[{i}]")
        if error:
            return error
    return None


def _greeting(item: dict[str, Any], where: str) -> GraphError | None:
    return check_text(item.get("text"), f"{where}.text", MAX_GREETING)


def _menu(item: dict[str, Any], where: str) -> GraphError | None:
    actions = item.get("call_to_actions")
    if actions is None and item.get("composer_input_disabled") is not True:
        return bad_param(f"The parameter {where}.call_to_actions is required")
    if actions is None:
        return None
    if not isinstance(actions, list) or len(actions) > MAX_MENU_ITEMS:
        return bad_param(f"{where}.call_to_actions must hold at most {MAX_MENU_ITEMS} items")
    for i, action in enumerate(actions):
        error = _menu_item(action, f"{where}.call_to_actions[{i}]")
        if error:
            return error
    return None


def _menu_item(action: Any, where: str) -> GraphError | None:
    if not isinstance(action, dict) or action.get("type") not in ("postback", "web_url"):
        return bad_param(f"Param {where}.type must be one of {{postback, web_url}}")
    error = check_text(action.get("title"), f"{where}.title", MAX_MENU_TITLE)
    if error or action["type"] == "web_url":
        return error or check_url(action, where)
    return check_text(action.get("payload"), f"{where}.payload", MAX_PAYLOAD)


def _ice_breakers(value: Any) -> GraphError | None:
    if value is None:
        return None
    if isinstance(value, list) and value and all("locale" not in item for item in value
                                                 if isinstance(item, dict)):
        return _questions(value, "ice_breakers")  # the older flat format
    return _per_locale({"ice_breakers": value}, "ice_breakers", _ice_breaker_locale)


def _ice_breaker_locale(item: dict[str, Any], where: str) -> GraphError | None:
    return _questions(item.get("call_to_actions"), f"{where}.call_to_actions")


def _questions(items: Any, where: str) -> GraphError | None:
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ICE_BREAKERS:
        return bad_param(f"{where} must hold 1 to {MAX_ICE_BREAKERS} questions")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            return bad_param(f"{where}[{i}] must be an object")
        error = (check_text(item.get("question"), f"{where}[{i}].question", MAX_QUESTION)
                 or check_text(item.get("payload"), f"{where}[{i}].payload", MAX_PAYLOAD))
        if error:
            return error
    return None
