"""The Attachment Upload API (`POST /me/message_attachments`): a file's bytes as
a multipart form, answered with an `attachment_id` the Send API then sends.
One attempt per call: the caller's outbox retries what is retryable."""

from __future__ import annotations

import json
from collections.abc import Mapping

import requests

from messenger.errors import error_from_response
from messenger.graph_http import network_error

UPLOAD_PATH = "/me/message_attachments"
TIMEOUT = (3.05, 60.0)  # up to 25 MB go up in one request


def upload(session: requests.Session, graph_url: str, auth: Mapping[str, str], *, kind: str,
           data: bytes, filename: str, content_type: str, platform: str | None = None) -> str:
    """The `attachment_id` of an uploaded file; raises a GraphError. `platform="instagram"`:
    for an Instagram customer (the Page's token, Instagram's media rules)."""
    message = json.dumps({"attachment": {"type": kind, "payload": {"is_reusable": False}}})
    form = {"message": message, **({"platform": platform} if platform else {})}
    secrets = tuple(v for v in auth.values() if v)
    try:
        answer = session.post(f"{graph_url}{UPLOAD_PATH}", params=dict(auth), timeout=TIMEOUT,
                              data=form,
                              files={"filedata": (filename, data, content_type)})
    except requests.RequestException as exc:
        raise network_error(exc, secrets=secrets) from None
    try:
        body = answer.json()
    except ValueError:
        body = None
    attachment_id = body.get("attachment_id") if isinstance(body, dict) else None
    if answer.ok and isinstance(attachment_id, str | int):
        return str(attachment_id)
    raise error_from_response(answer.status_code, body, answer.headers, secrets=secrets)
