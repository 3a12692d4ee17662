"""Webhook POSTs to our app, encoded and signed exactly as Meta does (doc §1.4).

One background thread posts every payload in submission order, so an echo
queued by a Send API call never overtakes, or is overtaken by, a customer
message delivered after it. Callers that must wait (customer and agent
actions) wait on the future `submit` returns.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
from concurrent.futures import Future
from typing import Any

import requests

from messenger.standin.errors import WebhookDeliveryError

log = logging.getLogger(__name__)

USER_AGENT = "facebookexternalua"
_STOP = None


def encode(payload: dict[str, Any]) -> bytes:
    """Meta's body bytes: compact JSON with every non-ASCII character escaped as \\uXXXX."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def sign(body: bytes, app_secret: str) -> str:
    """The `X-Hub-Signature-256` header value for these exact bytes."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookPoster:
    """A FIFO of signed webhook POSTs served by one lazily started daemon thread."""

    def __init__(self, *, app_secret: str, timeout: float) -> None:
        self.app_secret = app_secret
        self.timeout = timeout
        self.failures: list[str] = []  # every failed delivery, oldest first
        self._queue: queue.SimpleQueue[tuple[str, dict[str, Any], Future[int]] | None] = (
            queue.SimpleQueue())
        self._idle = threading.Condition()
        self._pending = 0
        self._thread: threading.Thread | None = None

    def submit(self, url: str, payload: dict[str, Any]) -> Future[int]:
        """Queue one POST; the future holds our webhook's status, or the delivery error."""
        future: Future[int] = Future()
        with self._idle:
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="standin-webhooks", daemon=True)
                self._thread.start()
            self._queue.put((url, payload, future))
        return future

    def drain(self, timeout: float) -> bool:
        """Wait until every queued POST has been answered; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        """Stop the thread after the POSTs already queued."""
        with self._idle:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(_STOP)
        if thread is not None:
            thread.join(self.timeout + 1)

    def _run(self) -> None:
        with requests.Session() as session:
            while (item := self._queue.get()) is not _STOP:
                url, payload, future = item
                try:
                    future.set_result(self._post(session, url, payload))
                except Exception as exc:  # handed to the waiter, never swallowed
                    future.set_exception(exc)
                    self._record_failure(exc)
                finally:
                    with self._idle:
                        self._pending -= 1
                        self._idle.notify_all()

    def _post(self, session: requests.Session, url: str, payload: dict[str, Any]) -> int:
        body = encode(payload)
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   "X-Hub-Signature-256": sign(body, self.app_secret)}
        try:
            response = session.post(url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise WebhookDeliveryError(f"webhook {url} unreachable: {exc}") from exc
        if response.status_code != 200:
            raise WebhookDeliveryError(
                f"webhook {url} answered {response.status_code}: {response.text[:200]}",
                status=response.status_code)
        return response.status_code

    def _record_failure(self, exc: Exception) -> None:
        self.failures.append(str(exc))
        log.warning("webhook delivery failed: %s", exc)
