"""The stand-in's Send API fast path (`fast_send`) answers every JSON call exactly as the
Flask routes behind it do: two identical stand-ins, one called through the fast path,
one through Flask only, get the same calls and must give the same answers and records."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import Client

from messenger.standin import Standin, create_standin_app

TOKEN, OTHER, SECRET, APP = "token-1", "token-2", "secret", "2002"
PROOF = hmac.new(SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()


def _world() -> tuple[Standin, Standin, Flask]:
    first = Standin(page_id="1001", app_id=APP, app_secret=SECRET, access_token=TOKEN)
    second = Standin(page_id="1002", app_id=APP, app_secret=SECRET, access_token=OTHER)
    for standin, psid in ((first, "ana"), (second, "zoe")):
        standin.customer_says(psid, "hi")
    second.rate_limit_per_second = 1
    return first, second, create_standin_app(first, others=[second])


def _flask_only(app: Flask) -> Any:
    def wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        return Flask.wsgi_app(app, environ, start_response)  # the class's: no fast path
    return wsgi


def _text(psid: str, text: str = "hello") -> str:
    return json.dumps({"recipient": {"id": psid}, "messaging_type": "RESPONSE",
                       "message": {"text": text}})


CALLS: list[tuple[str, dict[str, str], str, dict[str, str]]] = [
    ("/v27.0/me/messages", {"access_token": TOKEN}, _text("ana"), {}),
    ("/v27.0/1001/messages", {"access_token": TOKEN, "appsecret_proof": PROOF}, _text("ana"), {}),
    ("/v27.0/me/messages", {}, _text("ana"), {"Authorization": f"Bearer {TOKEN}"}),
    ("/v27.0/me/messages", {"access_token": OTHER}, _text("zoe"), {}),
    ("/v27.0/me/messages", {"access_token": OTHER}, _text("zoe"), {}),  # over its 1/s
    ("/v27.0/me/messages", {"access_token": TOKEN}, _text("zoe"), {}),  # another Page's user
    ("/v27.0/me/messages", {"access_token": "stranger"}, _text("ana"), {}),
    ("/v27.0/me/messages", {}, _text("ana"), {}),
    ("/v27.0/me/messages", {"access_token": TOKEN, "appsecret_proof": "bad"}, _text("ana"), {}),
    ("/v27.0/1002/messages", {"access_token": TOKEN}, _text("ana"), {}),  # not the token's Page
    ("/v27.0/me/messages", {"access_token": TOKEN}, "{not json", {}),
    ("/v27.0/me/messages", {"access_token": TOKEN}, "null", {}),
    ("/v27.0/me/messages", {"access_token": TOKEN}, json.dumps({"recipient": {"id": "ana"}}), {}),
    ("/v27.0/me/messages", {"access_token": TOKEN},
     json.dumps({"recipient": {"id": "ana"}, "sender_action": "typing_on"}), {}),
]


def _normal(answer: Any) -> Any:
    """The answer without what is fresh on every call (message and trace ids)."""
    if isinstance(answer, dict):
        return {k: _normal(v) for k, v in answer.items() if k not in ("message_id", "fbtrace_id")}
    return answer


@pytest.mark.parametrize("revoked", [False, True])
def test_the_fast_path_answers_as_flask_does(revoked: bool) -> None:
    fast_first, fast_second, fast_app = _world()
    slow_first, slow_second, slow_app = _world()
    fast, slow = Client(fast_app), Client(_flask_only(slow_app))
    through_flask: list[str] = []
    fast_app.before_request(lambda: through_flask.append("fast"))
    slow_app.before_request(lambda: through_flask.append("slow"))
    fast_first.revoke_token(revoked)
    slow_first.revoke_token(revoked)
    for path, query, body, headers in CALLS:
        answers = [client.post(path, query_string=query, data=body, headers=headers,
                               content_type="application/json") for client in (fast, slow)]
        got, want = answers
        assert got.status == want.status, (path, query, body)
        assert _normal(got.get_json()) == _normal(want.get_json()), (path, query, body)
        assert got.headers.get("Content-Type") == want.headers.get("Content-Type")
        assert (got.headers.get("X-Business-Use-Case-Usage")
                == want.headers.get("X-Business-Use-Case-Usage")), (path, query, body)
    assert through_flask == ["slow"] * len(CALLS)  # the fast path took every call
    for fast_page, slow_page in ((fast_first, slow_first), (fast_second, slow_second)):
        assert fast_page.calls == slow_page.calls
        assert fast_page.send_seconds()["calls"] == slow_page.send_seconds()["calls"]
        for psid in ("ana", "zoe"):
            assert fast_page.sent(psid) == slow_page.sent(psid)
            assert fast_page.sender_actions(psid) == slow_page.sender_actions(psid)


def test_other_calls_go_to_flask() -> None:
    first, _second, app = _world()
    client = Client(app)
    form = client.post("/v27.0/me/messages", data={"access_token": TOKEN, "recipient": '{"id":"ana"}',
                                                   "messaging_type": "RESPONSE",
                                                   "message": '{"text":"by form"}'})
    assert form.status_code == 200
    assert [body["message"]["text"] for body in first.sent("ana")] == ["by form"]
    assert client.get("/v27.0/me/messages", query_string={"access_token": TOKEN}).status_code == 400
