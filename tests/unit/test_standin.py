"""The Graph API stand-in over real HTTP, with a real (tiny) webhook receiving its POSTs."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from messenger.standin import Standin, serve_standin
from messenger.standin.errors import StandinError, WebhookDeliveryError

PAGE, APP, SECRET, TOKEN = "1001", "2002", "app-secret", "page-token"
INBOX = "263902037430900"
PSID = "7001"
HOUR = 3600.0


# Helpers --------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_760_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, *, hours: float) -> None:
        self.now += hours * HOUR


class Receiver:
    """Our webhook, reduced to: check the signature over the raw bytes, record, answer."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.signatures_ok: list[bool] = []
        self.status = 200
        self._lock = threading.Lock()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(request.headers.get("X-Hub-Signature-256", ""), expected)
        with self._lock:
            self.bodies.append(body)
            self.signatures_ok.append(valid)
        return Response(status=self.status if valid else 403)(environ, start_response)

    def clear(self) -> None:
        with self._lock:
            self.bodies, self.signatures_ok, self.status = [], [], 200

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        """(channel, event) of everything delivered, in order."""
        with self._lock:
            payloads = [json.loads(body) for body in self.bodies]
        return [(channel, event) for payload in payloads for entry in payload["entry"]
                for channel in ("messaging", "standby") for event in entry.get(channel, [])]

    def last(self) -> tuple[str, dict[str, Any]]:
        return self.events()[-1]


class Graph:
    """A bare Graph API client: just enough `requests` to talk to the stand-in."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def call(self, method: str, path: str, body: Any = None, token: str = TOKEN,
             **params: Any) -> requests.Response:
        return self.session.request(method, f"{self.url}/v27.0/{path}", json=body,
                                    params={"access_token": token, **params}, timeout=5)

    def send(self, body: dict[str, Any]) -> requests.Response:
        return self.call("POST", "me/messages", body)

    def say(self, text: str = "Hola", psid: str = PSID, **fields: Any) -> requests.Response:
        return self.send(text_body(text, psid, **fields))

    def control(self, path: str, body: Any = None) -> requests.Response:
        if body is None:
            return self.session.get(f"{self.url}/_standin/{path}", timeout=5)
        return self.session.post(f"{self.url}/_standin/{path}", json=body, timeout=5)


def text_body(text: str = "Hola", psid: str = PSID, **fields: Any) -> dict[str, Any]:
    return {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": text},
            **fields}


def button_body(*payloads: str, psid: str = PSID) -> dict[str, Any]:
    buttons = [{"type": "postback", "title": f"B{i}", "payload": p}
               for i, p in enumerate(payloads)]
    attachment = {"type": "template",
                  "payload": {"template_type": "button", "text": "Pick", "buttons": buttons}}
    return {"recipient": {"id": psid}, "messaging_type": "RESPONSE",
            "message": {"attachment": attachment}}


def error_of(response: requests.Response) -> tuple[int, int, int | None]:
    """(HTTP status, Graph code, subcode) of an error answer in Meta's shape."""
    error = response.json()["error"]
    assert error["fbtrace_id"] and error["type"] and error["message"]
    return response.status_code, error["code"], error.get("error_subcode")


def background(server: BaseWSGIServer) -> None:
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()


@dataclass
class World:
    standin: Standin
    graph: Graph
    receiver: Receiver
    clock: Clock


@pytest.fixture(scope="module")
def webhook() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()
    hook = make_server("127.0.0.1", 0, receiver, threaded=True)
    background(hook)
    yield receiver, f"http://127.0.0.1:{hook.port}/webhook"
    hook.shutdown()
    hook.server_close()


@pytest.fixture
def world(webhook: tuple[Receiver, str]) -> Iterator[World]:
    receiver, url = webhook
    receiver.clear()
    clock = Clock()
    standin = Standin(page_id=PAGE, app_id=APP, app_secret=SECRET, access_token=TOKEN,
                      webhook_url=url, clock=clock)
    server, base_url = serve_standin(standin)
    graph = Graph(base_url)
    standin.customer_says(PSID, "Hola")  # opens the window; our app (default app) owns
    yield World(standin, graph, receiver, clock)
    graph.session.close()
    server.shutdown()
    server.server_close()
    standin.close()


