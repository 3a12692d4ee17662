"""`POST /email/inbound`: one raw RFC 5322 message from the mail server, with
`Authorization: Bearer $INBOUND_EMAIL_TOKEN`.

Parsing is bounded (tickets.inbound): the slowest hostile shape measured answers
in well under a second, so it stays in the request, which can then say whether
the mail reached a ticket. What a mail contains never causes a 5xx: it is kept
(404 unmatched, 202 automatic) or refused with a 4xx and a JSON reason."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError

from core.bearer import bearer_ok
from tickets.errors import UnparsableEmail
from tickets.ingest import ingest_email
from tickets.webapp import configure, runtime

log = logging.getLogger(__name__)
bp = Blueprint("email_inbound", __name__)
bp.record_once(configure)

MAX_EMAIL_BYTES = 10 * 1024 * 1024
STATUS_CODES = {"stored": 200, "duplicate": 200, "ignored": 202, "unmatched": 404}


@bp.post("/email/inbound")
def receive() -> tuple[Response, int]:
    rt = runtime()
    if not bearer_ok(request, rt.settings.inbound_email_token):
        return jsonify(error="missing or wrong bearer token"), 401
    request.max_content_length = MAX_EMAIL_BYTES  # werkzeug answers 413 beyond it
    raw = request.get_data(cache=False)
    try:
        outcome = ingest_email(rt, raw)
    except UnparsableEmail as exc:
        return jsonify(error=str(exc)), 400
    except (RedisError, OperationalError) as exc:
        log.error("inbound email not processed, the sender should retry: %s", type(exc).__name__)
        return jsonify(error="temporarily unavailable; retry later"), 503
    body = {"status": outcome.status, "ticket": outcome.ticket_id, "reply": outcome.reply_id}
    return jsonify(body), STATUS_CODES[outcome.status]
