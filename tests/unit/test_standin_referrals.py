"""The stand-in's m.me link with a ref: Get Started carrying the referral on a new
thread (only when the Page has a Get Started button), the referral event on an open one."""

from __future__ import annotations

import pytest

from messenger.standin import Standin
from messenger.standin.errors import StandinError


@pytest.fixture
def fake() -> Standin:
    standin = Standin(page_id="1001", app_id="2002", app_secret="s", access_token="t")
    standin.graph(lambda page, now: page.set_messenger_profile({"get_started": {"payload": "GO"}}))
    return standin


def test_a_new_thread_sends_get_started_with_the_referral(fake: Standin) -> None:
    fake.add_user("7")
    event = fake.customer_opens_link("7", "my-tickets")
    assert event["postback"]["payload"] == "GO"
    assert event["postback"]["referral"] == {"ref": "my-tickets", "source": "SHORTLINK",
                                             "type": "OPEN_THREAD"}
    assert fake.webhooks[-1]["object"] == "page"


def test_an_open_thread_gets_the_referral_event(fake: Standin) -> None:
    fake.customer_says("8", "hi")
    event = fake.customer_opens_link("8", "my-tickets")
    assert "postback" not in event and event["referral"]["ref"] == "my-tickets"


def test_without_get_started_the_link_opens_with_the_referral_event() -> None:
    bare = Standin(page_id="1001", app_id="2002", app_secret="s", access_token="t")
    bare.add_user("9")
    assert bare.customer_opens_link("9", "x")["referral"]["ref"] == "x"
    with pytest.raises(StandinError):
        bare.customer_opens_link("nobody", "x")


def test_an_instagram_user_gets_the_referral_event(fake: Standin) -> None:
    fake.link_instagram("1784001")
    fake.add_instagram_user("9001")
    event = fake.customer_opens_link("9001", "my-tickets")
    assert event["referral"]["ref"] == "my-tickets" and fake.webhooks[-1]["object"] == "instagram"
