"""The bot's messages fitted to Instagram: nothing sent that Instagram would refuse."""

from __future__ import annotations

from bot import instagram
from bot.replies import button_message, postback_button, text_messages
from messenger.standin.instagram import instagram_send_body
from messenger.standin.validate import send_body


def accepted(message: dict) -> bool:
    body = {"recipient": {"id": "9001"}, "messaging_type": "RESPONSE", "message": message}
    return send_body(body) is None and instagram_send_body(body) is None


def test_long_text_is_split_under_instagrams_limit_with_the_choices_last() -> None:
    [message] = text_messages("word " * 380, [("Billing", "flow:billing")])
    assert not accepted(message)  # fine on Messenger (under 2000), refused on Instagram
    parts = instagram.adapt(message)
    assert len(parts) == 2 and all(accepted(part) for part in parts)
    assert "quick_replies" not in parts[0] and parts[1]["quick_replies"][0]["title"] == "Billing"
    assert " ".join(p["text"] for p in parts).split() == ("word " * 380).split()


def test_button_templates_and_short_text_go_as_they_are() -> None:
    button = button_message("Back to the bot?", [postback_button("Resume", "handoff:resume")])
    assert instagram.adapt(button) == [button] and accepted(button)
    [short] = text_messages("Hi", [("Billing", "flow:billing")])
    assert instagram.adapt(short) == [short]


def test_a_template_instagram_lacks_is_sent_as_text_with_its_buttons() -> None:
    media = {"attachment": {"type": "template", "payload": {"template_type": "media", "elements": [
        {"title": "Our store", "buttons": [{"type": "web_url", "title": "Open",
                                            "url": "https://example.com/s"}]}]}}}
    [text] = instagram.adapt(media)
    assert accepted(text) and "Open: https://example.com/s" in text["text"]


def test_the_greeting_name_is_the_username_on_instagram() -> None:
    assert instagram.greeting_name(None, "ana.silva") == "@ana.silva"
    assert instagram.greeting_name("Ana", None) == "Ana"
    assert instagram.greeting_name(None, None) == ""
    assert instagram.username_of({"username": "ana silva"}) is None
    assert instagram.username_of({"username": "ana.silva", "name": "Ana"}) == "ana.silva"


def test_instagram_takes_images_video_audio_and_pdf_only() -> None:
    assert instagram.takes_file("image", "image/png") and instagram.takes_file("file", "application/pdf")
    assert not instagram.takes_file("file", "application/zip")
    assert not instagram.takes_file("audio", "audio/mpeg")  # Instagram: aac, m4a, wav, mp4


def test_an_upload_for_instagram_says_so() -> None:
    import responses

    from messenger.graph import GraphClient

    client = GraphClient(access_token="PAGE-TOKEN-x", app_secret="secret", sleep=lambda _: None)
    url = "https://graph.facebook.com/v27.0/me/message_attachments"
    with responses.RequestsMock() as mocked:
        mocked.post(url, json={"attachment_id": "77"})
        assert client.upload_attachment(kind="image", data=b"\x89PNG", filename="a.png",
                                        content_type="image/png", platform="instagram") == "77"
        assert b'name="platform"\r\n\r\ninstagram' in mocked.calls[0].request.body