# Send API validation ---------------------------------------------------------------------


def _quick_replies(n: int, title: str = "Yes") -> dict[str, Any]:
    replies = [{"content_type": "text", "title": title, "payload": f"P{i}"} for i in range(n)]
    return {"text": "Pick one", "quick_replies": replies}


INVALID_BODIES: dict[str, Callable[[], dict[str, Any]]] = {
    "messaging_type": lambda: {"recipient": {"id": PSID}, "message": {"text": "hi"}},
    "quick_replies": lambda: text_body() | {"message": _quick_replies(14)},
    "quick_replies[0].title": lambda: text_body() | {"message": _quick_replies(1, "x" * 21)},
    "payload.buttons": lambda: button_body("A", "B", "C", "D"),
    "message.text": lambda: text_body("x" * 2000),
    "recipient": lambda: {"messaging_type": "RESPONSE", "message": {"text": "hi"}},
    "sender_action": lambda: text_body() | {"sender_action": "typing_on"},
}


@pytest.mark.parametrize("field", INVALID_BODIES)
def test_send_rejects_what_facebook_rejects(world: World, field: str) -> None:
    response = world.graph.send(INVALID_BODIES[field]())

    assert error_of(response) == (400, 100, None)
    assert field.split(".")[0].split("[")[0] in response.json()["error"]["message"]
    assert world.standin.sent(PSID) == []


def test_send_accepts_the_limits(world: World) -> None:
    bodies = [text_body("x" * 1999), text_body() | {"message": _quick_replies(13, "x" * 20)},
              button_body("A", "B", "C"), {"recipient": {"id": PSID}, "sender_action": "typing_on"}]

    answers = [world.graph.send(body) for body in bodies]

    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert answers[0].json()["message_id"].startswith("m_")
    assert answers[0].json()["recipient_id"] == PSID
    assert answers[3].json() == {"recipient_id": PSID}
    assert world.standin.sent(PSID) == bodies[:3]  # messages; sender actions apart
    assert world.standin.sender_actions(PSID) == ["typing_on"]
    assert "X-Business-Use-Case-Usage" in answers[0].headers


