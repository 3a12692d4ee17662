"""The stand-in's Instagram account: Instagram's rules and errors where they differ
from a Page's (Instagram Messaging docs; doc §11b)."""

from __future__ import annotations

from typing import Any

import pytest

from messenger.standin import instagram
from messenger.standin.errors import GraphError
from messenger.standin.instagram import INSTAGRAM_INBOX_APP_ID, InstagramAccount
from messenger.standin.people import customer_says

APP, IGSID, NOW = "2002", "9001", 1_760_000_000.0


@pytest.fixture
def account() -> InstagramAccount:
    account = InstagramAccount(account_id="17841400000000001", page_id="1001", app_id=APP)
    instagram.add_user(account, IGSID, name="Ana Silva", username="ana.silva")
    customer_says(account, NOW, IGSID, text="hola", quick_reply=None, postback=None,
                  postback_title=None, attachments=None)
    return account


def send(account: InstagramAccount, message: dict[str, Any], **extra: Any) -> Any:
    body = {"recipient": {"id": IGSID}, "messaging_type": "RESPONSE", "message": message, **extra}
    return account.send(body, NOW + 1)


def refusal(call: Any) -> tuple[int, int | None, str]:
    with pytest.raises(GraphError) as caught:
        call()
    return caught.value.code, caught.value.subcode, caught.value.message


def test_a_customer_message_is_addressed_to_the_instagram_account(
        account: InstagramAccount) -> None:
    [(event, standby)] = customer_says(account, NOW, IGSID, text="again", quick_reply=None,
                                       postback=None, postback_title=None, attachments=None)
    assert event["recipient"] == {"id": "17841400000000001"} and not standby
    assert account.webhook_object == "instagram"


def test_sends_within_instagram_limits_are_accepted_with_an_echo(account: InstagramAccount) -> None:
    answer, echo = send(account, {"text": "x" * 999, "quick_replies": [
        {"content_type": "text", "title": "Billing", "payload": "flow:billing"}]})
    assert answer["recipient_id"] == IGSID and echo is not None
    assert echo["message"]["is_echo"] is True and echo["sender"]["id"] == "17841400000000001"
    button = {"template_type": "button", "text": "Pick", "buttons": [
        {"type": "postback", "title": "Resume", "payload": "handoff:resume"}]}
    assert send(account, {"attachment": {"type": "template", "payload": button}})[0]


