"""The stand-in's Attachment Upload API checks uploads as Facebook does, and its
Send API takes only attachment ids it handed out; the Graph client uploads
through it and maps its refusals to the usual errors."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from messenger.errors import GraphError
from messenger.graph import GraphClient
from messenger.standin import Standin, create_standin_app, serve_standin
from messenger.standin.media import MAX_BYTES
from tests.support import payloads as p
from tests.support.files import pdf, png

VERSION = "v27.0"


@pytest.fixture
def fake() -> Iterator[Standin]:
    standin = Standin(page_id=p.PAGE_ID, app_id=p.APP_ID, app_secret=p.APP_SECRET,
                      access_token=p.ACCESS_TOKEN)
    yield standin
    standin.close()


@pytest.fixture
def graph(fake: Standin) -> FlaskClient:
    return create_standin_app(fake).test_client()


def upload(graph: FlaskClient, kind: str, data: bytes, mime: str, name: str = "f") -> dict:
    answer = graph.post(f"/{VERSION}/me/message_attachments", query_string={"access_token": p.ACCESS_TOKEN},
                        data={"message": json.dumps({"attachment": {"type": kind, "payload": {}}}),
                              "filedata": (io.BytesIO(data), name, mime)})
    return answer.get_json()


def test_an_upload_is_checked_as_facebook_checks_it(graph: FlaskClient, fake: Standin) -> None:
    ok = upload(graph, "file", pdf(100), "application/pdf", "a.pdf")
    assert fake.media.uploads[ok["attachment_id"]].filename == "a.pdf"
    assert upload(graph, "image", pdf(100), "application/pdf")["error"]["code"] == 100  # not an image
    assert upload(graph, "file", b"MZ", "application/x-msdownload")["error"]["code"] == 100
    assert upload(graph, "sticker", png(), "image/png")["error"]["code"] == 100
    assert len(fake.media.uploads) == 1


def test_the_send_api_takes_only_uploaded_attachment_ids(graph: FlaskClient, fake: Standin) -> None:
    fake.customer_says("11", "hi")  # opens the messaging window
    attachment_id = upload(graph, "image", png(), "image/png")["attachment_id"]
    for wanted, code in ((attachment_id, 200), ("123456789", 400)):
        answer = graph.post(f"/{VERSION}/me/messages", query_string={"access_token": p.ACCESS_TOKEN},
                            json={"recipient": {"id": "11"}, "messaging_type": "RESPONSE", "message": {
                                "attachment": {"type": "image", "payload": {"attachment_id": wanted}}}})
        assert answer.status_code == code
        assert code == 200 or answer.get_json()["error"]["code"] == 100


def test_the_graph_client_uploads_and_sees_refusals_as_permanent(fake: Standin) -> None:
    server, url = serve_standin(fake)
    try:
        client = GraphClient(access_token=p.ACCESS_TOKEN, app_secret=p.APP_SECRET, api_url=url,
                             api_version=VERSION)
        photo = png()
        attachment_id = client.upload_attachment(kind="image", data=photo, filename="p.png",
                                                 content_type="image/png")
        assert fake.media.uploads[attachment_id].data == photo
        with pytest.raises(GraphError) as refused:
            client.upload_attachment(kind="file", data=b"MZ", filename="x.exe",
                                     content_type="application/x-msdownload")
        assert refused.value.code == 100 and not refused.value.retryable
        with pytest.raises(GraphError) as too_large:
            client.upload_attachment(kind="file", data=b"x" * (MAX_BYTES + 1), filename="big.pdf",
                                     content_type="application/pdf")
        assert too_large.value.code == 100 and not too_large.value.retryable
        assert len(fake.media.uploads) == 1
    finally:
        server.shutdown()
