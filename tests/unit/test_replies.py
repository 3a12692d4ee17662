"""Send API bodies built from the flows stay inside Messenger's limits."""

from __future__ import annotations

from pathlib import Path

from bot import replies
from bot.flows.loader import load_flows

FLOWS = load_flows(Path(__file__).resolve().parents[2] / "config" / "flows.yaml")


def test_long_texts_are_split_under_2000_at_word_boundaries() -> None:
    text = ("word " * 1000).strip()  # 4,999 characters
    chunks = replies.split_text(text)
    assert len(chunks) == 3 and all(len(c) < 2000 for c in chunks)
    assert " ".join(chunks) == text


def test_quick_replies_ride_on_the_last_chunk_only() -> None:
    messages = replies.text_messages("a " * 1500, [("Billing", "flow:billing")])
    assert "quick_replies" not in messages[0]
    assert messages[-1]["quick_replies"] == [
        {"content_type": "text", "title": "Billing", "payload": "flow:billing"}]


def test_menu_is_localised_and_within_limits() -> None:
    for locale in FLOWS.locales:
        menu = replies.menu_messages(FLOWS, locale)[-1]
        chips = menu["quick_replies"]
        assert 1 <= len(chips) <= 13
        assert all(len(c["title"]) <= 20 and len(c["payload"]) <= 1000 for c in chips)
    spanish = [c["title"] for c in replies.menu_messages(FLOWS, "es")[-1]["quick_replies"]]
    assert "Facturación" in spanish


def test_flow_buttons_become_a_button_template() -> None:
    billing = replies.flow_messages(FLOWS, FLOWS.flow("billing"), "en")
    templates = [m for m in billing if "attachment" in m]
    assert templates, "the billing flow links to the billing portal"
    payload = templates[0]["attachment"]["payload"]
    assert payload["template_type"] == "button" and 1 <= len(payload["buttons"]) <= 3
    assert len(payload["text"]) <= 640
