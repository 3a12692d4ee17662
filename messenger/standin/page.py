"""Facebook's side of one Page: threads, who owns each (Conversation Routing, doc §5),
the messaging window (doc §4.3) and the Page's settings.

No locks and no I/O here: `Standin` holds the lock, reads the clock and
delivers the webhooks these methods return.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from messenger.standin import events
from messenger.standin.errors import GraphError, bad_param, no_matching_user, not_owner
from messenger.standin.errors import outside_window as outside_window_error
from messenger.standin.validate import send_body
from messenger.standin.validate_profile import delete_fields, profile_body

DAY = 86_400.0
WINDOWS = {"HUMAN_AGENT": 7 * DAY, "CUSTOMER_FEEDBACK": 7 * DAY}  # by tag; others get 1 day
PAGE_FIELDS = (  # doc §1.3
    "messages", "messaging_postbacks", "messaging_referrals", "messaging_handovers", "standby",
    "message_echoes", "message_reads", "message_deliveries", "message_reactions",
    "message_edits", "messaging_policy_enforcement", "messaging_optins",
    "messaging_account_linking", "messaging_feedback", "messaging_game_plays",
    "response_feedback", "send_cart", "messenger_template_status_update", "feed",
)

Webhook = tuple[dict[str, Any], bool]  # (event, delivered on standby)


@dataclass
class Thread:
    """One customer's conversation with the Page."""

    psid: str
    profile: dict[str, Any]
    owner: str | None = None  # None: idle
    active_at: float = 0.0  # last customer message or change of owner
    last_user_at: float | None = None  # opens the messaging window
    sent: list[dict[str, Any]] = field(default_factory=list)  # our accepted messages
    actions: list[str] = field(default_factory=list)  # our sender actions (mark_seen, typing_on)
    postbacks: dict[str, str] = field(default_factory=dict)  # our buttons: payload -> title
    last_message: dict[str, Any] = field(default_factory=dict)  # our latest message
    pending_request: str | None = None  # metadata of our request_thread_control
    control_calls: list[dict[str, Any]] = field(default_factory=list)  # our handover bodies


def put_thread(threads: dict[str, Thread], user_id: str, profile: dict[str, Any]) -> Thread:
    """The user's thread with `profile` (created idle, until they write, if new)."""
    thread = threads.get(user_id)
    if thread is None:
        thread = threads[user_id] = Thread(psid=user_id, profile=profile)
    thread.profile = profile
    return thread


