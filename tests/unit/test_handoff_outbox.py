"""Handover calls after commit, and what their results decide (bot.outbox follow-ups), against
the Graph API stand-in over HTTP: one event at a time through `handle_event`, no workers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.models import Customer, Outbox
from bot.processing import handle_event
from core import runtime
from core.mailbox import Queued
from core.runtime import Runtime, build_runtime
from handoff.jobs import agent_wait_over
from handoff.state import BOT, HUMAN, UNKNOWN
from messenger.events import kind_of
from messenger.standin import Standin, serve_standin
from messenger.standin.errors import GraphError as StandinGraphError
from messenger.standin.world import PAGE_INBOX_APP_ID as INBOX
from tests.conftest import make_settings
from tests.support import payloads as p

PSID = "77"


@dataclass
class Recorder:
    """A dispatcher that keeps jobs instead of running them."""

    jobs: list[tuple[Any, tuple[Any, ...], int | None]] = field(default_factory=list)

    def enqueue(self, func: Any, *args: Any, queue: str = "events", retries: int = 0,
                at_ms: int | None = None) -> None:
        self.jobs.append((func, args, at_ms))


@dataclass
class World:
    fake: Standin
    rt: Runtime

    def customer(self, text: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """The customer acts on Facebook, and our app handles what Facebook posts about it."""
        return self.act(lambda: self.fake.customer_says(PSID, text, **kwargs))

    def act(self, action: Callable[[], object]) -> dict[str, Any]:
        """Run `action` on Facebook's side, then handle each webhook event as a worker would."""
        seen = len(self.fake.webhooks)
        action()
        while seen < len(self.fake.webhooks):  # our own sends' echoes come in too
            entry = self.fake.webhooks[seen]["entry"][0]
            seen += 1
            for channel in ("messaging", "standby"):
                for event in entry.get(channel, []):
                    item = Queued(f"{p.PAGE_ID}:{PSID}", "m", channel, kind_of(event), event)
                    handle_event(self.rt, item)
        return self.state()

    def state(self) -> dict[str, Any]:
        with Session(self.rt.engine) as session:
            customer = session.exec(select(Customer).where(Customer.psid == PSID)).one()
            return dict(customer.state.get("handoff") or {"owner": BOT})

    def outbox(self) -> list[tuple[str, str]]:
        with Session(self.rt.engine) as session:
            rows = session.exec(select(Outbox).order_by(Outbox.id)).all()  # type: ignore[arg-type]
            return [(row.kind, row.status) for row in rows]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    fake = Standin(page_id=p.PAGE_ID, app_id=p.APP_ID, app_secret=p.APP_SECRET,
                   access_token=p.ACCESS_TOKEN)
    server, url = serve_standin(fake)
    rt = build_runtime(make_settings(tmp_path, graph_api_url=url))
    rt.dispatcher = Recorder()
    runtime.install(rt)
    fake.add_user(PSID, first_name="Ana")
    yield World(fake, rt)
    runtime.install(None)
    rt.engine.dispose()
    fake.close()
    server.shutdown()
    server.server_close()


def test_human_only_once_the_pass_succeeded_then_the_wait_is_scheduled(world: World) -> None:
    state = world.customer("agent")
    assert world.fake.owner(PSID) == INBOX
    assert state["owner"] == HUMAN and state["handover"] == 1
    assert world.outbox() == [("send", "sent"), ("pass_thread_control", "sent")]
    [(job, args, at_ms)] = world.rt.dispatcher.jobs  # type: ignore[attr-defined]
    assert job is agent_wait_over and args == (p.PAGE_ID, PSID, 1) and at_ms is not None


def test_a_refused_pass_keeps_the_bot_and_says_so(world: World) -> None:
    world.fake.add_user("other")
    world.customer("hello")
    world.fake.page.inbox_app_id = "999"  # the Page Inbox is not connected: the pass is refused
    state = world.customer("agent")
    assert state["owner"] == BOT
    assert "couldn't reach our team" in world.fake.sent(PSID)[-1]["message"]["text"]
    assert world.outbox()[-2:] == [("pass_thread_control", "failed"), ("send", "sent")]


