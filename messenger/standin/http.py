"""`create_standin_app`: a `Standin` served as Facebook's Graph API over HTTP.

Every Graph route lives under a version prefix (`/v27.0/...`), needs the Page
token and answers errors in Meta's shape. The `/_standin/` control endpoints
(see `control`) sit on the same app unless `control=False`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import Blueprint, Flask, Response, after_this_request, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from messenger.standin import instagram, media, people
from messenger.standin.control import CONTROL_PREFIX
from messenger.standin.control import bp as control_bp
from messenger.standin.errors import GraphError, bad_param
from messenger.standin.fast_send import fast_send
from messenger.standin.instagram import InstagramAccount
from messenger.standin.page import Page
from messenger.standin.params import call_body, check_page_node, list_param, recipient_of, token_of
from messenger.standin.world import Standin

FEATURE_STATUS = {"hop_v2": False, "msgr_multi_app": True, "ig_multi_app": False}
PAGE_NODE_FIELDS = ("id", "name", "messaging_feature_status")
CONTROL_EDGES = ("pass_thread_control", "take_thread_control", "release_thread_control",
                 "request_thread_control")

graph = Blueprint("graph", __name__, url_prefix="/<version:version>")


class VersionConverter(BaseConverter):
    """A Graph API version segment such as `v27.0`."""

    regex = r"v\d+\.\d+"


def create_standin_app(standin: Standin, *, control: bool = True,
                       others: Sequence[Standin] = ()) -> Flask:
    """`others`: more Pages behind the same Graph API, each reached with its own token
    (the `/_standin/` control endpoints drive `standin`)."""
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["standin"] = standin
    app.extensions["standins"] = [standin, *others]
    for other in others:  # one CDN for every Page's customers' files and uploads
        other.media = standin.media
    app.url_map.converters["version"] = VersionConverter
    app.register_blueprint(graph)
    app.register_blueprint(media.cdn)
    if control:
        app.register_blueprint(control_bp)
    app.register_error_handler(GraphError, _graph_error)
    app.register_error_handler(HTTPException, _http_error)
    app.after_request(_record_call)
    app.wsgi_app = fast_send(app.wsgi_app, [standin, *others])  # type: ignore[method-assign]
    return app


def _standin() -> Standin:
    """The Page the request's token belongs to (the first Page before authentication)."""
    standin: Standin = g.get("standin") or current_app.extensions["standin"]
    return standin


