"""The stand-in with several Pages: each token reaches its own Page, never another's customers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from messenger.errors import GraphError
from messenger.graph import GraphClient
from messenger.standin import Standin, serve_standin

APP, SECRET = "2002", "app-secret"


@pytest.fixture
def pages() -> Iterator[tuple[GraphClient, GraphClient, Standin, Standin]]:
    spain = Standin(page_id="1001", app_id=APP, app_secret=SECRET, access_token="token-es")
    france = Standin(page_id="1002", app_id=APP, app_secret=SECRET, access_token="token-fr")
    france.page_name = "Shop France"
    server, url = serve_standin(spain, others=[france])
    clients = [GraphClient(access_token=token, app_secret=SECRET, api_url=url, max_attempts=1)
               for token in ("token-es", "token-fr")]
    spain.customer_says("ana", "Hola")
    france.customer_says("zoe", "Bonjour")
    yield clients[0], clients[1], spain, france
    for client in clients:
        client.session.close()
    server.shutdown()
    spain.close()
    france.close()


def test_each_token_sends_to_its_own_pages_customers(pages) -> None:  # type: ignore[no-untyped-def]
    es, fr, spain, france = pages
    es.send_message("ana", {"text": "¡Hola Ana!"})
    fr.send_message("zoe", {"text": "Bonjour Zoé !"})
    assert [b["message"]["text"] for b in spain.sent("ana")] == ["¡Hola Ana!"]
    assert [b["message"]["text"] for b in france.sent("zoe")] == ["Bonjour Zoé !"]
    assert spain.sent("zoe") == [] and france.sent("ana") == []


def test_a_token_used_for_another_pages_customer_fails_as_facebook_does(pages) -> None:  # type: ignore[no-untyped-def]
    es, fr, spain, france = pages
    with pytest.raises(GraphError) as caught:
        es.send_message("zoe", {"text": "wrong Page"})
    assert (caught.value.code, caught.value.subcode) == (100, 2018001)
    assert "No matching user found" in str(caught.value)
    with pytest.raises(GraphError):
        fr.pass_thread_control("ana", target_app_id="263902037430900")
    assert france.sent("zoe") == [] and spain.control_calls("ana") == []


def test_me_answers_the_tokens_page(pages) -> None:  # type: ignore[no-untyped-def]
    es, fr, _spain, _france = pages
    assert fr.messaging_feature_status()["id"] == "1002"
    assert es.messaging_feature_status()["id"] == "1001"
    assert fr.whoami() == {"id": "1002", "name": "Shop France"}


def test_an_unknown_token_is_refused(pages) -> None:  # type: ignore[no-untyped-def]
    es, *_ = pages
    stranger = GraphClient(access_token="token-xx", api_url=es.graph_url.rsplit("/", 1)[0],
                           max_attempts=1)
    with pytest.raises(GraphError) as caught:
        stranger.send_message("ana", {"text": "hi"})
    assert caught.value.code == 190
    stranger.session.close()
