"""Fetching customers' files as an attacker would try it: hosts outside the
allow-list, plain http, redirects elsewhere, endless bodies, lying headers; and
the fetch job's record of each outcome, with retries while the URL may still work."""

from __future__ import annotations

import io

import pytest
import requests
import responses
from flask import Flask
from sqlmodel import Session

from attachments import jobs
from attachments.fetch import AllowList, FetchError, Gone, TooLarge, fetch
from attachments.models import MAX_BYTES, Attachment
from attachments.store import blob_store
from bot.models import Customer
from core.db import session_scope
from core.runtime import Runtime
from tests.support.files import pdf, png

CDN = AllowList.parse("fbcdn.net,fbsbx.com,http://127.0.0.1:8765")
PHOTO = "https://scontent.xx.fbcdn.net/v/t1/photo.jpg?oh=1&oe=2"


@pytest.mark.parametrize(("url", "allowed"), [
    (PHOTO, True),
    ("https://cdn.fbsbx.com/v/t59/invoice.pdf", True),
    ("http://scontent.xx.fbcdn.net/photo.jpg", False),  # plain http
    ("https://fbcdn.net.evil.example/photo.jpg", False),
    ("https://evilfbcdn.net/photo.jpg", False),
    ("https://user@scontent.xx.fbcdn.net/photo.jpg", False),
    ("https://scontent.xx.fbcdn.net:8443/photo.jpg", False),
    ("https://169.254.169.254/latest/meta-data", False),
    ("http://127.0.0.1:8765/_cdn/x/a.png", True),  # the stand-in, named exactly
    ("http://127.0.0.1:6379/", False),
    ("file:///etc/passwd", False),
    ("https://[::1", False),
])
def test_only_allowed_hosts_over_https_are_fetched(url: str, allowed: bool) -> None:
    assert CDN.allows(url) is allowed


@responses.activate
def test_a_redirect_to_another_host_is_refused_and_one_inside_the_cdn_followed() -> None:
    responses.get(PHOTO, status=302, headers={"Location": "http://169.254.169.254/secrets"})
    with pytest.raises(Gone, match="not an allowed attachment host"):
        fetch(PHOTO, allowed=CDN, max_bytes=1000, session=requests.Session())
    responses.replace(responses.GET, PHOTO, status=302,
                      headers={"Location": "https://scontent-2.xx.fbcdn.net/photo.jpg"})
    responses.get("https://scontent-2.xx.fbcdn.net/photo.jpg", body=b"abc")
    assert fetch(PHOTO, allowed=CDN, max_bytes=1000, session=requests.Session()) == b"abc"
    assert [c.request.url.split("?")[0] for c in responses.calls][-2:] == [
        PHOTO.split("?")[0], "https://scontent-2.xx.fbcdn.net/photo.jpg"]


@responses.activate
def test_the_size_cap_holds_while_streaming_without_a_content_length() -> None:
    class Endless(io.RawIOBase):
        served = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def,override]
            buffer[:] = b"x" * len(buffer)
            Endless.served += len(buffer)
            return len(buffer)

    responses.get(PHOTO, body=io.BufferedReader(Endless()))  # type: ignore[arg-type]
    with pytest.raises(TooLarge):
        fetch(PHOTO, allowed=CDN, max_bytes=300_000, session=requests.Session())
    assert Endless.served < 1_000_000  # it stopped reading soon after the cap


@responses.activate
def test_a_declared_size_over_the_cap_is_refused_before_reading() -> None:
    responses.get(PHOTO, body=b"x", headers={"Content-Length": str(MAX_BYTES + 1)},
                  auto_calculate_content_length=False)
    with pytest.raises(TooLarge):
        fetch(PHOTO, allowed=CDN, max_bytes=MAX_BYTES, session=requests.Session())


@responses.activate
@pytest.mark.parametrize(("status", "error"), [(403, Gone), (404, Gone), (500, FetchError),
                                               (503, FetchError), (429, FetchError)])
