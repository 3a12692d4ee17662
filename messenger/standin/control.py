"""`/_standin/...`: JSON endpoints that drive a `Standin` running in another process.

Thin wrappers over `Standin` for end-to-end tests, benchmarks and the local
preview. They are not part of Facebook's API and take no token: serve them on
loopback only. With several Pages behind one Graph API (`others`), `?page=ID` drives
that Page; without it, the first.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, request

from messenger.standin.errors import StandinError, WebhookDeliveryError
from messenger.standin.media import CDN_PREFIX, MAX_BYTES
from messenger.standin.world import Standin

CONTROL_PREFIX = "/_standin/"
_REQUIRED = object()
# name -> accepted JSON types, None allowed
_CONFIG: dict[str, tuple[tuple[type, ...], bool]] = {
    "latency": ((int, float), False),
    "rate_limit_per_second": ((int,), True),
    "echoes": ((bool,), False),
    "take_permission": ((bool,), False),
    "default_app": ((str,), True),
    "webhook_url": ((str,), True),
    "require_appsecret_proof": ((bool,), False),
}

bp = Blueprint("standin_control", __name__, url_prefix=CONTROL_PREFIX.rstrip("/"))


class BadControlRequest(Exception):
    """A control call with a missing or mistyped argument."""


def _standin() -> Standin:
    """The Page `?page=ID` names, else the first."""
    first: Standin = current_app.extensions["standin"]
    page_id = request.args.get("page")
    if page_id is None:
        return first
    standins: list[Standin] = current_app.extensions.get("standins", [first])
    for standin in standins:
        if standin.page_id == page_id:
            return standin
    raise BadControlRequest(f"no Page {page_id} here: {', '.join(s.page_id for s in standins)}")


def _args() -> dict[str, Any]:
    body = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(body, dict):
        raise BadControlRequest("send a JSON object")
    return body


def _arg(args: dict[str, Any], name: str, kinds: tuple[type, ...], default: Any = _REQUIRED
         ) -> Any:
    value = args.get(name, default)
    if value is _REQUIRED:
        raise BadControlRequest(f"{name} is required")
    wrong_type = not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)
    if value is not default and wrong_type:
        raise BadControlRequest(f"{name} must be {' or '.join(k.__name__ for k in kinds)}")
    return value


@bp.post("/users")
def add_user() -> Response:
    args = _args()
    _standin().add_user(
        _arg(args, "psid", (str,)), _arg(args, "first_name", (str,), "Ana"),
        _arg(args, "locale", (str,), "en_US"), last_name=_arg(args, "last_name", (str,), "Silva"),
        has_profile=_arg(args, "has_profile", (bool,), True))
    return jsonify(success=True)


@bp.post("/instagram_users")
def add_instagram_user() -> Response:
    """An Instagram user of the Page's linked account (`python -m messenger.standin
    --instagram-id`); `customer_says`, `agent_says`... then take their IGSID."""
    args = _args()
    _standin().add_instagram_user(
        _arg(args, "igsid", (str,)), name=_arg(args, "name", (str,), "Ana Silva"),
        username=_arg(args, "username", (str,), "ana.silva"),
        has_profile=_arg(args, "has_profile", (bool,), True))
    return jsonify(success=True)


@bp.post("/customer_sees")
def customer_sees() -> Response:
    """An Instagram customer sees our messages (`messaging_seen`)."""
    return jsonify(event=_standin().customer_sees(_arg(_args(), "igsid", (str,))))


@bp.post("/customer_says")
def customer_says() -> Response:
    args = _args()
    event = _standin().customer_says(
        _arg(args, "psid", (str,)), _arg(args, "text", (str,), None),
        quick_reply=_arg(args, "quick_reply", (str,), None),
        postback=_arg(args, "postback", (str,), None),
        postback_title=_arg(args, "postback_title", (str,), None),
        attachments=_arg(args, "attachments", (list,), None))
    return jsonify(event=event)


@bp.post("/files")
def host_file() -> Response | tuple[Response, int]:
    """A file a customer is about to send (multipart `file`): put on the CDN; answers its URL
    and Messenger's attachment type, for `customer_says` with `attachments`."""
    part = request.files.get("file")
    if part is None:
        raise BadControlRequest("send the file as multipart field 'file'")
    try:
        data = part.read(MAX_BYTES + 1)
    finally:
        part.close()  # a large upload is spooled to a temporary file
    if len(data) > MAX_BYTES:
        return jsonify(error="Messenger takes files up to 25 MB"), 413
    standin, mime = _standin(), part.mimetype or "application/octet-stream"
    token = standin.media.host(data, mime)
    kind = next((k for k in ("image", "video", "audio") if mime.startswith(k + "/")), "file")
    name = quote(part.filename or "file")
    return jsonify(url=f"{standin.base_url}{CDN_PREFIX}/{token}/{name}", type=kind)


@bp.post("/agent_says")
def agent_says() -> Response:
    args = _args()
    event = _standin().agent_says(_arg(args, "psid", (str,)), _arg(args, "text", (str,)))
    return jsonify(event=event)


@bp.post("/<any(agent_done, inbox_requests):action>")
def inbox_action(action: str) -> Response:
    args = _args()
    psid, standin = _arg(args, "psid", (str,)), _standin()
    if action == "agent_done":  # "how": pass (default), release or nothing (people.agent_done)
        event = standin.agent_done(psid, _arg(args, "how", (str,), None))
    else:
        event = standin.inbox_requests(psid)
    return jsonify(event=event)


@bp.post("/expire_idle")
def expire_idle() -> Response:
    _standin().expire_idle(_arg(_args(), "psid", (str,)))
    return jsonify(success=True)


@bp.post("/fail_next")
def fail_next() -> Response:
    args = _args()
    n, delay = _arg(args, "n", (int,)), _arg(args, "delay", (int, float), 0.0)
    if n < 0 or delay < 0:
        raise BadControlRequest("n and delay must be >= 0")
    _standin().fail_next(
        n, status=_arg(args, "status", (int,), None), code=_arg(args, "code", (int,), None),
        subcode=_arg(args, "subcode", (int,), None), delay=delay)
    return jsonify(success=True)


@bp.post("/reset")
def reset() -> Response:
    _standin().reset()
    return jsonify(success=True)


@bp.post("/drain")
def drain() -> Response:
    timeout = _arg(_args(), "timeout", (int, float), 10.0)
    return jsonify(drained=_standin().drain_deliveries(timeout))


@bp.get("/sent/<psid>")
def sent(psid: str) -> Response | tuple[Response, int]:
    """Our Send API bodies; with `?count=n` waits (up to `timeout`, 10 s) until n were sent."""
    standin = _standin()
    count = request.args.get("count", type=int)
    if count is None:
        return jsonify(data=standin.sent(psid))
    timeout = request.args.get("timeout", default=10.0, type=float)
    try:
        return jsonify(data=standin.wait_for_sent(psid, count, timeout))
    except TimeoutError as exc:
        return jsonify(error=str(exc), data=standin.sent(psid)), 408


@bp.get("/owner/<psid>")
def owner(psid: str) -> Response:
    return jsonify(owner=_standin().owner(psid))


@bp.get("/calls")
def calls() -> Response:
    return jsonify(data=[list(call) for call in _standin().calls])


@bp.get("/send_rate")
def send_rate() -> Response:
    """The Page's Send API calls per second as received (refused ones too) and its busiest
    one-second window: what a benchmark checks against the Page's rate."""
    standin = _standin()
    return jsonify(page=standin.page_id, **standin.send_seconds())


@bp.get("/webhooks")
def webhooks() -> Response:
    return jsonify(data=_standin().webhooks)


@bp.route("/config", methods=["GET", "POST"])
def config() -> Response:
    standin = _standin()
    if request.method == "POST":
        args = _args()
        for name in args:
            _check_setting(name, args[name])
        for name, value in args.items():
            setattr(standin, name, value)
    return jsonify({name: getattr(standin, name) for name in _CONFIG})


def _check_setting(name: str, value: Any) -> None:
    if name not in _CONFIG:
        raise BadControlRequest(f"unknown setting {name}: use one of {', '.join(_CONFIG)}")
    kinds, nullable = _CONFIG[name]
    if not (nullable and value is None):
        _arg({name: value}, name, kinds)
    if isinstance(value, int | float) and value < 0:
        raise BadControlRequest(f"{name} must be >= 0")


@bp.errorhandler(BadControlRequest)
def _bad_request(error: BadControlRequest) -> tuple[Response, int]:
    return jsonify(error=str(error)), 400


@bp.errorhandler(StandinError)
def _conflict(error: StandinError) -> tuple[Response, int]:
    return jsonify(error=str(error)), 409


@bp.errorhandler(WebhookDeliveryError)
def _webhook_failed(error: WebhookDeliveryError) -> tuple[Response, int]:
    return jsonify(error=str(error), webhook_status=error.status), 502
