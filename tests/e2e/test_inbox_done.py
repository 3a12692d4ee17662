""""Done" in the Page Inbox, each way Meta may do it (doc §5.5, §11b: undocumented under
Conversation Routing): the thread passed back with a webhook, released without one, or
nothing at all. The bot must come back sensibly in all three."""

from __future__ import annotations

import time

import pytest

from messenger.standin import Standin
from messenger.standin.world import PAGE_INBOX_APP_ID as INBOX
from tests.e2e.conftest import StartService
from tests.e2e.test_handoff import RESUME, chips, heard, next_sends, settle, text_of
from tests.support import payloads as p
from tests.support.servers import wait_until

pytestmark = pytest.mark.e2e
RETURNED = "Thanks for chatting with our team"


def with_an_agent(fake: Standin, psid: str) -> None:
    fake.add_user(psid, first_name="Ana")
    fake.customer_says(psid, "hello")
    next_sends(fake, psid)
    settle(fake, psid)
    fake.customer_says(psid, "I want to talk to a human")
    wait_until(lambda: fake.owner(psid) == INBOX)
    fake.agent_says(psid, "Hi Ana, Sam here. All sorted.")
    settle(fake, psid)


def test_done_passes_the_thread_back_and_the_bot_greets_at_once(
        start_service: StartService, standin: tuple[Standin, str]) -> None:
    fake, _ = standin
    start_service()
    fake.done_mode = "pass"
    with_an_agent(fake, "3001")
    assert fake.agent_done("3001") is not None  # the pass_thread_control webhook
    back = next_sends(fake, "3001")[-1]
    # greeted at once, with the satisfaction question (SPEC "Satisfaction") as its chips
    assert RETURNED in text_of(back) and "rate the help" in text_of(back)
    assert chips(back)[0] == "⭐" and len(chips(back)) == 5
    assert fake.owner("3001") == p.APP_ID


def test_done_releases_silently_and_the_next_message_is_answered_by_the_bot(
        start_service: StartService, standin: tuple[Standin, str]) -> None:
    fake, _ = standin
    service = start_service()
    fake.done_mode = "release"
    with_an_agent(fake, "3002")
    sent = len(fake.sent("3002"))
    assert fake.agent_done("3002") is None and fake.owner("3002") is None  # idle, no webhook
    time.sleep(0.5)
    assert len(fake.sent("3002")) == sent  # nobody told the bot: it says nothing yet
    fake.customer_says("3002", "billing")  # Facebook gives the idle thread to the default app
    replies = next_sends(fake, "3002")
    settle(fake, "3002")
    texts = [text_of(body) for body in fake.sent("3002")[sent:]]
    assert replies and any("Billing" in text or "billing" in text for text in texts), texts
    assert heard(service, "3002", "customer", "billing")
    assert not [call for call in fake.calls if call[2] >= 400], "no call was refused"


def test_done_does_nothing_and_resume_chat_with_bot_still_works(
        start_service: StartService, standin: tuple[Standin, str]) -> None:
    fake, _ = standin
    service = start_service()
    fake.done_mode = "nothing"
    with_an_agent(fake, "3003")
    sent = len(fake.sent("3003"))
    assert fake.agent_done("3003") is None and fake.owner("3003") == INBOX
    fake.customer_says("3003", "hello? is anyone there")  # on standby: the bot listens only
    wait_until(lambda: heard(service, "3003", "customer", "hello? is anyone there"))
    time.sleep(0.5)
    assert len(fake.sent("3003")) == sent

    fake.customer_says("3003", postback=RESUME)  # the button the bot sent: its payload survives
    resumed = next_sends(fake, "3003")[-1]
    assert fake.owner("3003") == p.APP_ID and fake.control_calls("3003")[-1]["action"] == "take"
    assert "chatting with the bot again" in text_of(resumed)
    assert "Live Agent Request" in chips(resumed)
