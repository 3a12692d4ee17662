"""GraphClient against a mocked Graph API (`responses`): URLs, bodies, errors, retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from unittest import mock

import pytest
import requests
import responses
from requests.adapters import HTTPAdapter
from responses import matchers

from messenger.errors import (
    BadRequest,
    GraphError,
    InvalidToken,
    MaybeBlocked,
    OutsideMessagingWindow,
    PermissionDenied,
    RateLimited,
    RecipientUnavailable,
    TagLimitReached,
    ThreadOwnedByOtherApp,
    TransientGraphError,
    error_from_response,
)
from messenger.graph import GraphClient

TOKEN = "PAGE-TOKEN-do-not-leak-7f3a9c"
APP_SECRET = "app-secret-4d1e"
PROOF = hmac.new(APP_SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
BASE = "https://graph.facebook.com/v27.0"
SEND = f"{BASE}/me/messages"
SENT = {"recipient_id": "123", "message_id": "m_1"}
BUC_HEADER = "X-Business-Use-Case-Usage"


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as rsps:
        yield rsps


def make_client(**kwargs: Any) -> tuple[GraphClient, list[float]]:
    sleeps: list[float] = []
    client = GraphClient(access_token=TOKEN, app_secret=APP_SECRET, sleep=sleeps.append, **kwargs)
    return client, sleeps


def meta_error(code: int | None, subcode: int | None = None, *, status: int = 400,
               message: str = "(#0) refused", headers: dict[str, str] | None = None) -> Any:
    """`responses.add` kwargs for a Graph error answer."""
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "fbtrace_id": "TR4CE"}
    if code is not None:
        error["code"] = code
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"json": {"error": error}, "status": status, "headers": headers or {}}


def sent_body(rsps: responses.RequestsMock, index: int = 0) -> dict[str, Any]:
    return json.loads(rsps.calls[index].request.body)


@pytest.mark.parametrize(("api_url", "url"), [
    ("https://graph.facebook.com", SEND),
    ("http://127.0.0.1:8999/", "http://127.0.0.1:8999/v27.0/me/messages"),
])
def test_sends_to_configured_api_url_with_the_default_version(mocked, api_url: str, url: str) -> None:
    mocked.post(url, json=SENT)
    assert make_client(api_url=api_url)[0].send_text_message("123", "hola") == SENT


def test_pymessenger_style_version_is_refused() -> None:
    with pytest.raises(ValueError, match="v27.0"):
        GraphClient(access_token=TOKEN, api_version="26.0")


@pytest.mark.parametrize("call", [
    lambda c: c.send_raw({"recipient": {"id": "123"}, "message": {"text": "hi"}}),
    lambda c: c.send_text_message("123", "hi"),
    lambda c: c.send_message("123", {"text": "hi"}),
    lambda c: c.send_action("123", "typing_on"),
    lambda c: c.send_button_message("123", "pick", []),  # inherited from pymessenger
])
def test_messaging_type_is_always_sent(mocked, call) -> None:
    mocked.post(SEND, json=SENT)
    call(make_client()[0])
    assert sent_body(mocked)["messaging_type"] == "RESPONSE"


def test_sender_action_goes_alone() -> None:
    with pytest.raises(ValueError):
        make_client()[0].send_action("123", "react")


def test_token_and_appsecret_proof_are_query_params(mocked) -> None:
    auth = {"access_token": TOKEN, "appsecret_proof": PROOF}
    mocked.post(SEND, json=SENT, match=[matchers.query_param_matcher(auth)])
    make_client()[0].send_text_message("123", "hola")


def test_no_proof_without_app_secret(mocked) -> None:
    mocked.post(SEND, json=SENT, match=[matchers.query_param_matcher({"access_token": TOKEN})])
    GraphClient(access_token=TOKEN).send_text_message("123", "hola")


def test_metadata_goes_into_the_message(mocked) -> None:
    mocked.post(SEND, json=SENT)
    make_client()[0].send_message("123", {"text": "hi"}, metadata="sd:7")
    assert sent_body(mocked)["message"] == {"text": "hi", "metadata": "sd:7"}


def test_human_agent_tag_is_sent(mocked) -> None:
    mocked.post(SEND, json=SENT)
    make_client()[0].send_message("123", {"text": "hi"}, messaging_type="MESSAGE_TAG",
                                  tag="HUMAN_AGENT")
    assert sent_body(mocked)["tag"] == "HUMAN_AGENT"


@pytest.mark.parametrize(("kwargs"), [
    {"messaging_type": "MESSAGE_TAG", "tag": "ACCOUNT_UPDATE"},
    {"messaging_type": "MESSAGE_TAG", "tag": "POST_PURCHASE_UPDATE"},
    {"messaging_type": "RESPONSE", "tag": "HUMAN_AGENT"},
    {"messaging_type": "MESSAGE_TAG"},
    {"metadata": "x" * 1000},
])
def test_refused_before_any_http_call(mocked, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        make_client()[0].send_message("123", {"text": "hi"}, **kwargs)
    assert len(mocked.calls) == 0


def test_500_then_200_delivers_once(mocked) -> None:
    mocked.post(SEND, **meta_error(1, status=500))
    mocked.post(SEND, json=SENT)
    client, sleeps = make_client()
    assert client.send_text_message("123", "hola") == SENT
    assert len(mocked.calls) == 2 and len(sleeps) == 1


@pytest.mark.parametrize("code", [4, 613, 80001])
def test_a_page_throttle_is_raised_at_once_for_the_page_wide_pause(mocked, code: int) -> None:
    """Calling on while throttled lengthens Meta's block: core.page_health pauses the Page."""
    mocked.post(SEND, **meta_error(code, 2534040 if code == 613 else None))
    client, sleeps = make_client()
    with pytest.raises(RateLimited):
        client.send_text_message("123", "hola")
    assert len(mocked.calls) == 1 and sleeps == []


