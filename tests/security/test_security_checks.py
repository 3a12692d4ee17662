"""Security checks across the service: signatures, constant-time token checks,
body limits, tokens on the machine endpoints, and secrets kept out of logs.
(The ticket screen's own checks, CSRF, cookies, sign-in links, isolation and
headers, live in tests/unit/test_tickets_web.py; docs/RELIABILITY.md lists them.)"""

from __future__ import annotations

import ast
import hmac
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core import runtime
from tests.conftest import make_settings
from tests.reliability.desk import desk
from tests.support import payloads as p

ROOT = Path(__file__).resolve().parents[2]
INBOUND_TOKEN, ADMIN_TOKEN = "inbound-token-5be1f0aa", "admin-token-77c3e2d9"
SECRETS = [p.APP_SECRET, p.ACCESS_TOKEN, p.VERIFY_TOKEN, INBOUND_TOKEN, ADMIN_TOKEN,
           "test-secret-key-for-sessions"]


@pytest.fixture
def guarded(tmp_path: Path, redis_url: str, redis) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    from app import create_app

    app = create_app(make_settings(tmp_path, redis_url=redis_url, inbound_email_token=INBOUND_TOKEN,
                                   admin_api_token=ADMIN_TOKEN))
    yield app
    runtime.install(None)


# --- the webhook's signature ---------------------------------------------------------


def test_unsigned_forged_and_replayed_with_another_body_are_refused(client: FlaskClient) -> None:
    body, headers = p.signed(p.page(p.text("4100", "refund me")))
    signature = headers["X-Hub-Signature-256"]
    forged = [
        {},  # unsigned
        {"X-Hub-Signature-256": ""},
        {"X-Hub-Signature-256": "sha256="},
        {"X-Hub-Signature-256": signature.replace("sha256=", "sha1=")},
        {"X-Hub-Signature-256": signature.upper()},
        {"X-Hub-Signature-256": p.signed(body, secret="not-our-secret")[1]["X-Hub-Signature-256"]},
    ]
    for header in forged:
        assert client.post("/webhook", data=body, headers=header).status_code == 403, header
    for other in (body.replace(b"refund me", b"refund ME"), body + b" ", body[:-1]):
        assert client.post("/webhook", data=other, headers=headers).status_code == 403  # replay


def test_without_an_app_secret_every_post_is_refused(tmp_path: Path, redis_url: str, redis) -> None:  # type: ignore[no-untyped-def]
    from app import create_app

    app = create_app(make_settings(tmp_path, redis_url=redis_url, messenger_app_secret=None,
                                   messenger_verify_token=None))
    try:
        client = app.test_client()
        body, _ = p.signed(p.page(p.text("4101", "hi")))
        assert client.post("/webhook", data=body, headers=p.signed(body, "")[1]).status_code == 403
        verify = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
        assert client.get("/webhook", query_string=verify).status_code == 403
    finally:
        runtime.install(None)


# --- tokens are compared in constant time --------------------------------------------

SECRET_WORDS = ("token", "secret", "signature", "password", "proof")


def _names(node: ast.AST) -> list[str]:
    return [n.id.lower() for n in ast.walk(node) if isinstance(n, ast.Name)] + \
        [n.attr.lower() for n in ast.walk(node) if isinstance(n, ast.Attribute)]


def _plain_secret_comparisons(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Compare) or not any(isinstance(o, ast.Eq | ast.NotEq) for o in node.ops):
            continue
        sides = [node.left, *node.comparators]
        if any(isinstance(side, ast.Constant) for side in sides):
            continue  # `x == ""` or `x == 200`: no secret on both sides
        if any(word in name for side in sides for name in _names(side) for word in SECRET_WORDS):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return found


# Reviewed: not secrets (a file's stat "signature" in the flows store).
NOT_SECRETS = {"bot/flows/store.py: signature != self._signature"}


def test_no_secret_is_compared_with_a_plain_equality_anywhere() -> None:
    sources = [path for path in ROOT.rglob("*.py")
               if not {".venv", "tests", "bench"} & set(path.relative_to(ROOT).parts)]
    assert len(sources) > 30
    offenders = [line for path in sources for line in _plain_secret_comparisons(path)
                 if _without_line(line) not in NOT_SECRETS]
    assert offenders == [], "compare secrets with hmac.compare_digest:\n" + "\n".join(offenders)


def _without_line(found: str) -> str:
    path, _line, code = found.split(":", 2)
    return f"{path}:{code}"


def test_the_checker_above_would_catch_a_plain_comparison(tmp_path: Path) -> None:
    bad = ROOT / "tests" / "security" / "_bad_example.py"
    try:
        bad.write_text("def ok(token, settings):\n    return token == settings.admin_api_token\n")
        assert _plain_secret_comparisons(bad) == [
            "tests/security/_bad_example.py:2: token == settings.admin_api_token"]
    finally:
        bad.unlink()


