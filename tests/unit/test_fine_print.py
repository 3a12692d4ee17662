"""Meta's fine print (issue 17): error codes, string timestamps, referrals, stickers, likes,
reactions, edits and MESSENGER_APP_ID. Graph errors against `responses`; conversations
against the Graph stand-in over HTTP, one event at a time through `handle_event`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
from sqlmodel import Session, select

from bot.models import Customer, Message, Outbox
from bot.processing import handle_event, run
from bot.retry_budget import CODE_2_RUNS
from core import runtime
from core.mailbox import Queued
from core.runtime import Runtime, build_runtime
from messenger.errors import MaybeBlocked, OutsideMessagingWindow, TagLimitReached
from messenger.events import kind_of, parse_payload
from messenger.graph import GraphClient
from messenger.standin import Standin, serve_standin
from tests.conftest import make_settings
from tests.support import payloads as p
from tickets.window import Delivery, delivery_for

PSID = "88"
SEND = "https://graph.facebook.com/v27.0/me/messages"
LIKE = "369239263222822"
INBOX_ID = "263902037430900"  # the Page Inbox


def meta_error(code: int, subcode: int | None = None, status: int = 400) -> dict[str, Any]:
    error: dict[str, Any] = {"message": "(#0) refused", "code": code, "fbtrace_id": "TR4CE"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"json": {"error": error}, "status": status}


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as rsps:
        yield rsps


def client() -> GraphClient:
    return GraphClient(access_token=p.ACCESS_TOKEN, sleep=lambda _s: None)


def test_error_1200_temporary_send_failure_is_retried_not_dropped(mocked) -> None:
    mocked.post(SEND, **meta_error(1200, status=500))
    mocked.post(SEND, json={"recipient_id": "1", "message_id": "m_1"})
    assert client().send_text_message("1", "hola")["message_id"] == "m_1"
    assert len(mocked.calls) == 2


def test_send_fewer_tagged_messages_is_refused_once_and_named_at_warning(mocked, caplog) -> None:
    mocked.post(SEND, **meta_error(613, 2018338))
    with pytest.raises(TagLimitReached) as caught:
        client().send_text_message("1", "hola")
    assert not caught.value.retryable and len(mocked.calls) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("TagLimitReached" in line and "2018338" in line for line in warnings)


def test_the_older_outside_the_window_code_is_outside_the_window(mocked) -> None:
    mocked.post(SEND, **meta_error(10, 2018065))
    with pytest.raises(OutsideMessagingWindow):
        client().send_text_message("1", "hola")
    assert len(mocked.calls) == 1


@pytest.mark.parametrize(("sent", "read"), [
    ("1527459824", 1_527_459_824_000),  # Meta's February 2026 sample: seconds, as a string
    ("1761000000000", 1_761_000_000_000), (" 1761000000000", 1_761_000_000_000)])
def test_a_timestamp_sent_as_a_string_keeps_the_event(sent: str, read: int) -> None:
    event = p.postback("5", "GET_STARTED") | {"timestamp": sent}
    _object, events = parse_payload(p.page(event))
    assert [(e.psid, e.timestamp) for e in events] == [("5", read)]
    assert f'"timestamp":{read}' in events[0].body


@pytest.mark.parametrize("sent", ["soon", "-5", "1.5e12", "", "١٢٣"])
def test_a_timestamp_string_that_is_no_number_still_drops_the_event(sent: str) -> None:
    assert parse_payload(p.page(p.text("5", "hi") | {"timestamp": sent}))[1] == []


# --- Conversations, against the stand-in ------------------------------------------------


@dataclass
class World:
    fake: Standin
    rt: Runtime

    def act(self, action: Callable[[], object]) -> None:
        """Run `action` on Facebook's side, then handle each webhook event as a worker would."""
        seen = len(self.fake.webhooks)
        action()
        self.fake.drain_deliveries()
        while seen < len(self.fake.webhooks):
            entry = self.fake.webhooks[seen]["entry"][0]
            seen += 1
            for channel in ("messaging", "standby"):
                for event in entry.get(channel, []):
                    handle_event(self.rt, Queued(f"{p.PAGE_ID}:{PSID}", "m", channel,
                                                 kind_of(event), event))

    def says(self, text: str | None = None, **kwargs: Any) -> None:
        self.act(lambda: self.fake.customer_says(PSID, text, **kwargs))

    def transcript(self) -> list[tuple[str, str, str | None, str | None]]:
        with Session(self.rt.engine) as session:
            rows = session.exec(select(Message).order_by(Message.id)).all()  # type: ignore[arg-type]
            return [(row.direction, row.kind, row.text, row.payload) for row in rows]

    def customer(self) -> Customer:
        with Session(self.rt.engine) as session:
            return session.exec(select(Customer).where(Customer.psid == PSID)).one()

    def texts(self) -> list[str]:
        return [body["message"].get("text", "") for body in self.fake.sent(PSID)]


@pytest.fixture
def quiet_flows() -> bool:
    """Asked for by a test: the admin emptied the English sticker line."""
    return True