def test_a_dead_url_is_gone_and_a_server_error_worth_a_retry(status: int, error: type) -> None:
    responses.get(PHOTO, status=status)
    with pytest.raises(error) as raised:
        fetch(PHOTO, allowed=CDN, max_bytes=1000, session=requests.Session())
    assert (raised.type is Gone) == (error is Gone)


def _pending(rt: Runtime, url: str, key: str) -> int:
    with session_scope(rt.engine) as session:
        customer = Customer(page_id="1", psid=key)
        session.add(customer)
        session.flush()
        row = Attachment(key=key, customer_id=customer.id, kind="file", name="invoice.exe",  # type: ignore[arg-type]
                         source_url=url)
        session.add(row)
        session.flush()
        return row.id  # type: ignore[return-value]


def _row(rt: Runtime, attachment_id: int) -> Attachment:
    with Session(rt.engine) as session:
        row = session.get(Attachment, attachment_id)
        assert row is not None
        return row


@responses.activate
def test_the_job_keeps_the_bytes_typed_by_their_content_not_the_name_or_header(app: Flask) -> None:
    rt: Runtime = app.extensions["runtime"]
    body = pdf(5000)
    responses.get(PHOTO, body=body, content_type="text/html")
    attachment_id = _pending(rt, PHOTO, "a")
    assert jobs.fetch_attachment(attachment_id) == "stored"
    row = _row(rt, attachment_id)
    assert (row.status, row.content_type, row.name, row.size) == ("stored", "application/pdf",
                                                                  "invoice.pdf", len(body))
    with Session(rt.engine) as session:
        assert blob_store().get(session, attachment_id) == body
    assert jobs.fetch_attachment(attachment_id) == "skipped"  # a duplicate job does nothing


@responses.activate
def test_an_unreachable_file_is_retried_then_recorded_and_a_dead_one_at_once(app: Flask) -> None:
    rt: Runtime = app.extensions["runtime"]
    responses.get(PHOTO, status=502)
    flaky = _pending(rt, PHOTO, "b")
    for attempt in range(jobs.FETCH_RETRIES):
        with pytest.raises(FetchError):  # RQ retries it with backoff
            jobs.fetch_attachment(flaky)
        assert _row(rt, flaky).status == "pending" and _row(rt, flaky).attempts == attempt + 1
    assert jobs.fetch_attachment(flaky) == "unreachable"
    assert "gave up: HTTP 502" in (_row(rt, flaky).error or "")

    elsewhere = _pending(rt, "https://example.com/x.png", "c")
    assert jobs.fetch_attachment(elsewhere) == "unreachable"
    assert "not an allowed attachment host" in (_row(rt, elsewhere).error or "")


@responses.activate
def test_a_file_over_25_mib_is_recorded_as_too_large(app: Flask) -> None:
    rt: Runtime = app.extensions["runtime"]
    responses.get(PHOTO, body=png(), headers={"Content-Length": str(MAX_BYTES + 10)},
                  auto_calculate_content_length=False)
    attachment_id = _pending(rt, PHOTO, "d")
    assert jobs.fetch_attachment(attachment_id) == "too_large"
    assert _row(rt, attachment_id).size == MAX_BYTES + 10


@pytest.mark.parametrize(("name", "extension", "kept"), [
    ("../../etc/passwd", None, "passwd"),
    ("a\r\nContent-Type: text/x.png", "png", "x.png"),  # after the last slash only
    ("a\r\nb;c\"d.png", "png", "a_b_c_d.png"),  # no header injection
    ("factura marzo.pdf", "pdf", "factura marzo.pdf"),
    ("photo.html", "png", "photo.png"),  # named for what the bytes are
    ("noextension", "jpg", "noextension.jpg"),
    ("....", None, ""),
])
def test_names_are_kept_safe_and_follow_the_bytes(name: str, extension: str | None, kept: str) -> None:
    from attachments.sniff import clean_name, named_for

    cleaned = clean_name(name)
    assert (named_for(cleaned, extension) if cleaned else cleaned) == kept