def test_what_instagram_refuses(account: InstagramAccount) -> None:
    assert refusal(lambda: send(account, {"text": "x" * 1000}))[0] == 100
    receipt = {"attachment": {"type": "template", "payload": {"template_type": "receipt"}}}
    assert "not supported on Instagram" in refusal(lambda: send(account, receipt))[2]
    tagged = refusal(lambda: send(account, {"text": "hi"}, messaging_type="MESSAGE_TAG",
                                  tag="CUSTOMER_FEEDBACK"))
    assert "HUMAN_AGENT" in tagged[2]
    assert send(account, {"text": "hi"}, messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")[0]


def test_a_send_while_the_instagram_inbox_owns_the_thread_is_100_2534037(
        account: InstagramAccount) -> None:
    account.pass_control({"recipient": {"id": IGSID}, "target_app_id": INSTAGRAM_INBOX_APP_ID},
                         NOW + 1)
    assert account.threads[IGSID].owner == INSTAGRAM_INBOX_APP_ID
    assert refusal(lambda: send(account, {"text": "still there?"}))[:2] == (100, 2534037)
    again = {"recipient": {"id": IGSID}, "target_app_id": INSTAGRAM_INBOX_APP_ID}
    assert refusal(lambda: account.pass_control(again, NOW + 2))[:2] == (100, 2534037)


def test_the_page_inbox_is_not_an_app_of_the_instagram_account(account: InstagramAccount) -> None:
    body = {"recipient": {"id": IGSID}, "target_app_id": "263902037430900"}
    assert "not an app connected" in refusal(lambda: account.pass_control(body, NOW + 1))[2]


def test_profiles_give_username_not_first_name_or_locale(account: InstagramAccount) -> None:
    assert instagram.user_profile(account, IGSID, ["name", "username"]) == {
        "name": "Ana Silva", "username": "ana.silva"}
    assert "nonexisting field (first_name)" in refusal(
        lambda: instagram.user_profile(account, IGSID, ["first_name", "locale"]))[2]


def test_its_profile_takes_ice_breakers_never_get_started_or_greeting(
        account: InstagramAccount) -> None:
    breakers = [{"locale": "default", "call_to_actions": [
        {"question": "Billing", "payload": "flow:billing"}]}]
    account.set_messenger_profile({"platform": "instagram", "ice_breakers": breakers})
    assert account.messenger_profile == {"ice_breakers": breakers}
    for key, value in (("get_started", {"payload": "GET_STARTED"}),
                       ("greeting", [{"locale": "default", "text": "Hi"}])):
        assert "not supported for platform instagram" in refusal(
            lambda k=key, v=value: account.set_messenger_profile({"platform": "instagram", k: v}))[2]


def test_seen_is_a_read_naming_a_message(account: InstagramAccount) -> None:
    [(event, standby)] = instagram.seen(account, NOW + 2, IGSID)
    assert set(event["read"]) == {"mid"} and not standby


# Over HTTP: the linked account behind its Page, reached with the Page's token ------------


@pytest.fixture
def served() -> Any:
    from messenger.graph import GraphClient
    from messenger.standin import Standin, serve_standin

    spain = Standin(page_id="1001", app_id=APP, app_secret="s", access_token="token-es")
    france = Standin(page_id="1002", app_id=APP, app_secret="s", access_token="token-fr")
    spain.link_instagram("1784001")
    spain.add_instagram_user(IGSID, username="ana.silva")
    spain.customer_says("ana", "Hola")  # a Messenger customer of the same Page
    server, url = serve_standin(spain, others=[france])
    clients = [GraphClient(access_token=token, app_secret="s", api_url=url, max_attempts=1)
               for token in ("token-es", "token-fr")]
    yield spain, *clients
    for client in clients:
        client.session.close()
    server.shutdown()
    spain.close()
    france.close()


def test_instagram_webhooks_name_the_account_and_the_page_token_answers(served: Any) -> None:
    from messenger.errors import RecipientUnavailable

    spain, es, fr = served
    spain.customer_says(IGSID, "hola")
    assert spain.webhooks[-1]["object"] == "instagram"
    assert spain.webhooks[-1]["entry"][0]["id"] == "1784001"
    assert es.get_user_profile(IGSID, ("name", "username"))["username"] == "ana.silva"
    es.send_message(IGSID, {"text": "Hi @ana.silva!"})
    echo = spain.webhooks[-1]
    assert echo["object"] == "instagram" and echo["entry"][0]["messaging"][0]["message"]["is_echo"]
    assert [b["message"]["text"] for b in spain.sent(IGSID)] == ["Hi @ana.silva!"]
    with pytest.raises(RecipientUnavailable):  # another Page's token: no such user
        fr.send_message(IGSID, {"text": "wrong Page"})
    seen = spain.customer_sees(IGSID)
    assert "mid" in seen["read"] and spain.webhooks[-1]["object"] == "instagram"


def test_handover_to_the_instagram_inbox_then_sends_fail_with_2534037(served: Any) -> None:
    from messenger.errors import ThreadOwnedByOtherApp

    spain, es, _ = served
    spain.customer_says(IGSID, "agent")
    es.pass_thread_control(IGSID, target_app_id=INSTAGRAM_INBOX_APP_ID)
    assert spain.owner(IGSID) == INSTAGRAM_INBOX_APP_ID
    assert es.thread_owner(IGSID) == INSTAGRAM_INBOX_APP_ID
    with pytest.raises(ThreadOwnedByOtherApp) as caught:
        es.send_message(IGSID, {"text": "still the bot"})
    assert (caught.value.code, caught.value.subcode) == (100, 2534037)
    es.pass_thread_control("ana", target_app_id="263902037430900")  # the Page's own inbox
    assert spain.owner("ana") == "263902037430900"


def test_the_instagram_profile_is_set_apart_from_the_pages(served: Any) -> None:
    from messenger.errors import BadRequest

    spain, es, _ = served
    breakers = [{"locale": "default", "call_to_actions": [
        {"question": "Billing", "payload": "flow:billing"}]}]
    es.set_messenger_profile({"platform": "instagram", "ice_breakers": breakers},
                             platform="instagram")
    assert spain.instagram.messenger_profile == {"ice_breakers": breakers}
    assert spain.messenger_profile == {}
    with pytest.raises(BadRequest):
        es.set_messenger_profile({"greeting": [{"locale": "default", "text": "Hi"}]},
                                 platform="instagram")


def test_an_instagram_upload_takes_only_instagrams_file_types(served: Any) -> None:
    from messenger.errors import BadRequest
    from tests.support.files import png

    _, es, _ = served
    assert es.upload_attachment(kind="image", data=png(), filename="a.png",
                                content_type="image/png", platform="instagram")
    with pytest.raises(BadRequest):
        es.upload_attachment(kind="file", data=b"PK\x03\x04", filename="a.zip",
                             content_type="application/zip", platform="instagram")
    assert es.upload_attachment(kind="file", data=b"PK\x03\x04", filename="a.zip",
                                content_type="application/zip")  # Messenger takes it