@pytest.fixture
def world(tmp_path: Path, redis_url: str, redis, request: pytest.FixtureRequest) -> Iterator[World]:
    fake = Standin(page_id=p.PAGE_ID, app_id=p.APP_ID, app_secret=p.APP_SECRET,
                   access_token=p.ACCESS_TOKEN, echoes=False)
    server, url = serve_standin(fake)
    settings = make_settings(tmp_path, graph_api_url=url, redis_url=redis_url)
    if "quiet_flows" in request.fixturenames:
        quiet = tmp_path / "quiet.yaml"
        quiet.write_text(Path(settings.flows_path).read_text().replace(
            '  en: "👍 Glad to help! Write or pick a topic whenever you need anything."', '  en: ""'))
        settings = settings.with_(flows_path=str(quiet))
    rt = build_runtime(settings)
    runtime.install(rt)
    fake.add_user(PSID, first_name="Ana")
    yield World(fake, rt)
    runtime.install(None)
    rt.engine.dispose()
    fake.close()
    server.shutdown()
    server.server_close()


STICKERS = {
    "since Aug 2026": [{"type": "sticker", "payload": {"sticker_id": LIKE,
                                                       "url": "https://scontent.example/l.png"}}],
    "before": [{"type": "image", "payload": {"sticker_id": int(LIKE),
                                             "url": "https://scontent.example/l.png"}}],
    "other sticker": [{"type": "sticker", "payload": {"sticker_id": "126361874215276"}}],
}


@pytest.mark.parametrize("shape", list(STICKERS))
def test_a_like_or_sticker_gets_a_kind_line_never_the_did_not_understand_menu(
        world: World, shape: str) -> None:
    world.says("hello")
    sent = len(world.fake.sent(PSID))
    world.says(attachments=STICKERS[shape])
    [reply] = world.fake.sent(PSID)[sent:]
    assert reply["message"]["text"].startswith("👍 Glad to help!")
    assert "quick_replies" not in reply["message"]
    assert not any("didn't get that" in text for text in world.texts())
    said = "[sticker]" if shape == "other sticker" else "[like]"
    assert ("in", "sticker", said, STICKERS[shape][0]["payload"]["sticker_id"].__str__()) in \
        world.transcript()


def test_a_like_as_the_first_word_is_greeted(world: World) -> None:
    world.says(attachments=STICKERS["since Aug 2026"])
    [greeting] = world.fake.sent(PSID)
    assert greeting["message"]["text"].startswith("Hi Ana!") and greeting["message"]["quick_replies"]


def test_a_sticker_is_quiet_when_the_admin_leaves_the_line_empty(quiet_flows: bool,
                                                                  world: World) -> None:
    world.says("hello")
    sent = len(world.fake.sent(PSID))
    world.says(attachments=STICKERS["since Aug 2026"])
    assert len(world.fake.sent(PSID)) == sent
    assert world.transcript()[-1][:3] == ("in", "sticker", "[like]")


def test_reactions_and_edits_go_into_the_transcript_unanswered(world: World) -> None:
    world.says("hello")
    sent = len(world.fake.sent(PSID))
    bot_mid = "m_bot_1"
    base = {"sender": {"id": PSID}, "recipient": {"id": p.PAGE_ID}}
    events = [
        {**base, "timestamp": p.now_ms(), "reaction": {
            "reaction": "love", "emoji": "\u2764\ufe0f", "action": "react", "mid": bot_mid}},
        {**base, "timestamp": p.now_ms() + 1, "reaction": {
            "reaction": "love", "emoji": "\u2764\ufe0f", "action": "unreact", "mid": bot_mid}},
        {**base, "timestamp": p.now_ms() + 2, "message_edit": {
            "mid": "m_cust_1", "text": "hello again", "num_edit": 1}},
    ]
    for event in events:
        handle_event(world.rt, Queued(f"{p.PAGE_ID}:{PSID}", "m", "messaging",
                                      kind_of(event), event))
    assert len(world.fake.sent(PSID)) == sent
    assert world.transcript()[-3:] == [
        ("in", "reaction", "\u2764\ufe0f", f"react:{bot_mid}"),
        ("in", "reaction_removed", "\u2764\ufe0f", f"unreact:{bot_mid}"),
        ("in", "edit", "hello again", "edit 1 of m_cust_1")]


def test_an_m_me_referral_into_an_existing_thread_opens_the_window(world: World) -> None:
    world.says("hello")
    with Session(world.rt.engine) as session:  # the customer's last message: 25 hours ago
        customer = session.exec(select(Customer).where(Customer.psid == PSID)).one()
        customer.last_inbound_at = datetime.now(UTC) - timedelta(hours=25)
        session.add(customer)
        session.commit()
    assert delivery_for(world.customer().last_inbound_at, datetime.now(UTC)) != Delivery.RESPONSE
    world.act(lambda: world.fake.customer_follows_link(PSID, "support"))
    assert delivery_for(world.customer().last_inbound_at, datetime.now(UTC)) == Delivery.RESPONSE


