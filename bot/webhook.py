"""`/webhook`: Meta's verification handshake (a Flask view), and the hot path
that checks a POST's signature, drops its events into the customers'
mailboxes with one Redis round trip (shared with the requests waiting at the
same moment: see `core.ingest`), and answers. Everything slow happens in
`bot.jobs`.

The POST is answered by `WebhookReceiver`, a WSGI layer in front of Flask:
it needs none of Flask's request machinery (request context, session, URL
map, response object), which cost as much web CPU as everything the webhook
itself does (docs/PERFORMANCE.md). Every other request goes on to Flask.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from redis.exceptions import RedisError
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.wsgi import get_input_stream

from bot.jobs import drain
from core import metrics
from core.connections import connect_redis
from core.ingest import IngestBatcher
from core.mailbox import Mailbox
from core.page_health import page_health
from core.runtime import Runtime
from messenger import signature
from messenger.events import Incoming, parse_payload, policy_notices

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)

PATH = "/webhook"
MAX_BODY_BYTES = 1024 * 1024
_OBJECTS = {"page": "messenger", "instagram": "instagram"}  # webhook object -> account channel


@bp.get(PATH)
def verify() -> tuple[Response, int]:
    expected = current_app.extensions["runtime"].settings.messenger_verify_token
    token = request.args.get("hub.verify_token", "")
    challenge = request.args.get("hub.challenge", "")
    if (request.args.get("hub.mode") == "subscribe" and expected
            and hmac.compare_digest(token.encode(), expected.encode())):
        return Response(challenge, mimetype="text/plain"), 200
    return jsonify(error="verification refused"), 403


def install(app: Flask) -> None:
    """Serve GET /webhook from the blueprint and POST /webhook in front of Flask."""
    app.register_blueprint(bp)
    receiver = WebhookReceiver(app.wsgi_app, app.extensions["runtime"])
    app.extensions["fail_fast_mailbox"] = receiver.ingest.mailbox  # /healthz uses it too
    app.wsgi_app = receiver  # type: ignore[method-assign]


class WebhookReceiver:
    """WSGI middleware: answers POST /webhook itself, passes everything else on."""

    def __init__(self, wsgi_app: Any, rt: Runtime) -> None:
        self.wsgi_app = wsgi_app
        self.rt = rt
        self.secret = rt.settings.messenger_app_secret
        mailbox = webhook_mailbox(rt)
        self.health = page_health(mailbox.redis)  # the client that gives up in time
        self.ingest = IngestBatcher(
            mailbox, lambda reservation: rt.dispatcher.enqueue(drain, reservation))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        status, body = self.receive(environ)
        metrics.webhook_requests.inc(code=str(status))
        start_response(_STATUS_LINES[status], [("Content-Type", "application/json"),
                                               ("Content-Length", str(len(body)))])
        return [body]

    def receive(self, environ: dict[str, Any]) -> tuple[int, bytes]:
        """(status, JSON body) for one POST."""
        try:
            raw = _read_body(environ)
        except RequestEntityTooLarge:
            return 413, _error(f"the body is over {MAX_BODY_BYTES} bytes")
        except (BadRequest, OSError):  # werkzeug's ClientDisconnected, or the socket's error
            return 400, _error("the body ended early: the client went away")
        if not signature.is_valid(raw, environ.get("HTTP_X_HUB_SIGNATURE_256"), self.secret):
            return 403, _error("missing or invalid X-Hub-Signature-256")
        try:
            data = json.loads(raw)
            kind, events = parse_payload(data)
        except (ValueError, RecursionError) as exc:
            return 400, _error(f"not a Messenger webhook payload: {exc}")
        # Rare (Meta warns, blocks or unblocks the Page), so a byte scan keeps it off the hot path
        if b"policy_enforcement" in raw and not self.note_policy(data):
            return 503, _error("the notice could not be recorded; retry later")
        metrics.events_received.inc(len(events))
        channel = _OBJECTS.get(kind)
        if channel is not None and events:
            events = self.served(events, channel)
        if channel is None or not events:
            return 200, b'{"queued":0}'  # signed by Meta: accept, nothing to do
        try:
            added = self.ingest.ingest(events)
        except RedisError:
            log.error("cannot queue %d events: Redis unavailable; answering 503", len(events))
            return 503, _error("events could not be queued; retry later")
        except Exception:  # this request's own failure (logged by the batcher): it alone fails
            return 500, _error("events could not be queued")
        metrics.acknowledged(len(events), new=added)
        _count_queued(events, channel)
        return 200, b'{"queued":%d}' % added

    def served(self, events: list[Incoming], channel: str) -> list[Incoming]:
        """The events of accounts this deployment serves; the others are dropped, one log
        line per account (Meta sends what the app is subscribed to: a Page left out of
        the pages file, or one whose line is broken)."""
        pages = self.rt.pages
        if pages.single and channel == "messenger":  # today's mode: every Page is served
            return events
        kept = [event for event in events if pages.account(event.page_id, channel) is not None]
        if len(kept) < len(events):
            for account_id in sorted({e.page_id for e in events} - {e.page_id for e in kept}):
                log.warning("webhook: ignored the events of %s account %s: %s", channel,
                            account_id, "not in the pages file" if pages.source else
                            "one Page is served without a pages file (PAGES_PATH)")
            metrics.events_ignored.inc(len(events) - len(kept))
        return kept

    def note_policy(self, data: Any) -> bool:
        """Record the Page's policy notices (`core.page_health`); False if Redis failed."""
        try:
            for page_id, action, reason in policy_notices(data):
                self.health.policy_notice(page_id, action, reason)
        except RedisError:
            log.error("could not record a policy enforcement notice: Redis unavailable; 503")
            return False
        return True


def _count_queued(events: list[Incoming], channel: str) -> None:
    previous, run = None, 0
    for event in events:  # a payload's events come grouped by entry: count runs, not each
        if event.page_id != previous and run:
            metrics.events_queued.inc(run, page=previous or "", channel=channel)
            run = 0
        previous, run = event.page_id, run + 1
    if run:
        metrics.events_queued.inc(run, page=previous or "", channel=channel)


def webhook_mailbox(rt: Runtime) -> Mailbox:
    """The runtime's mailboxes on a client that gives up in time for a 2 s answer."""
    if rt.settings.redis_url is None:
        return rt.mailbox
    return Mailbox(connect_redis(rt.settings.redis_url, fail_fast=True), rt.mailbox.timing)


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, of at most MAX_BODY_BYTES; RequestEntityTooLarge beyond."""
    # One byte past the limit: werkzeug's limited stream ends a longer chunked body at
    # its limit without a word, so reading exactly 1 MiB could not tell the two apart.
    raw = get_input_stream(environ, max_content_length=MAX_BODY_BYTES + 1).read()
    if len(raw) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()
    return raw


def _error(message: str) -> bytes:
    return json.dumps({"error": message}).encode()


_STATUS_LINES = {code: f"{code} {HTTPStatus(code).phrase}" for code in (200, 400, 403, 413, 500, 503)}
