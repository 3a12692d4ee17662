"""The webhook's contract with Meta: verify, refuse bad input, queue and ack."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import IO, Any

from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue
from werkzeug.test import EnvironBuilder, run_wsgi_app

from app import create_app
from core import runtime
from tests.conftest import make_settings
from tests.support import payloads as p
from tests.support.servers import free_port


def post(client: FlaskClient, body: bytes, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post("/webhook", data=body, headers=headers)


def mailbox(redis: Redis, psid: str) -> list[dict]:
    members = redis.zrange(f"sd:mb:{p.PAGE_ID}:{psid}", 0, -1)
    return [json.loads(m.decode().split("|", 1)[1]) for m in members]


def test_verification_echoes_the_challenge(client: FlaskClient) -> None:
    ok = client.get("/webhook", query_string={
        "hub.mode": "subscribe", "hub.verify_token": p.VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "1158201444"


def test_verification_refuses_a_wrong_token_or_mode(client: FlaskClient) -> None:
    wrong = client.get("/webhook", query_string={
        "hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"})
    mode = client.get("/webhook", query_string={
        "hub.mode": "unsubscribe", "hub.verify_token": p.VERIFY_TOKEN, "hub.challenge": "1"})
    assert wrong.status_code == 403 and mode.status_code == 403


def test_missing_or_wrong_signature_is_refused_and_nothing_queued(
        client: FlaskClient, redis: Redis) -> None:
    body, headers = p.signed(p.page(p.text("111", "hi")))
    assert post(client, body, {"Content-Type": "application/json"}).status_code == 403
    forged, _ = p.signed(p.page(p.text("111", "hi")), secret="someone-else")
    assert post(client, forged, {"X-Hub-Signature-256": "sha256=" + "0" * 64}).status_code == 403
    other_body = body.replace(b"hi", b"yo")  # replayed signature, other body
    assert post(client, other_body, headers).status_code == 403
    assert mailbox(redis, "111") == []


def test_signature_is_checked_on_raw_bytes_with_escaped_unicode(
        client: FlaskClient, redis: Redis) -> None:
    body, headers = p.signed(p.page(p.text("112", "¿Dónde está mi pedido? 🚚")))
    assert b"\\u00bf" in body  # Meta escapes non-ASCII before signing
    assert post(client, body, headers).status_code == 200
    assert mailbox(redis, "112")[0]["event"]["message"]["text"] == "¿Dónde está mi pedido? 🚚"


def test_body_over_one_mebibyte_is_413(client: FlaskClient) -> None:
    body, headers = p.signed(p.page(p.text("113", "x" * (1024 * 1024))))
    response = post(client, body, headers)
    assert response.status_code == 413
    assert response.get_json() == {"error": "the body is over 1048576 bytes"}


def post_streamed(app: Flask, stream: IO[bytes], headers: dict[str, str]) -> tuple[int, Any]:
    """A POST with no Content-Length (chunked), handed on the way gunicorn does."""
    environ = EnvironBuilder("/webhook", method="POST", headers=headers).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": stream, "wsgi.input_terminated": True})
    body, status, _headers = run_wsgi_app(app.wsgi_app, environ, buffered=True)
    return int(status.split()[0]), json.loads(b"".join(body))


def test_a_chunked_body_is_read_and_limited_too(app: Flask, redis: Redis) -> None:
    small, headers = p.signed(p.page(p.text("114", "chunked")))
    assert post_streamed(app, io.BytesIO(small), headers) == (200, {"queued": 1})
    assert mailbox(redis, "114")[0]["event"]["message"]["text"] == "chunked"
    large, headers = p.signed(p.page(p.text("115", "x" * (1024 * 1024))))
    assert post_streamed(app, io.BytesIO(large), headers) == (
        413, {"error": "the body is over 1048576 bytes"})
    assert mailbox(redis, "115") == []
    exact = p.page(p.text("117", ""))
    padding = 1024 * 1024 - len(p.signed(exact)[0])
    exact["entry"][0]["messaging"][0]["message"]["text"] = "y" * padding
    body, headers = p.signed(exact)
    assert len(body) == 1024 * 1024
    assert post_streamed(app, io.BytesIO(body), headers) == (200, {"queued": 1})


class _ResetMidBody(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        raise ConnectionResetError("connection reset by peer")


def test_a_client_gone_mid_body_is_400_and_nothing_queued(app: Flask, redis: Redis) -> None:
    _body, headers = p.signed(p.page(p.text("116", "cut")))
    assert post_streamed(app, _ResetMidBody(), headers) == (
        400, {"error": "the body ended early: the client went away"})
    assert mailbox(redis, "116") == []


def test_other_methods_and_paths_still_reach_the_app(client: FlaskClient) -> None:
    assert client.put("/webhook").status_code == 405
    assert client.post("/webhook/").status_code == 404


def test_signed_but_not_a_messenger_payload_is_400(client: FlaskClient) -> None:
    for junk in (b"not json", b"[1,2]", b'{"object":"page"}', b'{"object":"page","entry":[1]}'):
        body, headers = p.signed(junk)
        response = post(client, body, headers)
        assert response.status_code == 400, junk
        assert "not a Messenger webhook payload" in response.get_json()["error"]


def test_a_batch_of_entries_and_events_is_queued_per_customer_in_order(
        client: FlaskClient, redis: Redis) -> None:
    payload = p.page(p.text("201", "second", timestamp=2000), p.text("202", "hello", timestamp=1500))
    payload["entry"].append(p.page(p.text("201", "first", timestamp=1000))["entry"][0])
    body, headers = p.signed(payload)
    response = post(client, body, headers)
    assert response.status_code == 200 and response.get_json() == {"queued": 3}
    texts = [e["event"]["message"]["text"] for e in mailbox(redis, "201")]
    assert texts == ["first", "second"]
    assert [e["event"]["message"]["text"] for e in mailbox(redis, "202")] == ["hello"]
    assert Queue("events", connection=redis).count == 1  # one drain job, not one per event


def test_redelivered_events_are_dropped(client: FlaskClient, redis: Redis) -> None:
    body, headers = p.signed(p.page(p.text("301", "once", mid="m_dup"), p.postback("301", "X",
                                    mid="m_pb_dup", timestamp=5)))
    assert post(client, body, headers).get_json() == {"queued": 2}
    assert post(client, body, headers).get_json() == {"queued": 0}
    assert len(mailbox(redis, "301")) == 2


def test_reads_and_deliveries_are_accepted_and_not_queued(
        client: FlaskClient, redis: Redis) -> None:
    delivery = {"sender": {"id": "401"}, "recipient": {"id": p.PAGE_ID}, "timestamp": 1,
                "delivery": {"watermark": 1}}
    body, headers = p.signed(p.page(p.read("401"), delivery))
    assert post(client, body, headers).get_json() == {"queued": 0}
    assert mailbox(redis, "401") == []


def test_echoes_are_queued_under_the_customer_not_the_page(
        client: FlaskClient, redis: Redis) -> None:
    body, headers = p.signed(p.page(p.echo("501", "from the inbox", "263902037430900")))
    assert post(client, body, headers).status_code == 200
    assert mailbox(redis, "501")[0]["kind"] == "echo"


def test_other_objects_are_acknowledged_without_work(client: FlaskClient, redis: Redis) -> None:
    other = {**p.page(p.text("170", "not for the desk")), "object": "whatsapp_business_account"}
    body, headers = p.signed(other)
    assert post(client, body, headers).get_json() == {"queued": 0}
    assert mailbox(redis, "170") == []


def test_redis_unreachable_answers_503_so_meta_redelivers(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    flask_app = create_app(settings)
    try:
        body, headers = p.signed(p.page(p.text("601", "hello?")))
        response = flask_app.test_client().post("/webhook", data=body, headers=headers)
        assert response.status_code == 503
        health = flask_app.test_client().get("/healthz")
        assert health.status_code == 503 and health.get_json()["redis"].startswith("down")
    finally:
        runtime.install(None)
