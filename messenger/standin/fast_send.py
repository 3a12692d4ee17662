"""The Send API's JSON calls answered in front of Flask: the stand-in's hot path.

A benchmark's every event costs one `POST /vX/me/messages`, and Flask's request
machinery (context, routing, hooks) was most of the stand-in's CPU per call: CPU
taken from the service on the same machine. This WSGI layer answers exactly those
calls as the Flask routes do (`http._authenticate`, `http.send`, `http._record_call`,
`http._graph_error`): the same checks in the same order, the same body, status and
`X-Business-Use-Case-Usage` header, the call recorded on the token's Page. Anything
else (form-encoded calls, other routes, no Content-Length) goes to Flask.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import parse_qs

from werkzeug.http import HTTP_STATUS_CODES

from messenger.standin.errors import GraphError, bad_param
from messenger.standin.params import check_page_node, token_of
from messenger.standin.world import Standin

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
SEND_PATH = re.compile(r"/v\d+\.\d+/([\w.-]+)/messages", re.ASCII)
log = logging.getLogger(__name__)


def _is_json(content_type: str) -> bool:
    """Flask's `request.is_json`: application/json or application/*+json."""
    mimetype = content_type.split(";", 1)[0].strip().lower()
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json"))


def fast_send(flask_app: WSGIApp, standins: Sequence[Standin]) -> WSGIApp:
    """`flask_app` with JSON Send API calls answered before it."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, length = environ.get("PATH_INFO", ""), environ.get("CONTENT_LENGTH", "")
        match = SEND_PATH.fullmatch(path)
        if (environ.get("REQUEST_METHOD") != "POST" or match is None or not length.isdigit()
                or not _is_json(environ.get("CONTENT_TYPE", ""))):
            return flask_app(environ, start_response)
        data = environ["wsgi.input"].read(int(length))
        standin, status, answer, usage = _answer(environ, standins, match.group(1), data)
        standin.record_call("POST", path, status)
        body = (json.dumps(answer, separators=(",", ":")) + "\n").encode()  # as jsonify
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if usage:
            headers.append(("X-Business-Use-Case-Usage", standin.usage_header()))
        start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN').upper()}", headers)
        return [body]

    return app


def _answer(environ: dict[str, Any], standins: Sequence[Standin], node: str, data: bytes
            ) -> tuple[Standin, int, Any, bool]:
    """(the token's Page, status, JSON answer, whether the usage header goes with it)."""
    query = parse_qs(environ.get("QUERY_STRING", ""))
    token = token_of((query.get("access_token") or [None])[0], environ.get("HTTP_AUTHORIZATION", ""))
    standin = next((s for s in standins if token is not None and s.has_token(token)), standins[0])
    usage = False
    try:
        standin.check_credentials(token, (query.get("appsecret_proof") or [None])[0])
        check_page_node(node, standin.page_id, "POST")
        usage = True
        try:
            body = json.loads(data)
        except ValueError:
            body = None
        if body is None:
            raise bad_param("The request body is not valid JSON")
        return standin, 200, standin.send(body), usage
    except GraphError as error:
        return standin, error.status, error.body(), usage
    except Exception:  # Flask's answer to an unexpected error (`http._http_error`, 500)
        log.exception("Send API call failed")
        return standin, 500, GraphError(1, "An unknown error has occurred.", status=500).body(), usage