def test_wrong_token_and_appsecret_proof(world: World) -> None:
    proof = hmac.new(SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()

    assert error_of(world.graph.call("POST", "me/messages", text_body(), token="nope"))[:2] == (
        400, 190)
    assert error_of(world.graph.call("POST", "me/messages", text_body(),
                                     appsecret_proof="bad"))[:2] == (400, 100)
    assert world.graph.call("POST", "me/messages", text_body(),
                            appsecret_proof=proof).status_code == 200
    assert world.standin.calls[0] == ("POST", "/v27.0/me/messages", 400)


def test_unknown_customer(world: World) -> None:
    assert error_of(world.graph.say(psid="999")) == (400, 100, 2018001)
    assert error_of(world.graph.call("GET", "999"))[1:] == (100, 33)


# Conversation Routing ----------------------------------------------------------------------


def test_pass_to_inbox_blocks_sends_until_the_agent_is_done(world: World) -> None:
    handed = world.graph.call("POST", "me/pass_thread_control",
                              {"recipient": {"id": PSID}, "target_app_id": int(INBOX),
                               "metadata": "ticket=T-1"})
    delivered_before = len(world.receiver.events())

    assert handed.json() == {"success": True}
    assert world.standin.owner(PSID) == INBOX
    assert world.standin.control_calls(PSID)[-1]["metadata"] == "ticket=T-1"
    assert len(world.receiver.events()) == delivered_before  # no webhook to us
    refused = world.graph.say()
    assert error_of(refused) == (400, 10, 2018300)
    assert refused.json()["error"]["message"] == (
        "(#10) Message failed to send because another app is controlling this thread now.")

    world.standin.agent_done(PSID)

    channel, event = world.receiver.last()
    assert channel == "messaging"
    assert event["pass_thread_control"] == {"previous_owner_app_id": INBOX,
                                            "new_owner_app_id": APP, "metadata": ""}
    assert world.graph.say().status_code == 200


@pytest.mark.parametrize("idle", [False, True])
def test_agent_reply_takes_the_thread(world: World, idle: bool) -> None:
    if idle:
        world.standin.expire_idle(PSID)

    world.standin.agent_says(PSID, "Hola, soy Ana")

    (take_channel, take), (echo_channel, echo) = world.receiver.events()[-2:]
    assert take_channel == "messaging"
    assert take["take_thread_control"] == {"previous_owner_app_id": None if idle else APP,
                                           "new_owner_app_id": INBOX, "metadata": ""}
    assert echo_channel == "standby"
    assert echo["sender"] == {"id": PAGE} and echo["recipient"] == {"id": PSID}
    assert echo["message"]["is_echo"] is True
    assert echo["message"]["app_id"] == int(INBOX)
    assert echo["message"]["text"] == "Hola, soy Ana"
    assert world.standin.owner(PSID) == INBOX


def test_customer_on_standby_and_postback_payloads(world: World) -> None:
    assert world.graph.send(button_body("RESUME_BOT")).status_code == 200
    world.standin.agent_says(PSID, "Te atiendo yo")

    world.standin.customer_says(PSID, "¿sigue ahí?")
    channel, event = world.receiver.last()
    assert (channel, event["message"]["text"]) == ("standby", "¿sigue ahí?")

    world.standin.customer_says(PSID, postback="SOMEONE_ELSES", postback_title="Other")
    channel, event = world.receiver.last()
    assert channel == "standby"
    assert event["postback"]["title"] == "Other" and "payload" not in event["postback"]

    world.standin.customer_says(PSID, postback="RESUME_BOT")
    channel, event = world.receiver.last()
    assert channel == "messaging"  # we sent that button: the normal postback, with payload
    assert event["postback"]["payload"] == "RESUME_BOT" and event["postback"]["title"] == "B0"


def test_take_release_and_thread_owner(world: World) -> None:
    recipient = {"recipient": {"id": PSID}}
    world.standin.agent_says(PSID, "Hola")

    assert world.graph.call("POST", f"{PAGE}/take_thread_control", recipient).json() == {
        "success": True}
    owner = world.graph.call("GET", "me/thread_owner", recipient=PSID).json()
    assert owner["data"][0]["thread_owner"]["app_id"] == APP
    assert world.graph.call("POST", "me/release_thread_control", recipient).status_code == 200
    assert world.graph.call("GET", "me/thread_owner", recipient=PSID).json() == {"data": []}

    world.standin.default_app = None  # zero-config: take is blocked
    world.standin.agent_says(PSID, "Sigo yo")
    assert error_of(world.graph.call("POST", "me/take_thread_control", recipient))[:2] == (
        400, 10)
    assert world.graph.call("POST", "me/request_thread_control", recipient).json() == {
        "success": True}
    assert world.standin.pending_request(PSID) == ""


def test_inline_thread_control_passes_with_the_message(world: World) -> None:
    body = text_body("Te paso con una persona") | {
        "thread_control": {"control_type": "pass", "app_id": INBOX}}

    assert world.graph.send(body).status_code == 200
    assert world.standin.owner(PSID) == INBOX


# Messaging window ----------------------------------------------------------------------------


def test_window_and_human_agent_tag(world: World) -> None:
    human = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    world.clock.advance(hours=25)

    assert error_of(world.graph.say()) == (400, 10, 2018278)
    assert error_of(world.graph.say(messaging_type="UPDATE")) == (400, 10, 2018278)
    assert world.graph.say(**human).status_code == 200

    world.clock.advance(hours=7 * 24 - 25 + 0.01)
    assert error_of(world.graph.say(**human)) == (400, 10, 2018278)

    world.standin.customer_says(PSID, "sigo aquí")
    assert world.graph.say().status_code == 200


@pytest.mark.parametrize("tag", ["ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE",
                                 "POST_PURCHASE_UPDATE"])
def test_retired_tags(world: World, tag: str) -> None:
    response = world.graph.say(messaging_type="MESSAGE_TAG", tag=tag)

    assert error_of(response) == (400, 100, None)
    assert tag in response.json()["error"]["message"]


# Faults and limits ---------------------------------------------------------------------------


def test_fail_next_then_success(world: World) -> None:
    world.standin.fail_next(2, status=500)
    world.standin.fail_next(1, code=613, subcode=2534040)

    statuses = [world.graph.say() for _ in range(4)]

    assert [error_of(r) for r in statuses[:3]] == [(500, 2, None), (500, 2, None),
                                                  (400, 613, 2534040)]
    assert statuses[3].status_code == 200
    assert len(world.standin.sent(PSID)) == 1


def test_rate_limit(world: World) -> None:
    world.standin.rate_limit_per_second = 3

    answers = [world.graph.say() for _ in range(4)]

    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert error_of(answers[3]) == (400, 613, 2534040)
    usage = json.loads(answers[3].headers["X-Business-Use-Case-Usage"])
    assert usage[PAGE][0]["call_count"] == 100


def test_latency_is_per_request(world: World) -> None:
    world.standin.latency = 0.3
    started = time.monotonic()

    with ThreadPoolExecutor(max_workers=60) as pool:
        statuses = list(pool.map(lambda _: requests.post(
            f"{world.graph.url}/v27.0/me/messages", params={"access_token": TOKEN},
            json=text_body(), timeout=5).status_code, range(60)))

    assert statuses == [200] * 60
    assert time.monotonic() - started < 2.5


def test_a_send_whose_caller_is_gone_is_still_accepted_and_echoed(world: World) -> None:
    """As on Facebook: a client that dies mid-call (a SIGKILLed worker) does not take the
    call back. The call counts as in flight until answered; its echo, with our metadata
    (the outbox key), still comes as the receipt."""
    world.standin.latency = 0.3
    body = text_body("sent just before the worker died")
    body["message"]["metadata"] = "sd:1000000001:message:m_1#0"
    with pytest.raises(requests.ReadTimeout):
        requests.post(f"{world.graph.url}/v27.0/me/messages", params={"access_token": TOKEN},
                      json=body, timeout=0.1)  # the caller gives up: gone
    assert world.standin.in_flight == 1

    world.standin.wait_for_in_flight(1, timeout=0.0)
    assert wait_for(lambda: world.standin.in_flight == 0)
    assert world.standin.drain_deliveries(timeout=5)
    channel, echo = world.receiver.last()
    assert channel == "messaging" and echo["message"]["metadata"] == body["message"]["metadata"]
    assert world.standin.sent(PSID)[-1]["message"]["text"] == "sent just before the worker died"


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# Webhooks -------------------------------------------------------------------------------------


def test_clients_keep_their_connections_open(world: World, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    """As on Graph: a client's pool pays no TCP set-up per call, however many threads it
    runs (benchmarks count the client's CPU), refusals included."""
    import urllib3.util.connection

    connects: list[tuple[str, int]] = []  # to the stand-in (its echoes go to the webhook)
    create = urllib3.util.connection.create_connection
    monkeypatch.setattr(urllib3.util.connection, "create_connection",
                        lambda address, *a, **kw: connects.append(address) or create(address, *a, **kw))
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=32))

    def calls(thread: int) -> list[int]:
        body = text_body(psid=PSID if thread % 2 else "nobody")
        return [session.post(f"{world.graph.url}/v27.0/me/messages", json=body, timeout=5,
                             params={"access_token": TOKEN}).status_code for _ in range(10)]

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = [status for answers in pool.map(calls, range(32)) for status in answers]

    assert sorted(set(statuses)) == [200, 400] and len(statuses) == 320
    port = int(world.graph.url.rsplit(":", 1)[1])
    assert len([address for address in connects if address[1] == port]) <= 32
    session.close()