def test_a_send_refused_for_ownership_is_recorded_and_facebook_asked(world: World) -> None:
    world.customer("account")  # its "Password reset" button is ours
    world.fake.agent_says(PSID, "Sam here")  # no webhook reaches us: the bot believes it owns
    sends = len(world.fake.sent(PSID))
    state = world.customer(postback="flow:password_reset")  # ours: delivered on messaging
    assert state["owner"] == HUMAN
    assert world.outbox()[-2:] == [("send", "failed"), ("thread_owner", "sent")]
    assert len(world.fake.sent(PSID)) == sends
    refused = [call for call in world.fake.calls if call[2] == 400]
    assert len(refused) == 2  # its mark_seen (bot.sender_actions: one attempt), then the send

    world.customer("are you there?")  # standby now
    assert [call for call in world.fake.calls if call[2] == 400] == refused, "never retried"


def test_a_refusal_drops_the_rest_of_the_turn_and_a_passing_one_is_forgotten(world: World) -> None:
    world.customer("hello")
    world.fake.fail_next(1, code=10, subcode=2018300)
    state = world.customer("billing")  # two messages: the first is refused
    assert world.outbox()[-3:] == [("send", "failed"), ("send", "skipped"),
                                   ("thread_owner", "sent")]
    assert state["owner"] == BOT and not state["greet"]


def test_unknown_owner_stays_unknown_when_thread_owner_fails(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(_psid: str | None) -> dict[str, Any]:
        raise StandinGraphError(200, "(#200) Permissions error")

    world.customer("hello")
    world.fake.fail_next(1, code=10, subcode=2018300)
    monkeypatch.setattr(world.fake.page, "thread_owner", refused)
    state = world.customer("billing")
    assert state["owner"] == UNKNOWN
    assert world.outbox()[-1] == ("thread_owner", "failed")

    state = world.customer("billing")  # on messaging: Facebook says the bot owns it
    assert state["owner"] == BOT
    assert "invoice or a refund" in world.fake.sent(PSID)[-1]["message"]["text"]


def test_resume_takes_control_then_answers(world: World) -> None:
    world.customer("agent")
    state = world.customer(postback="handoff:resume")
    assert world.fake.owner(PSID) == p.APP_ID and state["owner"] == BOT
    assert "chatting with the bot again" in world.fake.sent(PSID)[-1]["message"]["text"]


def test_refused_take_requests_control_and_drops_the_menu(world: World) -> None:
    world.fake.take_permission = False
    world.customer("agent")
    sends = len(world.fake.sent(PSID))
    state = world.customer(postback="handoff:resume")
    assert state["owner"] == HUMAN and state["requested"]
    assert world.fake.pending_request(PSID) is not None
    assert len(world.fake.sent(PSID)) == sends
    assert ("send", "skipped") in world.outbox()

    state = world.act(lambda: world.fake.agent_done(PSID))
    assert state["owner"] == BOT
    assert "chatting with the bot again" in world.fake.sent(PSID)[-1]["message"]["text"]


def test_without_a_default_app_the_customer_is_told(world: World) -> None:
    world.customer("agent")
    world.fake.expire_idle(PSID)
    world.fake.default_app = None  # zero-config: no take, but anyone may answer an idle thread
    world.customer(postback="handoff:resume")
    assert "asked our team to hand this chat back" in world.fake.sent(PSID)[-1]["message"]["text"]
    assert world.fake.control_calls(PSID)[-1]["action"] == "request"


def test_a_re_run_after_everything_went_out_calls_nothing_again(world: World) -> None:
    world.customer("agent")
    calls = list(world.fake.calls)
    event = world.fake.webhooks[0]["entry"][0]["messaging"][0]
    handle_event(world.rt, Queued(f"{p.PAGE_ID}:{PSID}", "m", "messaging", "message", event))
    assert world.fake.calls == calls