def test_verify_and_bearer_tokens_go_through_compare_digest(
        guarded: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[bytes] = []
    real = hmac.compare_digest

    def spy(a, b):  # type: ignore[no-untyped-def]
        compared.extend((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    client = guarded.test_client()
    verify = {"hub.mode": "subscribe", "hub.verify_token": p.VERIFY_TOKEN, "hub.challenge": "42"}
    assert client.get("/webhook", query_string=verify).status_code == 200
    assert client.get("/api/tickets", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 200
    client.post("/email/inbound", data=b"Subject: x\r\n\r\nhi",
                headers={"Authorization": f"Bearer {INBOUND_TOKEN}", "Content-Type": "message/rfc822"})
    for token in (p.VERIFY_TOKEN, ADMIN_TOKEN, INBOUND_TOKEN):
        assert token.encode() in compared or token in compared, token


# --- machine endpoints refuse without their token ---------------------------------------


def test_admin_api_and_inbound_email_refuse_a_missing_or_wrong_token(guarded: Flask) -> None:
    client = guarded.test_client()
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": ADMIN_TOKEN},
                    {"Authorization": f"Basic {ADMIN_TOKEN}"}, {"Authorization": f"Bearer {INBOUND_TOKEN}"}):
        assert client.get("/api/tickets", headers=headers).status_code == 401, headers
        assert client.get("/api/tickets/1", headers=headers).status_code == 401, headers
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Bearer {ADMIN_TOKEN}"}):
        answer = client.post("/email/inbound", data=b"Subject: [#1]\r\n\r\nhi", headers=headers)
        assert answer.status_code == 401, headers


def test_without_configured_tokens_the_machine_endpoints_refuse_everyone(client: FlaskClient) -> None:
    assert client.get("/api/tickets", headers={"Authorization": "Bearer "}).status_code == 401
    assert client.get("/api/tickets", headers={"Authorization": "Bearer None"}).status_code == 401
    assert client.post("/email/inbound", data=b"x", headers={"Authorization": "Bearer "}).status_code == 401


# --- body size -----------------------------------------------------------------------------


def test_webhook_body_limit_is_one_mebibyte_exactly(client: FlaskClient) -> None:
    payload = p.page(p.text("4102", "", mid="m_limit", timestamp=1))
    payload["entry"][0]["messaging"][0]["message"]["text"] = "x" * (1024 * 1024 - len(p.encode(payload)))
    at_limit, headers = p.signed(payload)
    assert len(at_limit) == 1024 * 1024
    assert client.post("/webhook", data=at_limit, headers=headers).status_code == 200
    over, headers = p.signed(at_limit + b" ")
    assert client.post("/webhook", data=over, headers=headers).status_code == 413


def test_a_chunked_body_without_a_length_is_cut_off_at_the_limit(client: FlaskClient, redis) -> None:  # type: ignore[no-untyped-def]
    """gunicorn hands Flask a chunked body with `wsgi.input_terminated` and no length:
    at most 1 MiB is read, so its signature cannot match (403) or the read stops (413)."""
    body, headers = p.signed(p.page(p.text("4103", "y" * (2 * 1024 * 1024))))
    answer = client.post("/webhook", input_stream=io.BytesIO(body), headers=headers,
                         environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""})
    assert answer.status_code in (403, 413)
    assert redis.keys("sd:mb:*") == []


# --- secrets never reach the logs ----------------------------------------------------------


def test_no_secret_or_token_appears_in_any_log_line(tmp_path: Path, redis_url: str, redis) -> None:  # type: ignore[no-untyped-def]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)  # before create_app: configure_logging installs its filter here too
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        with desk(tmp_path, redis_url, inbound_email_token=INBOUND_TOKEN, admin_api_token=ADMIN_TOKEN) as d:
            client = d.client
            client.get("/webhook", query_string={"hub.mode": "subscribe", "hub.verify_token": "wrong",
                                                 "hub.challenge": "1"})
            client.get("/api/tickets", headers={"Authorization": "Bearer wrong"})
            d.fake.add_user("4200")
            d.fake.fail_next(2, status=500)
            d.fake.fail_next(1, code=190)  # Meta: invalid access token
            d.say("4200", "billing")
            d.work()
            logging.getLogger("bot.test").error("token in a message: %s", p.ACCESS_TOKEN)
            try:
                raise RuntimeError(f"failed with access_token={p.ACCESS_TOKEN}")
            except RuntimeError:
                logging.getLogger("bot.test").exception("an exception carrying the token")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    output = stream.getvalue()
    assert "graph POST /me/messages" in output  # the Graph failures were logged...
    for secret in SECRETS:
        assert secret not in output, f"{secret[:4]}... leaked into the logs"  # ...without secrets