# Webhooks -------------------------------------------------------------------------------------


def test_calls_and_refusals_keep_the_connection_open(world: World) -> None:
    """As on Graph: a client's pool pays no TCP set-up per call (benchmarks count its CPU)."""
    answers = [world.graph.say(), world.graph.say(psid="nobody"), world.graph.say()]

    assert [a.status_code for a in answers] == [200, 400, 200]
    assert all(a.headers.get("Connection", "").lower() != "close" for a in answers)
    pools = world.graph.session.get_adapter(world.graph.url).poolmanager.pools
    [pool] = [pools[key] for key in pools.keys()]
    assert (pool.num_connections, pool.num_requests) == (1, 3)


def test_webhooks_are_signed_over_escaped_bytes(world: World) -> None:
    world.standin.customer_says(PSID, "¿Dónde está?")

    raw = world.receiver.bodies[-1]
    assert all(world.receiver.signatures_ok)
    assert b"\\u00bfD\\u00f3nde est\\u00e1?" in raw
    assert raw.isascii() and b", " not in raw and b": " not in raw
    assert json.loads(raw)["entry"][0]["messaging"][0]["message"]["text"] == "¿Dónde está?"


def test_echo_of_our_send(world: World) -> None:
    body = text_body("¿En qué te ayudo?")
    body["message"]["metadata"] = "sd:v1:turn=1"

    mid = world.graph.send(body).json()["message_id"]
    assert world.standin.drain_deliveries(timeout=5)

    channel, echo = world.receiver.last()
    assert channel == "messaging"
    assert echo["message"] == {"is_echo": True, "app_id": int(APP), "metadata": "sd:v1:turn=1",
                               "mid": mid, "text": "¿En qué te ayudo?"}