def test_a_person_who_blocked_the_page_is_tried_a_few_times_then_recorded_failed(
        world: World) -> None:
    world.says("hello")
    world.fake.blocked_by.add(PSID)
    event = p.text(PSID, "billing")
    item = Queued(f"{p.PAGE_ID}:{PSID}", "m", "messaging", "message", event)
    for _run in range(CODE_2_RUNS - 1):  # the mailbox retries the customer's event with backoff
        with pytest.raises(MaybeBlocked):
            handle_event(world.rt, item)
    handle_event(world.rt, item)  # the last run records it failed instead of raising
    refused = [call for call in world.fake.calls if call[2] == 500]
    with Session(world.rt.engine) as session:
        rows = session.exec(select(Outbox).where(Outbox.event_key.endswith(  # type: ignore[attr-defined]
            event["message"]["mid"]))).all()
        assert rows and all(row.status == "failed" and "code=2" in (row.error or "")
                            for row in rows)
    # 5 runs of 4 attempts for the first message, one run for each other (and one mark_seen):
    # not 8 runs of each
    assert len(refused) == 1 + 4 * CODE_2_RUNS + 4 * (len(rows) - 1) < 32
    world.fake.blocked_by.clear()  # unblocked: the next message is answered
    sent = len(world.fake.sent(PSID))
    world.says("billing")
    assert len(world.fake.sent(PSID)) > sent


def test_the_web_and_worker_refuse_to_serve_a_page_without_this_apps_id(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import boot

    settings = make_settings(tmp_path, messenger_app_id=None)
    with pytest.raises(SystemExit) as stopped:
        boot(settings)
    assert str(stopped.value) == ("configuration error: MESSENGER_APP_ID: required when "
                                  "MESSENGER_PAGE_ACCESS_TOKEN is set (this app's id, from the "
                                  "App Dashboard)")
    from config.settings import ConfigError

    monkeypatch.setattr(runtime, "load_settings", lambda: settings)
    runtime.install(None)
    with pytest.raises(ConfigError, match="MESSENGER_APP_ID"):
        runtime.current()


def test_typing_while_the_first_answer_waits_and_one_mark_seen_per_run_of_events(
        world: World) -> None:
    world.says("hello")  # first contact: typing while the profile is looked up, then seen
    assert world.fake.sender_actions(PSID) == ["typing_on", "mark_seen"]
    events = [p.text(PSID, words) for words in ("billing", "thanks", "hours")]
    for event in events:  # Facebook gets three messages; the bot reads them in one run
        world.fake.customer_says(PSID, event["message"]["text"])
    finished, failure = run(world.rt, [
        Queued(f"{p.PAGE_ID}:{PSID}", "m", "messaging", "message", event) for event in events])
    assert failure is None and finished == 3
    assert world.fake.sender_actions(PSID) == ["typing_on", "mark_seen", "mark_seen"]
    standby = p.text(PSID, "while an agent has the chat")
    handle_event(world.rt, Queued(f"{p.PAGE_ID}:{PSID}", "m", "standby", "message", standby))
    assert world.fake.sender_actions(PSID)[-1:] == ["mark_seen"] and len(
        world.fake.sender_actions(PSID)) == 3  # not the owner: no sender action


@pytest.mark.parametrize(("sender", "ours"), [("31337", True), (INBOX_ID, False)])
def test_without_this_apps_id_the_three_guesses_of_whose_echo_it_is_agree(
        tmp_path: Path, sender: str, ours: bool) -> None:
    from bot.conversation import handle_turn
    from bot.echoes import own_echo
    from bot.flows.loader import load_flows
    from bot.turn import Turn

    settings = make_settings(tmp_path, messenger_app_id=None)
    event = {**p.echo(PSID, "Your order shipped", sender)}
    event["message"]["metadata"] = "sd:1000000001:message:m_1#0"
    customer = Customer(id=1, page_id=p.PAGE_ID, psid=PSID, state={"greeted": True})
    turn = Turn(customer, load_flows(settings.flows_path),
                Queued(f"{p.PAGE_ID}:{PSID}", "m", "standby", "echo", event), settings)
    handle_turn(turn)
    recorded_as_agent = [line for line in turn.heard if line[0] == "agent"] != []
    bot_went_quiet = (customer.state.get("handoff") or {}).get("owner", "bot") != "bot"
    receipt = own_echo(settings.messenger_app_id, event) is not None
    assert (not recorded_as_agent, not bot_went_quiet, receipt) == (ours, ours, ours)


def test_a_sticker_line_missing_a_language_is_refused_with_its_line(tmp_path: Path) -> None:
    from bot.flows.loader import FlowsError, load_flows

    shipped = Path(make_settings(tmp_path).flows_path).read_text()
    broken = tmp_path / "flows.yaml"
    broken.write_text(shipped.replace(
        '  es: "👍 ¡Con gusto! Escribe o elige un tema cuando necesites algo."\n', ""))
    with pytest.raises(FlowsError) as refused:
        load_flows(broken)
    line = shipped[:shipped.index("sticker_reply:")].count("\n") + 1
    assert str(refused.value) == f'{broken}:{line}: sticker_reply: missing the "es" translation'