def test_a_user_level_limit_then_success(mocked) -> None:
    mocked.post(SEND, **meta_error(17))
    mocked.post(SEND, json=SENT)
    client, sleeps = make_client()
    assert client.send_text_message("123", "hola") == SENT
    assert len(mocked.calls) == 2 and 0 < sleeps[0] <= 4.0


def test_429_waits_retry_after(mocked) -> None:
    mocked.post(SEND, status=429, headers={"Retry-After": "2"})
    mocked.post(SEND, json=SENT)
    client, sleeps = make_client()
    assert client.send_text_message("123", "hola") == SENT
    assert sleeps == [2.0]


def test_long_rate_limit_is_raised_at_once_for_the_queue(mocked) -> None:
    usage = {"99": [{"type": "messenger", "call_count": 100, "estimated_time_to_regain_access": 5}]}
    mocked.post(SEND, **meta_error(80006, headers={BUC_HEADER: json.dumps(usage)}))
    client, sleeps = make_client()
    with pytest.raises(RateLimited) as caught:
        client.send_text_message("123", "hola")
    assert caught.value.retry_after == 300 and sleeps == [] and len(mocked.calls) == 1
    assert client.last_usage == 100


@pytest.mark.parametrize(("error", "raised"), [
    (meta_error(17), RateLimited),
    (meta_error(32, status=403), RateLimited),
    (meta_error(None, status=503), TransientGraphError),
    ({"body": requests.ConnectionError("refused")}, TransientGraphError),
])
def test_retryable_errors_give_up_after_max_attempts(mocked, error: Any, raised: type) -> None:
    mocked.post(SEND, **error)
    client, sleeps = make_client(max_attempts=3)
    with pytest.raises(raised):
        client.send_text_message("123", "hola")
    assert len(mocked.calls) == 3 and len(sleeps) == 2
    assert all(0 < s <= 4.0 for s in sleeps)