def test_quick_reply_tap_and_inbox_request_arrive_after_the_echo(world: World) -> None:
    assert world.graph.send(text_body() | {"message": _quick_replies(2, "Sí")}).status_code == 200

    tap = world.standin.customer_says(PSID, quick_reply="P1")
    world.standin.inbox_requests(PSID)

    assert tap["message"]["text"] == "Sí" and tap["message"]["quick_reply"] == {"payload": "P1"}
    kinds = [next(k for k in ("message", "request_thread_control") if k in event)
             for _, event in world.receiver.events()[-4:]]
    assert kinds == ["message", "message", "message", "request_thread_control"]
    assert world.receiver.events()[-3][1]["message"]["is_echo"] is True  # FIFO: echo first
    assert world.receiver.last()[1]["request_thread_control"] == {
        "requested_owner_app_id": INBOX, "metadata": ""}


def test_webhook_refusal_is_raised(world: World) -> None:
    world.receiver.status = 500

    with pytest.raises(WebhookDeliveryError) as raised:
        world.standin.customer_says(PSID, "hola")
    assert raised.value.status == 500
    refused = world.graph.control("customer_says", {"psid": PSID, "text": "hola"})
    assert refused.status_code == 502 and refused.json()["webhook_status"] == 500


def test_wait_for_sent(world: World) -> None:
    timer = threading.Timer(0.05, world.graph.say)
    timer.start()

    assert [b["message"]["text"] for b in world.standin.wait_for_sent(PSID, 1)] == ["Hola"]
    timer.join()
    with pytest.raises(TimeoutError):
        world.standin.wait_for_sent(PSID, 2, timeout=0.05)


# Other Graph endpoints --------------------------------------------------------------------------


def test_user_profile(world: World) -> None:
    world.standin.add_user("7002", "Lucía", "es_LA")
    world.standin.add_user("7003", has_profile=False)

    profile = world.graph.call("GET", "7002", fields="first_name,locale").json()

    assert profile == {"first_name": "Lucía", "locale": "es_LA"}
    assert error_of(world.graph.call("GET", "7003", fields="first_name")) == (400, 100, 2018218)
    assert error_of(world.graph.call("GET", "7002", fields="gender"))[1] == 100