class Page:
    webhook_object = "page"  # the `object` of its webhooks

    def __init__(self, *, page_id: str, app_id: str, inbox_app_id: str) -> None:
        self.page_id = page_id
        self.app_id = app_id
        self.inbox_app_id = inbox_app_id
        # Conversation Routing settings (doc §5.2); None: zero-config mode.
        self.default_app: str | None = app_id
        self.take_permission = True
        self.forget()

    def forget(self) -> None:
        """Drop every thread and the Page's Messenger settings; routing settings stay."""
        self.threads: dict[str, Thread] = {}
        self.messenger_profile: dict[str, Any] = {}
        self.subscribed_fields: list[str] = []

    def ours_may_act(self, thread: Thread) -> bool:
        """Owner sends; on an idle thread only the default app (or anyone, zero-config)."""
        if thread.owner is None:
            return self.default_app in (None, self.app_id)
        return thread.owner == self.app_id

    def set_owner(self, thread: Thread, owner: str | None, now: float) -> str | None:
        previous, thread.owner, thread.active_at = thread.owner, owner, now
        return previous

    def recipient(self, body: Any) -> Thread:
        """The thread a Send API or handover body addresses (a known customer)."""
        recipient = body.get("recipient") if isinstance(body, dict) else None
        if not isinstance(recipient, dict) or recipient.get("id") in (None, ""):
            raise bad_param("The parameter recipient is required")
        thread = self.threads.get(str(recipient["id"]))
        if thread is None:
            raise no_matching_user()
        return thread

    def send(self, body: Any, now: float) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Accept a Send API body: (response, echo event or None for sender actions)."""
        error = send_body(body)
        if error:
            raise error
        thread = self.recipient(body)
        if not self.ours_may_act(thread):
            raise not_owner()
        if thread.last_user_at is None or now - thread.last_user_at > _window(body):
            raise outside_window_error()
        control = body.get("thread_control")
        new_owner = None if control is None else self._inline_target(control)
        if "sender_action" in body:  # the customer sees no message: kept apart from `sent`
            thread.actions.append(str(body["sender_action"]))
            return {"recipient_id": thread.psid}, None
        thread.sent.append(copy.deepcopy(body))
        message, mid = body["message"], events.new_mid()
        thread.postbacks.update(events.postback_titles(message))
        thread.last_message = copy.deepcopy(message)
        echo = events.echo(thread.psid, self.page_id, int(now * 1000), app_id=self.app_id,
                           mid=mid, message=message)
        if control is not None:
            self.set_owner(thread, new_owner, now)
        return {"recipient_id": thread.psid, "message_id": mid}, echo

    def _inline_target(self, control: dict[str, Any]) -> str | None:
        """The owner after a Send API `thread_control`: None releases (the default)."""
        if control.get("control_type", "release") == "release":
            return None
        target = str(control.get("app_id") or self.default_app or "")
        return self._pass_target(target)

    def _pass_target(self, target: str) -> str:
        if target not in (self.inbox_app_id, self.app_id):
            raise bad_param(f"Param target_app_id {target!r} is not an app connected to the Page")
        return target

    # Our app's handover calls (doc §5.3). Webhooks they cause go to other apps only.

    def pass_control(self, body: Any, now: float) -> None:
        thread = self.recipient(body)
        if body.get("target_app_id") in (None, ""):
            raise bad_param("The parameter target_app_id is required")
        target = self._pass_target(str(body["target_app_id"]))
        if not self.ours_may_act(thread):
            raise GraphError(10, "(#10) Only the thread owner can pass thread control",
                             subcode=2018300)
        self.set_owner(thread, target, now)
        _record(thread, "pass", body)

    def take_control(self, body: Any, now: float) -> None:
        thread = self.recipient(body)
        if self.default_app is None:
            raise GraphError(10, "(#10) Taking thread control is blocked: the Page has no "
                                 "default app (Conversation Routing zero-config mode)")
        if not self.take_permission:
            raise GraphError(10, "(#10) This app does not have permission to take control "
                                 "of conversations on this Page")
        if thread.owner != self.app_id:
            self.set_owner(thread, self.app_id, now)
        thread.pending_request = None
        _record(thread, "take", body)

    def release_control(self, body: Any, now: float) -> None:
        thread = self.recipient(body)
        if thread.owner not in (None, self.app_id):
            raise GraphError(10, "(#10) Only the thread owner can release thread control",
                             subcode=2018300)
        if thread.owner is not None:
            self.set_owner(thread, None, now)
        _record(thread, "release", body)

    def request_control(self, body: Any) -> None:
        thread = self.recipient(body)
        if thread.owner not in (None, self.app_id):
            thread.pending_request = str(body.get("metadata", ""))
        _record(thread, "request", body)

    def thread_owner(self, psid: str | None) -> dict[str, Any]:
        if not psid:
            raise bad_param("The parameter recipient is required")
        thread = self.threads.get(psid)
        if thread is None:
            raise no_matching_user()
        if thread.owner is None:
            return {"data": []}
        owner = {"app_id": thread.owner, "expiration": int(thread.active_at + DAY)}
        return {"data": [{"thread_owner": owner}]}

    # Page settings: Messenger Profile (doc §7) and webhook subscriptions (doc §1.2).

    def set_messenger_profile(self, body: Any) -> None:
        error = profile_body(body, self.messenger_profile)
        if error:
            raise error
        self.messenger_profile.update(copy.deepcopy(body))

    def get_messenger_profile(self, fields: list[str]) -> dict[str, Any]:
        if not fields:
            raise bad_param("The parameter fields is required")
        found = {key: self.messenger_profile[key] for key in fields
                 if key in self.messenger_profile}
        return {"data": [copy.deepcopy(found)] if found else []}

    def delete_messenger_profile(self, fields: Any) -> None:
        error = delete_fields(fields)
        if error:
            raise error
        for key in fields:
            self.messenger_profile.pop(key, None)

    def subscribe(self, fields: list[str]) -> None:
        if not fields:
            raise bad_param("The parameter subscribed_fields is required")
        for i, name in enumerate(fields):
            if name not in PAGE_FIELDS:
                raise bad_param(f"Param subscribed_fields[{i}] must be one of "
                                f"{{{', '.join(PAGE_FIELDS)}}} - got \"{name}\"")
        self.subscribed_fields = list(dict.fromkeys(fields))

    def subscriptions(self, app_name: str) -> dict[str, Any]:
        if not self.subscribed_fields:
            return {"data": []}
        app = {"name": app_name, "id": self.app_id, "subscribed_fields": self.subscribed_fields}
        return {"data": [app]}


def _window(body: dict[str, Any]) -> float:
    """Seconds after the customer's last message this send may still go out."""
    if body.get("messaging_type") != "MESSAGE_TAG":
        return DAY
    return WINDOWS.get(body["tag"], DAY)


def _record(thread: Thread, action: str, body: dict[str, Any]) -> None:
    thread.control_calls.append({"action": action, **copy.deepcopy(body)})
