"""Our Graph API client: pymessenger's `Bot`, hardened.

pymessenger posts with a bare `requests.post` (no timeout, no pooling, no
error handling), defaults to Graph v2.6 and never sends `messaging_type`.
Here every call goes through `_request` (one pooled session, timeouts, typed
`messenger.errors`, bounded retries), the version is ours, and Send API
bodies are checked before they leave.

What pymessenger still does for us (the product card asks for it; nothing of it
is on the network path):

- `auth_args`: the `access_token` and `appsecret_proof` (HMAC-SHA256 of the
  token keyed with the app secret) that every call carries, computed once;
- the template builders we do not override, `send_generic_message` and
  `send_button_message` (and its deprecated `_send_payload`): they build the
  body and hand it to our `send_raw`.

`tests/unit/test_library_canaries.py` fails if an upgrade changes the proof, or
adds a pymessenger method that would send without going through `send_raw`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import requests
from pymessenger.bot import Bot

from messenger.graph_http import SEND_PATH, GraphTransport
from messenger.graph_session import pooled_session
from messenger.graph_setup import Json, PageSetupCalls, csv_fields, node_path
from messenger.send_api import METADATA_LIMIT, SENDER_ACTIONS, check_send_body
from messenger.upload import upload

_VERSION = re.compile(r"v\d+\.\d+")


class GraphClient(PageSetupCalls, Bot):
    """Send API, handover, profile and setup calls; raises `messenger.errors.GraphError`s."""

    def __init__(
        self,
        *,
        access_token: str,
        app_secret: str | None = None,
        api_url: str = "https://graph.facebook.com",
        api_version: str = "v27.0",
        timeout: tuple[float, float] = (3.05, 10.0),
        pool_size: int = 32,
        max_attempts: int = 4,
        backoff: float = 0.25,
        max_backoff: float = 4.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        page: str = "",
    ) -> None:
        """`page`: the Page id the token belongs to, for the metrics ("" if unknown)."""
        if not access_token:
            raise ValueError("access_token is required")
        if not _VERSION.fullmatch(api_version):
            raise ValueError(f"api_version must look like 'v27.0', not {api_version!r}")
        # pymessenger prefixes the "v" itself; we then replace its URL with ours.
        super().__init__(access_token, app_secret=app_secret, api_version=api_version[1:])
        self.graph_url = f"{api_url.rstrip('/')}/{api_version}"
        self._http = GraphTransport(
            base_url=self.graph_url,
            auth_params=self.auth_args,  # pymessenger computes appsecret_proof once
            session=session or pooled_session(pool_size, self.graph_url),
            timeout=timeout,
            max_attempts=max_attempts,
            backoff=backoff,
            max_backoff=max_backoff,
            sleep=sleep,
            page=page,
        )

    def __repr__(self) -> str:
        return f"GraphClient({self.graph_url!r})"

    @property
    def session(self) -> requests.Session:
        return self._http.session

    @property
    def last_usage(self) -> float | None:
        """The highest usage percentage in the last response that reported one."""
        return self._http.last_usage

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> Json:
        return self._http.request(method, path, params=params, json=json)

    # Send API

    def send_raw(self, payload: Mapping[str, Any]) -> Json:
        """POST a Send API body as is, with `messaging_type` RESPONSE if it has none."""
        body = {"messaging_type": "RESPONSE", **payload}
        check_send_body(body)
        return self._request("POST", SEND_PATH, json=body)

    def send_message(
        self,
        recipient_id: str,
        message: Mapping[str, Any],
        *,
        messaging_type: str = "RESPONSE",
        tag: str | None = None,
        metadata: str | None = None,
        notification_type: str | None = None,
    ) -> Json:
        content = dict(message)
        if metadata is not None:
            content["metadata"] = metadata
        body: Json = {"recipient": {"id": recipient_id}, "messaging_type": messaging_type,
                      "message": content}
        if tag is not None:
            body["tag"] = tag
        if notification_type is not None:
            body["notification_type"] = notification_type
        return self.send_raw(body)

    def upload_attachment(self, *, kind: str, data: bytes, filename: str, content_type: str,
                          platform: str | None = None) -> str:
        """Attachment Upload API: the `attachment_id` to send the file with (messenger.upload)."""
        return upload(self.session, self.graph_url, self.auth_args, kind=kind, data=data,
                      filename=filename, content_type=content_type, platform=platform)

    def send_text_message(self, recipient_id: str, text: str) -> Json:
        return self.send_message(recipient_id, {"text": text})

    def send_action(self, recipient_id: str, action: str, *, retry: bool = True) -> Json:
        """typing_on, typing_off or mark_seen: its own request, without a message.
        `retry=False`: one attempt, for an action that is only worth it right now."""
        if action not in SENDER_ACTIONS:
            raise ValueError(f"unknown sender action {action!r}")
        body = {"messaging_type": "RESPONSE", "recipient": {"id": recipient_id},
                "sender_action": action}
        check_send_body(body)
        return self._http.request("POST", SEND_PATH, json=body, retry=retry)

    def send_image_url(self, recipient_id: str, image_url: str) -> Json:
        return self._send_url(recipient_id, "image", image_url)

    def send_audio_url(self, recipient_id: str, audio_url: str) -> Json:
        return self._send_url(recipient_id, "audio", audio_url)

    def send_video_url(self, recipient_id: str, video_url: str) -> Json:
        return self._send_url(recipient_id, "video", video_url)

    def send_file_url(self, recipient_id: str, file_url: str) -> Json:
        return self._send_url(recipient_id, "file", file_url)

    def _send_url(self, recipient_id: str, kind: str, url: str) -> Json:
        attachment = {"type": kind, "payload": {"url": url}}
        return self.send_message(recipient_id, {"attachment": attachment})

    def send_image(self, recipient_id: str, image_path: str) -> Json:
        raise NotImplementedError("uploads are not supported; use send_image_url")

    def send_audio(self, recipient_id: str, audio_path: str) -> Json:
        raise NotImplementedError("uploads are not supported; use send_audio_url")

    def send_video(self, recipient_id: str, video_path: str) -> Json:
        raise NotImplementedError("uploads are not supported; use send_video_url")

    def send_file(self, recipient_id: str, file_path: str) -> Json:
        raise NotImplementedError("uploads are not supported; use send_file_url")

    # User Profile API

    def get_user_profile(
        self, psid: str, fields: Sequence[str] = ("first_name", "locale")
    ) -> Json:
        return self._request("GET", f"/{node_path(psid)}", params={"fields": csv_fields(fields)})

    def get_user_info(self, recipient_id: str, fields: Sequence[str] | None = None) -> Json:
        """pymessenger's name for `get_user_profile`; raises instead of returning None."""
        if fields is None:
            return self.get_user_profile(recipient_id)
        return self.get_user_profile(recipient_id, fields)

    # Handover (Conversation Routing)

    def pass_thread_control(
        self, recipient_id: str, target_app_id: str | int, metadata: str | None = None
    ) -> Json:
        return self._handover("pass_thread_control", recipient_id, metadata,
                              target_app_id=target_app_id)

    def take_thread_control(self, recipient_id: str, metadata: str | None = None) -> Json:
        return self._handover("take_thread_control", recipient_id, metadata)

    def release_thread_control(self, recipient_id: str, metadata: str | None = None) -> Json:
        return self._handover("release_thread_control", recipient_id, metadata)

    def request_thread_control(self, recipient_id: str, metadata: str | None = None) -> Json:
        return self._handover("request_thread_control", recipient_id, metadata)

    def thread_owner(self, recipient_id: str) -> str | None:
        """The owning app's id, or None when the thread is idle."""
        answer = self._request("GET", "/me/thread_owner", params={"recipient": recipient_id})
        for entry in answer.get("data") or []:
            owner = entry.get("thread_owner") if isinstance(entry, dict) else None
            if isinstance(owner, dict) and owner.get("app_id"):
                return str(owner["app_id"])
        return None

    def _handover(self, edge: str, recipient_id: str, metadata: str | None,
                  **extra: Any) -> Json:
        body: Json = {"recipient": {"id": recipient_id}, **extra}
        if metadata is not None:
            body["metadata"] = metadata[:METADATA_LIMIT]
        return self._request("POST", f"/me/{edge}", json=body)