def test_messenger_profile(world: World) -> None:
    menu = [{"locale": "default", "call_to_actions": [
        {"type": "postback", "title": "Talk to a human", "payload": "LIVE_AGENT"}]}]
    greeting = [{"locale": "default", "text": "Hi {{user_first_name}}!"}]

    assert error_of(world.graph.call("POST", "me/messenger_profile",
                                     {"persistent_menu": menu}))[1] == 100
    assert error_of(world.graph.call("POST", "me/messenger_profile", {
        "greeting": [{"locale": "es_LA", "text": "Hola"}]}))[1] == 100
    assert error_of(world.graph.call("POST", "me/messenger_profile", {
        "greeting": [{"locale": "default", "text": "x" * 161}]}))[1] == 100
    ok = world.graph.call("POST", "me/messenger_profile", {
        "get_started": {"payload": "GET_STARTED"}, "greeting": greeting,
        "persistent_menu": menu})
    assert ok.json() == {"result": "success"}
    got = world.graph.call("GET", "me/messenger_profile", fields="greeting,ice_breakers")
    assert got.json() == {"data": [{"greeting": greeting}]}
    world.graph.call("DELETE", "me/messenger_profile", {"fields": ["greeting"]})
    assert "greeting" not in world.standin.messenger_profile


def test_subscriptions_and_feature_status(world: World) -> None:
    fields = "messages,messaging_postbacks,messaging_handovers,standby,message_echoes"

    assert world.graph.call("POST", f"{PAGE}/subscribed_apps",
                            subscribed_fields=fields).json() == {"success": True}
    assert world.graph.call("GET", f"{PAGE}/subscribed_apps").json()["data"][0][
        "subscribed_fields"] == fields.split(",")
    assert error_of(world.graph.call("POST", f"{PAGE}/subscribed_apps",
                                     subscribed_fields="nope"))[1] == 100
    assert world.graph.call("GET", "me", fields="messaging_feature_status").json() == {
        "messaging_feature_status": {"hop_v2": False, "msgr_multi_app": True,
                                     "ig_multi_app": False}, "id": PAGE}


# Control endpoints ------------------------------------------------------------------------------


def test_control_endpoints_drive_a_standin_in_another_process(world: World) -> None:
    graph = world.graph

    event = graph.control("customer_says", {"psid": "8001", "text": "hola"}).json()["event"]
    assert event["message"]["text"] == "hola" and event["message"]["mid"].startswith("m_")
    assert graph.control("owner/8001").json() == {"owner": APP}
    assert graph.control("fail_next", {"n": 1, "status": 503}).status_code == 200
    assert graph.say(psid="8001").status_code == 503
    assert graph.say(psid="8001").status_code == 200
    assert len(graph.control("sent/8001?count=1").json()["data"]) == 1
    assert graph.control("agent_says", {"psid": "8001", "text": "hi"}).status_code == 200
    assert graph.control("owner/8001").json() == {"owner": INBOX}
    assert graph.control("agent_done", {"psid": "8001"}).status_code == 200
    assert graph.control("agent_done", {"psid": "8001"}).status_code == 409
    assert graph.control("config", {"latency": 0.01, "echoes": False}).json()["echoes"] is False
    assert graph.control("config", {"latency": "slow"}).status_code == 400
    assert graph.control("reset", {}).status_code == 200
    assert graph.control("sent/8001").json() == {"data": []}
    assert world.standin.latency == 0.01


def test_misuse_is_reported(world: World) -> None:
    with pytest.raises(StandinError):
        world.standin.agent_done(PSID)  # the Inbox does not own it
    with pytest.raises(StandinError):
        world.standin.customer_says(PSID)


def test_control_endpoints_drive_an_instagram_customer(world: World) -> None:
    graph = world.graph
    assert graph.control("instagram_users", {"igsid": "9901"}).status_code == 409  # none linked
    world.standin.link_instagram("1784001")
    assert graph.control("instagram_users", {"igsid": "9901", "username": "zoe"}).status_code == 200
    event = graph.control("customer_says", {"psid": "9901", "text": "hola"}).json()["event"]
    assert event["recipient"] == {"id": "1784001"}
    assert world.standin.webhooks[-1]["object"] == "instagram"
    seen = graph.control("customer_sees", {"igsid": "9901"}).json()["event"]
    assert "mid" in seen["read"]
