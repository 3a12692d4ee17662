"""A Graph call's parameters as Facebook reads them: a JSON body, or query and form fields
whose values may themselves be JSON."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from messenger.standin.errors import bad_param, unknown_object

_CREDENTIALS = ("access_token", "appsecret_proof")


def token_of(param: str | None, authorization: str) -> str | None:
    """The call's access token: the `access_token` parameter, else a Bearer header."""
    if param is None and authorization.startswith("Bearer "):
        return authorization.removeprefix("Bearer ")
    return param


def check_page_node(node: str, page_id: str, method: str) -> None:
    """A Page edge (`/<node>/messages`...) is reached as `me` or by the token's Page id."""
    if node not in ("me", page_id):
        raise unknown_object(node, method)


def recipient_of(body: Any) -> str | None:
    recipient = body.get("recipient") if isinstance(body, dict) else None
    return str(recipient.get("id")) if isinstance(recipient, dict) else None


def call_body() -> Any:
    """The call's parameters: a JSON body, or form fields whose values may be JSON."""
    if request.is_json:
        body = request.get_json(silent=True)
        if body is None:
            raise bad_param("The request body is not valid JSON")
        return body
    params = {**request.args.to_dict(), **request.form.to_dict()}
    return {key: _maybe_json(value) for key, value in params.items() if key not in _CREDENTIALS}


def _maybe_json(value: str) -> Any:
    if not value.startswith(("{", "[")):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def list_param(name: str) -> list[str]:
    """A list parameter from the query, form or JSON body: `a,b`, `["a","b"]` or a list."""
    value: Any = request.args.get(name) or request.form.get(name)
    if value is None and request.is_json:
        body = request.get_json(silent=True)
        value = body.get(name) if isinstance(body, dict) else None
    if isinstance(value, str):
        value = _maybe_json(value)
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return []
    return value
