"""What the bot decides around a handover, event by event (no Graph calls are made here:
a turn's decided calls are read back)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.conversation import handle_turn
from bot.flows import Flow, Flows, load_flows
from bot.flows.handoff_config import HandoffConfig
from bot.models import Customer
from bot.turn import Turn
from config.settings import Settings
from core.mailbox import Queued
from handoff import followups, state
from handoff.jobs import WAIT_KIND
from handoff.state import BOT, HUMAN, Handoff
from tests.support import payloads as p

ROOT = Path(__file__).resolve().parents[2]
INBOX = "263902037430900"
PSID = "42"
SETTINGS = Settings(messenger_app_id=p.APP_ID)


@pytest.fixture(scope="module")
def flows() -> Flows:
    return load_flows(ROOT / "config" / "flows.yaml")


class Chat:
    """One customer's state across turns; `say` runs a turn and returns its calls."""

    def __init__(self, flows: Flows, **handoff: Any) -> None:
        self.flows = flows
        self.customer = Customer(id=1, page_id=p.PAGE_ID, psid=PSID, first_name="Ana",
                                 messenger_locale="en_US", last_inbound_at=datetime.now(UTC),
                                 state={"greeted": True})
        if handoff:
            self.customer.state["handoff"] = {"changed_ms": _ms(-60), **handoff}
        self.turn: Turn | None = None

    def event(self, kind: str, event: dict[str, Any], channel: str = "messaging",
              ) -> list[tuple[str, dict[str, Any]]]:
        event = {"sender": {"id": PSID}, "recipient": {"id": p.PAGE_ID}, "timestamp": _ms(0),
                 **event}
        self.turn = Turn(self.customer, self.flows,
                         Queued(f"{p.PAGE_ID}:{PSID}", "m", channel, kind, event), SETTINGS)
        handle_turn(self.turn)
        return self.turn.calls

    def says(self, text: str, channel: str = "messaging", quick_reply: str | None = None,
             ) -> list[tuple[str, dict[str, Any]]]:
        message: dict[str, Any] = {"mid": f"m_{text}", "text": text}
        if quick_reply:
            message["quick_reply"] = {"payload": quick_reply}
        return self.event("message", {"message": message}, channel)

    def taps(self, payload: str | None, title: str = "", channel: str = "messaging",
             ) -> list[tuple[str, dict[str, Any]]]:
        postback = {"mid": "m_pb", "title": title, **({"payload": payload} if payload else {})}
        return self.event("postback", {"postback": postback}, channel)

    def control(self, kind: str, **body: Any) -> list[tuple[str, dict[str, Any]]]:
        return self.event(kind, {kind: body})

    @property
    def handoff(self) -> Handoff:
        assert self.turn is not None
        return state.read(self.turn)


def _ms(seconds: float) -> int:
    return int((datetime.now(UTC) + timedelta(seconds=seconds)).timestamp() * 1000)