@graph.url_value_preprocessor
def _drop_version(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if values is not None:
        values.pop("version", None)


@graph.before_request
def _authenticate() -> None:
    token = token_of(request.args.get("access_token") or request.form.get("access_token"),
                     request.headers.get("Authorization", ""))
    proof = request.args.get("appsecret_proof") or request.form.get("appsecret_proof")
    g.standin = _page_of_token(token)
    g.standin.check_credentials(token, proof)


def _page_of_token(token: str | None) -> Standin:
    """The Page whose token this is, as Facebook tells Pages apart: by the token."""
    standins: list[Standin] = current_app.extensions["standins"]
    for standin in standins:
        if token is not None and standin.has_token(token):
            return standin
    return standins[0]  # refuses it with Facebook's 190


# Send API (doc §4) ------------------------------------------------------------------------

@graph.post("/<node>/messages")
def send(node: str) -> Response:
    _page_node(node)
    standin = _standin()

    @after_this_request
    def usage(response: Response) -> Response:
        response.headers["X-Business-Use-Case-Usage"] = standin.usage_header()
        return response

    return jsonify(standin.send(call_body()))


@graph.post("/<node>/message_attachments")
def upload_attachment(node: str) -> Response:
    """Attachment Upload API: multipart `message` (JSON) and `filedata`."""
    _page_node(node)
    return media.upload_route()


# Conversation Routing (doc §5.3) ----------------------------------------------------------

_HANDOVERS: dict[str, Callable[[Page, Any, float], None]] = {
    "pass_thread_control": lambda page, body, now: page.pass_control(body, now),
    "take_thread_control": lambda page, body, now: page.take_control(body, now),
    "release_thread_control": lambda page, body, now: page.release_control(body, now),
    "request_thread_control": lambda page, body, now: page.request_control(body),
}


@graph.post(f"/<node>/<any({', '.join(CONTROL_EDGES)}):edge>")
def thread_control(node: str, edge: str) -> Response:
    _page_node(node)
    body, handover = call_body(), _HANDOVERS[edge]
    _standin().graph(lambda page, now: handover(page, body, now), recipient=recipient_of(body))
    return jsonify(success=True)


@graph.get("/<node>/thread_owner")
def thread_owner(node: str) -> Response:
    _page_node(node)
    psid = request.args.get("recipient")
    return jsonify(_standin().graph(lambda page, now: page.thread_owner(psid), recipient=psid))


# Messenger Profile (doc §7) and webhook subscriptions (doc §1.2) ---------------------------

@graph.route("/<node>/messenger_profile", methods=["GET", "POST", "DELETE"])
def messenger_profile(node: str) -> Response:
    _page_node(node)
    standin = _standin()
    platform = request.args.get("platform")  # "instagram": the linked account's profile
    if request.method == "GET":
        fields = list_param("fields")
        return jsonify(standin.graph(lambda page, now: page.get_messenger_profile(fields),
                                     platform=platform))
    body = call_body()
    if isinstance(body, dict) and body.get("platform"):
        platform = str(body["platform"])
    if request.method == "POST":
        standin.graph(lambda page, now: page.set_messenger_profile(body), platform=platform)
    else:
        fields = body.get("fields") if isinstance(body, dict) else None
        standin.graph(lambda page, now: page.delete_messenger_profile(fields), platform=platform)
    return jsonify(result="success")


@graph.route("/<node>/subscribed_apps", methods=["GET", "POST"])
def subscribed_apps(node: str) -> Response:
    _page_node(node)
    standin = _standin()
    if request.method == "GET":
        name = standin.app_name
        return jsonify(standin.graph(lambda page, now: page.subscriptions(name)))
    fields = list_param("subscribed_fields")
    standin.graph(lambda page, now: page.subscribe(fields))
    return jsonify(success=True)


# Nodes: the Page itself and the User Profile API (doc §8) ----------------------------------

@graph.get("/<node>")
def read_node(node: str) -> Response:
    fields = list_param("fields")
    standin = _standin()
    if node not in ("me", standin.page_id):
        return jsonify(standin.graph(lambda page, now: _profile(page, node, fields), recipient=node))
    for name in fields:
        if name not in PAGE_NODE_FIELDS:
            raise bad_param(f"Tried accessing nonexisting field ({name}) on node type (Page)")
    values = {"id": standin.page_id, "name": standin.page_name or f"{standin.app_name} Page",
              "messaging_feature_status": FEATURE_STATUS}
    answer = {name: values[name] for name in fields or ("name",)}
    answer["id"] = standin.page_id  # Graph always names the node
    return jsonify(answer)


def _profile(page: Page, node: str, fields: list[str]) -> dict[str, Any]:
    """The User Profile API; an Instagram user's profile has Instagram's fields."""
    if isinstance(page, InstagramAccount):
        return instagram.user_profile(page, node, fields)
    return people.user_profile(page, node, fields)


# Request helpers ------------------------------------------------------------------------------

def _page_node(node: str) -> None:
    check_page_node(node, _standin().page_id, request.method)


# Answers ------------------------------------------------------------------------------------

def _graph_error(error: GraphError) -> tuple[Response, int]:
    return jsonify(error.body()), error.status


def _http_error(error: HTTPException) -> tuple[Response, int]:
    if request.path.startswith(CONTROL_PREFIX):
        return jsonify(error=error.description), error.code or 500
    if error.code == 404:
        return _graph_error(GraphError(2500, f"Unknown path components: {request.path}"))
    if error.code == 405:
        return _graph_error(bad_param(f"Unsupported {request.method.lower()} request"))
    return _graph_error(GraphError(1, "An unknown error has occurred.", status=error.code or 500))


def _record_call(response: Response) -> Response:
    if not request.path.startswith(CONTROL_PREFIX):
        _standin().record_call(request.method, request.path, response.status_code)
    return response