def test_each_retry_and_the_give_up_are_logged_counting_the_first_attempt(mocked, caplog) -> None:
    caplog.set_level(logging.INFO, logger="messenger.graph")
    mocked.post(SEND, **meta_error(None, status=503))
    client, sleeps = make_client(max_attempts=3)
    with pytest.raises(TransientGraphError):
        client.send_text_message("123", "hola")
    lines = [r.getMessage() for r in caplog.records if "failed in" not in r.getMessage()]
    assert [line.split(" in ")[0] for line in lines] == [
        "graph POST /me/messages: retry 2 of 3", "graph POST /me/messages: retry 3 of 3",
        "graph POST /me/messages gave up: TransientGraphError status=503 code=None subcode=None "
        "fbtrace_id=TR4CE"]
    assert len(sleeps) == 2


def test_a_refusal_after_a_retry_is_raised_without_more_attempts(mocked) -> None:
    mocked.post(SEND, **meta_error(None, status=503))
    mocked.post(SEND, **meta_error(190, 463))
    client, sleeps = make_client()
    with pytest.raises(InvalidToken):
        client.send_text_message("123", "hola")
    assert len(mocked.calls) == 2 and len(sleeps) == 1


@pytest.mark.parametrize(("code", "subcode", "raised"), [
    (10, 2018300, ThreadOwnedByOtherApp),
    (10, 2018321, ThreadOwnedByOtherApp),
    (100, 2534037, ThreadOwnedByOtherApp),  # Instagram: not the thread owner
    (10, 2018278, OutsideMessagingWindow),
    (10, 2534022, OutsideMessagingWindow),
    (190, 463, InvalidToken),
    (551, None, RecipientUnavailable),
    (100, None, BadRequest),
])
def test_refusals_are_typed_and_never_retried(mocked, caplog, code, subcode, raised) -> None:
    mocked.post(SEND, **meta_error(code, subcode))
    client, sleeps = make_client()
    with pytest.raises(raised) as caught:
        client.send_text_message("123", "hola")
    assert len(mocked.calls) == 1 and sleeps == []
    assert (caught.value.code, caught.value.subcode, caught.value.fbtrace_id) == (
        code, subcode, "TR4CE")
    warning = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warning) == 1 and "TR4CE" in warning[0].getMessage()


def test_read_timeout_is_retried_and_flagged_as_possible_duplicate(mocked, caplog) -> None:
    mocked.post(SEND, body=requests.exceptions.ReadTimeout("Read timed out."))
    mocked.post(SEND, json=SENT)
    assert make_client()[0].send_text_message("123", "hola") == SENT
    assert len(mocked.calls) == 2 and "possible duplicate" in caplog.text


def test_connection_error_retry_is_not_a_duplicate(mocked, caplog) -> None:
    mocked.post(SEND, body=requests.ConnectionError("connection refused"))
    mocked.post(SEND, json=SENT)
    assert make_client()[0].send_text_message("123", "hola") == SENT
    assert "possible duplicate" not in caplog.text


