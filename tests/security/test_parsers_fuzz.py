"""The other two parsers of outside input: the inbound email endpoint and the
admin's flows file. Hostile input gets a clear answer or clear lines, never a
traceback or a 5xx. (tests/unit/test_flows.py fuzzes the loader's schema; here
the hostile YAML goes through the admin's own command, `flows check`.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import runtime
from tests.conftest import make_settings

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TOKEN = "inbound-token-5be1f0aa"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "message/rfc822"}


@pytest.fixture(scope="module")
def mail_app(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Flask]:
    from app import create_app

    app = create_app(make_settings(tmp_path_factory.mktemp("mail"), redis_url=redis_url,
                                   inbound_email_token=TOKEN))
    yield app
    runtime.install(None)


# --- inbound email ---------------------------------------------------------------------

HEADER_VALUES = st.sampled_from([
    "", "[#1] Re: your ticket", "=?utf-8?b?w7HDsW8=?=", "=?bogus?q?x?=", "<a@b>", "<<<>>>", "a" * 5000,
    "Re: [#999999999999999999999] x", "\u202e\u200f", "undisclosed-recipients:;", "\"x\" <@>",
]) | st.text(max_size=60).map(lambda s: s.replace("\r", " ").replace("\n", " "))
NAMES = st.sampled_from(["Subject", "From", "To", "In-Reply-To", "References", "Message-ID",
                         "Content-Type", "Content-Transfer-Encoding", "Auto-Submitted", "Date"])
BODIES = st.sampled_from([
    b"", b"hello", b"=C3=B1=\r\n", b"<html><div class=gmail_quote>old</div>new</html>",
    b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--", b"\xff\xfe\x00", b"x" * 100_000,
]) | st.binary(max_size=300)


@st.composite
def email(draw: st.DrawFn) -> bytes:
    headers = draw(st.lists(st.tuples(NAMES, HEADER_VALUES), max_size=8))
    lines = [f"{name}: {value}" for name, value in headers]
    if draw(st.booleans()):
        lines.append('Content-Type: multipart/mixed; boundary="b"')
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogatepass") + draw(BODIES)


@FUZZ
@given(raw=email() | st.binary(max_size=1000))
def test_any_inbound_email_gets_a_clear_answer_never_a_5xx(mail_app: Flask, raw: bytes) -> None:
    answer = mail_app.test_client().post("/email/inbound", data=raw, headers=HEADERS)
    assert answer.status_code in (200, 202, 400, 404), raw[:200]
    assert isinstance(answer.get_json(), dict)


def _nested(levels: int) -> bytes:
    head = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(levels))
    return f"From: a@example.com\r\nSubject: deep\r\n{head}Content-Type: text/plain\r\n\r\nhi\r\n".encode()


_MAIL_HEAD = b"From: Eva <eva@example.com>\r\nSubject: Re: [#1] x\r\n"  # kept once per shape (SHA-256)
_NEAR_LIMIT = 10 * 1024 * 1024 - 4096
HOSTILE_MAIL = {  # each answered 500 or took seconds of CPU in the web process before
    "80 KB of <a, HTML only": _MAIL_HEAD + b"Content-Type: text/html\r\n\r\n" + b"<a" * 40_000,
    "1 MB of <a in lines": _MAIL_HEAD + b"Content-Type: text/html\r\n\r\n" + b"<a<a<a<a\r\n" * 100_000,
    "<![ x": _MAIL_HEAD + b"Content-Type: text/html\r\n\r\n<![ x",
    "unclosed comment": _MAIL_HEAD + b"Content-Type: text/html\r\n\r\n" + b"<!--" * 200_000,
    "3,000 nested multiparts": _nested(3000),
    "nested comments in From": b"From: " + b"(" * 5000 + b"a@example.com\r\nSubject: x\r\n\r\nhi\r\n",
    "10 MiB of parts": (_MAIL_HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
                        + b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n" * 300_000)[:_NEAR_LIMIT],
    "10 MiB of header lines": (_MAIL_HEAD + b"X-A: b\r\n" * 1_300_000)[:_NEAR_LIMIT] + b"\r\nhi",
    "charset that is a codec": _MAIL_HEAD + b"Content-Type: text/plain; charset=zlib_codec\r\n\r\nx\x9c",
    "unknown charset": _MAIL_HEAD + b"Content-Type: text/plain; charset=x-nothing\r\n\r\nhi",
}


@pytest.mark.parametrize("name", HOSTILE_MAIL)
def test_hostile_mail_is_answered_within_2_s_without_a_5xx(mail_app: Flask, name: str) -> None:
    client = mail_app.test_client()
    started = time.perf_counter()
    answer = client.post("/email/inbound", data=HOSTILE_MAIL[name], headers=HEADERS)
    elapsed = time.perf_counter() - started
    assert answer.status_code in (200, 202, 400, 404), answer.get_data()[:300]
    assert isinstance(answer.get_json(), dict) and elapsed < 2.0, elapsed


def test_mail_over_10_mib_is_refused_with_413(mail_app: Flask) -> None:
    raw = _MAIL_HEAD + b"\r\n" + b"x" * (10 * 1024 * 1024)
    assert mail_app.test_client().post("/email/inbound", data=raw, headers=HEADERS).status_code == 413


# --- the flows file, through `flows check` -------------------------------------------------

HOSTILE_YAML = {
    "billion laughs": "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)),
    "deep nesting": "flows: " + "[" * 1000 + "]" * 1000 + "\n",
    "python object tag": "flows: !!python/object/apply:os.system ['echo pwned']\n",
    "unknown tag": "greeting: !secret {en: hi}\n",
    "huge scalar": "greeting: {en: " + "x" * 500_000 + "}\n",
    "merge of a list": "<<: [1, 2]\n",
    "NUL byte": "greeting: {en: \"a\\0b\"}\n\x00",
    "tabs": "flows:\n\tbilling: {}\n",
    "anchor to itself": "a: &a [*a]\n",
}


@pytest.mark.parametrize("name", HOSTILE_YAML)
def test_hostile_flows_files_are_refused_with_clear_lines(
        app: Flask, tmp_path: Path, name: str) -> None:
    path = tmp_path / "flows.yaml"
    path.write_text(HOSTILE_YAML[name], encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["flows", "check", str(path)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(
        result.exception, SystemExit)
    lines = result.output.splitlines()
    assert lines and all(line.startswith(f"{path}:") for line in lines), lines[:3]
    assert len(lines) < 200 and len(result.output) < 20_000  # a short, readable list
    assert "pwned" not in result.output