def kinds(calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [kind for kind, _ in calls]


def text_of(call: tuple[str, dict[str, Any]]) -> str:
    message = call[1]["message"]
    return message.get("text") or message["attachment"]["payload"]["text"]


def chips(call: tuple[str, dict[str, Any]]) -> list[str]:
    return [q["title"] for q in call[1]["message"].get("quick_replies", [])]


# --- asking for an agent ---


@pytest.mark.parametrize("typed", ["agent", "I want a HUMAN please", "quiero un asesor", "Humano"])
def test_typed_words_ask_for_an_agent(flows: Flows, typed: str) -> None:
    calls = Chat(flows).says(typed)
    assert kinds(calls) == ["send", "pass_thread_control"]
    assert calls[1][1]["target_app_id"] == INBOX and calls[1][1]["then"] == followups.PASSED


def test_the_confirmation_carries_the_resume_postback_button(flows: Flows) -> None:
    chat = Chat(flows)
    confirm, handover = chat.says("Live Agent Request", quick_reply="flow:live_agent")
    buttons = confirm[1]["message"]["attachment"]["payload"]["buttons"]
    assert buttons == [{"type": "postback", "title": "Resume Chat With Bot",
                        "payload": "handoff:resume"}]
    assert chat.handoff.owner == BOT, "human only once Facebook accepted the pass"
    assert "Ana" in handover[1]["metadata"]


def test_out_of_hours_says_when_agents_are_back_and_does_not_hand_over(flows: Flows) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%a").lower()
    closed = flows.model_copy(update={"handoff": HandoffConfig(hours={tomorrow: ((540, 600),)})})
    chat = Chat(closed)
    calls = chat.says("agent")
    assert kinds(calls) == ["send"]
    assert "back tomorrow at 9:00\u202fAM (UTC)" in text_of(calls[0])
    assert "Wait for an agent" in chips(calls[0])

    insisted = chat.says("Wait for an agent", quick_reply="handoff:wait")
    assert kinds(insisted) == ["send", "pass_thread_control"]
    assert "outside business hours" in insisted[1][1]["metadata"]


# --- while a person has the chat ---


def test_nothing_is_said_on_standby_and_the_agent_is_heard(flows: Flows) -> None:
    chat = Chat(flows, owner=HUMAN, handover=1)
    assert chat.says("billing", channel="standby") == []
    assert chat.turn is not None and chat.turn.heard[0][:3] == ("customer", "text", "billing")
    echo = {"message": {"is_echo": True, "app_id": int(INBOX), "mid": "m_e", "text": "Hi, Sam"}}
    assert chat.event("echo", echo, channel="standby") == []
    assert chat.turn.heard == [("agent", "echo", "Hi, Sam", None, "m_e")]
    assert chat.handoff.agent_replied


def test_standby_proves_someone_else_owns_the_thread(flows: Flows) -> None:
    chat = Chat(flows)
    assert chat.says("hello?", channel="standby") == []
    assert chat.handoff.owner == HUMAN


@pytest.mark.parametrize("typed", ["the bot was no help", "agent", "restart please"])
def test_only_an_exact_resume_word_brings_the_bot_back_on_standby(flows: Flows, typed: str) -> None:
    assert Chat(flows, owner=HUMAN).says(typed, channel="standby") == []


@pytest.mark.parametrize("typed", ["bot", "Volver al bot", "BACK TO BOT!"])
def test_resume_words_on_standby_take_the_thread_back(flows: Flows, typed: str) -> None:
    calls = Chat(flows, owner=HUMAN).says(typed, channel="standby")
    assert kinds(calls) == ["take_thread_control", "send"]
    assert calls[0][1]["then"] == followups.TOOK


def test_resume_postback_without_its_payload_is_known_by_its_title(flows: Flows) -> None:
    calls = Chat(flows, owner=HUMAN).taps(None, title="Resume Chat With Bot", channel="standby")
    assert kinds(calls) == ["take_thread_control", "send"]


def test_resume_answers_with_topics_a_human_and_restart(flows: Flows) -> None:
    chat = Chat(flows, owner=HUMAN)
    take, menu = chat.taps("handoff:resume", title="Resume Chat With Bot")
    assert take[0] == "take_thread_control"
    assert {"Billing", "Live Agent Request", "Restart"} <= set(chips(menu))
    assert chat.handoff.owner == HUMAN, "bot only once the take succeeded"


@pytest.mark.parametrize("payload", ["flow:restart", "GET_STARTED", "flow:email_us"])
def test_restart_or_email_support_from_the_persistent_menu_takes_the_chat_back(
        flows: Flows, payload: str) -> None:
    calls = Chat(_with_email_support(flows), owner=HUMAN).taps(payload)
    assert kinds(calls) == ["take_thread_control", "send"]
    assert "Email Support" in chips(calls[1])


def test_odd_payloads_are_listened_to_not_crashed_on(flows: Flows) -> None:
    chat = Chat(flows, owner=HUMAN)
    assert chat.event("postback", {"postback": {"mid": "m_x", "payload": 7, "title": ["x"]}}) == []
    assert chat.event("message", {"message": {"mid": "m_y", "text": 5, "quick_reply": 9}},
                      channel="standby") == []


def test_an_old_button_of_ours_tapped_while_a_person_has_the_chat_gets_no_answer(
        flows: Flows) -> None:
    assert Chat(flows, owner=HUMAN).taps("flow:billing", title="Billing") == []


def test_a_message_on_messaging_after_the_handover_means_the_thread_went_idle(flows: Flows) -> None:
    chat = Chat(flows, owner=HUMAN)
    calls = chat.says("ok, thanks")
    assert "Thanks for chatting with our team" in text_of(calls[-1])
    assert chat.handoff.owner == BOT


def test_a_message_older_than_the_handover_proves_nothing(flows: Flows) -> None:
    chat = Chat(flows, owner=HUMAN, changed_ms=_ms(+60))
    assert chat.says("sent before the handover") == []
    assert chat.handoff.owner == HUMAN


# --- control changes ---


def test_inbox_taking_the_thread_silences_the_bot(flows: Flows) -> None:
    chat = Chat(flows)
    assert chat.control("take_thread_control", previous_owner_app_id=p.APP_ID,
                        new_owner_app_id=int(INBOX), metadata="") == []
    assert chat.handoff.owner == HUMAN
    assert chat.says("billing", channel="standby") == []


def test_control_passed_back_greets_with_the_menu_inside_the_window(flows: Flows) -> None:
    chat = Chat(flows, owner=HUMAN)
    calls = chat.control("pass_thread_control", previous_owner_app_id=INBOX,
                         new_owner_app_id=p.APP_ID, metadata="")
    assert kinds(calls) == ["send"] and calls[0][1]["messaging_type"] == "UPDATE"
    assert "Billing" in chips(calls[0])
    assert chat.handoff.owner == BOT


def test_control_back_outside_the_window_waits_for_the_customer(flows: Flows) -> None:
    chat = Chat(flows, owner=HUMAN)
    chat.customer.last_inbound_at = datetime.now(UTC) - timedelta(hours=30)
    assert chat.control("pass_thread_control", previous_owner_app_id=INBOX,
                        new_owner_app_id=p.APP_ID) == []
    assert chat.handoff.greet

    greeting = chat.says("ok, thanks")
    assert "Thanks for chatting with our team" in text_of(greeting[-1])
    assert not chat.handoff.greet
    assert "billing" in text_of(chat.says("billing")[0]).lower(), "then the bot as usual"


def test_a_keyword_after_control_came_back_is_answered_as_such(flows: Flows) -> None:
    chat = Chat(flows, greet=True)
    calls = chat.says("refunds")
    assert "refund" in text_of(calls[0]).lower()
    assert not chat.handoff.greet


def test_a_repeated_handover_webhook_changes_nothing(flows: Flows) -> None:
    chat = Chat(flows, owner=HUMAN)
    back = {"previous_owner_app_id": INBOX, "new_owner_app_id": p.APP_ID}
    assert kinds(chat.control("pass_thread_control", **back)) == ["send"]
    assert chat.control("pass_thread_control", **back) == []
    taken = {"previous_owner_app_id": p.APP_ID, "new_owner_app_id": INBOX}
    assert chat.control("take_thread_control", **taken) == []
    changed = chat.handoff.changed_ms
    assert chat.control("take_thread_control", **taken) == []
    assert chat.handoff.owner == HUMAN and chat.handoff.changed_ms == changed


def test_the_inbox_asking_for_the_thread_is_granted(flows: Flows) -> None:
    chat = Chat(flows)
    calls = chat.control("request_thread_control", requested_owner_app_id=int(INBOX), metadata="")
    assert calls == [("pass_thread_control", {
        "target_app_id": INBOX, "metadata": calls[0][1]["metadata"], "then": followups.GRANTED})]
    assert Chat(flows, owner=HUMAN).control("request_thread_control",
                                            requested_owner_app_id=INBOX) == []


# --- waiting for an agent ---


def _wait_over(chat: Chat, handover: int) -> list[tuple[str, dict[str, Any]]]:
    return chat.event(WAIT_KIND, {WAIT_KIND: {"handover": handover}})


def _with_email_support(flows: Flows) -> Flows:
    email = Flow(id="email_us", title={"en": "Email Support", "es": "Soporte por email"},
                 action="create_ticket")
    return flows.model_copy(update={"flows": {**flows.flows, email.id: email}})


def test_no_agent_reply_takes_the_thread_back_to_offer_a_ticket(flows: Flows) -> None:
    flows = _with_email_support(flows)
    calls = _wait_over(Chat(flows, owner=HUMAN, handover=3), 3)
    assert calls == [("take_thread_control", {
        "metadata": calls[0][1]["metadata"], "then": followups.TOOK_FOR_OFFER})]
    assert _wait_over(Chat(flows, owner=HUMAN, handover=3, agent_replied=True), 3) == []
    assert _wait_over(Chat(flows, owner=HUMAN, handover=4), 3) == [], "an older handover"
    assert _wait_over(Chat(flows, handover=3), 3) == [], "back with the bot already"