def test_secrets_stay_out_of_errors_and_logs(mocked, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    leaky = f"Max retries exceeded with url: /v27.0/me/messages?access_token={TOKEN}&x=1"
    mocked.post(SEND, **meta_error(190, message=f"Bad token {TOKEN} proof {PROOF}"))
    mocked.post(SEND, body=requests.ConnectionError(leaky))
    client, _ = make_client(max_attempts=1)
    errors = [_raised(client.send_text_message, "123", "hola") for _ in range(2)]
    text = caplog.text + "".join("".join(traceback.format_exception(e)) for e in errors)
    assert TOKEN not in text and PROOF not in text and APP_SECRET not in text
    assert "Bad token [redacted]" in str(errors[0])


def _raised(call, *args: Any) -> GraphError:
    with pytest.raises(GraphError) as caught:
        call(*args)
    return caught.value


@pytest.mark.parametrize(("answer", "owner"), [
    ({"data": [{"thread_owner": {"app_id": "123", "expiration": 1761086400}}]}, "123"),
    ({"data": [{"thread_owner": {"app_id": 263902037430900}}]}, "263902037430900"),
    ({"data": []}, None),
])
def test_thread_owner(mocked, answer: dict[str, Any], owner: str | None) -> None:
    mocked.get(f"{BASE}/me/thread_owner", json=answer,
               match=[matchers.query_param_matcher({"recipient": "77"}, strict_match=False)])
    assert make_client()[0].thread_owner("77") == owner


def test_pass_thread_control_truncates_metadata(mocked) -> None:
    mocked.post(f"{BASE}/me/pass_thread_control", json={"success": True})
    make_client()[0].pass_thread_control("77", 263902037430900, metadata="t" * 1500)
    assert sent_body(mocked) == {"recipient": {"id": "77"}, "target_app_id": 263902037430900,
                                 "metadata": "t" * 1000}


def test_user_profile_raises_instead_of_returning_none(mocked) -> None:
    mocked.get(f"{BASE}/77", **meta_error(100, 2018218),
               match=[matchers.query_param_matcher({"fields": "first_name,locale"},
                                                   strict_match=False)])
    with pytest.raises(BadRequest):
        make_client()[0].get_user_profile("77")


def test_ids_cannot_change_the_path() -> None:
    with pytest.raises(ValueError):
        make_client()[0].get_user_profile("me/messages?x=")


def test_subscribe_app_lists_fields(mocked) -> None:
    wanted = {"subscribed_fields": "messages,messaging_postbacks"}
    mocked.post(f"{BASE}/555/subscribed_apps", json={"success": True},
                match=[matchers.query_param_matcher(wanted, strict_match=False)])
    make_client()[0].subscribe_app("555", ["messages", "messaging_postbacks"])


def test_usage_headers_set_last_usage(mocked) -> None:
    buc = {"9": [{"type": "pages", "call_count": 81}, {"type": "messenger", "call_count": 12}]}
    headers = {"X-App-Usage": '{"call_count": 28}', BUC_HEADER: json.dumps(buc)}
    mocked.post(SEND, json=SENT, headers=headers)
    mocked.post(SEND, json=SENT)
    client = make_client()[0]
    client.send_text_message("1", "a")
    client.send_text_message("1", "b")
    assert client.last_usage == 81


def test_one_pooled_session_serves_every_call_and_thread(mocked) -> None:
    mocked.post(SEND, json=SENT)
    client = make_client(pool_size=7)[0]
    original = HTTPAdapter.send  # responses' mock of the network
    with mock.patch.object(HTTPAdapter, "send", autospec=True,
                           side_effect=original) as spy, ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: client.send_text_message("1", str(i)), range(12)))
    assert results == [SENT] * 12
    adapter = client.session.get_adapter(SEND)
    assert [call.args[0] for call in spy.call_args_list] == [adapter] * 12
    assert adapter.poolmanager.connection_pool_kw["maxsize"] == 7


@pytest.mark.parametrize(("status", "code", "subcode", "raised"), [
    (400, 200, 1545041, RecipientUnavailable),
    (400, 10, 2018108, RecipientUnavailable),
    (400, 100, 2018001, RecipientUnavailable),
    (403, 230, None, RecipientUnavailable),
    (403, 10, 1893063, PermissionDenied),
    (403, 10, None, PermissionDenied),
    (400, 368, None, PermissionDenied),
    (500, 2, None, MaybeBlocked),
    (500, 1200, None, TransientGraphError),
    (400, 613, 2018338, TagLimitReached),
    (400, 10, 2018065, OutsideMessagingWindow),
    (400, 17, None, RateLimited),
    (429, None, None, RateLimited),
    (502, None, None, TransientGraphError),
    (404, None, None, BadRequest),
    (200, None, None, GraphError),
])
def test_error_mapping(status: int, code: int | None, subcode: int | None, raised: type) -> None:
    body = meta_error(code, subcode)["json"] if code else None
    assert type(error_from_response(status, body, {})) is raised
