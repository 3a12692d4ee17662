"""A turn: one customer event being handled. Handlers read the event and the
customer's state and append the calls the bot owes (sent after commit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot import instagram
from bot.flows.schema import Flows
from bot.models import Customer
from bot.replies import Message
from config.pages import Account
from config.settings import Settings
from core.mailbox import Queued


@dataclass
class Turn:
    customer: Customer
    flows: Flows
    item: Queued
    settings: Settings
    account: Account | None = None  # the Page or Instagram account; None: settings' one Page
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Transcript lines for the inbound side: (author, kind, text, payload, mid)
    heard: list[tuple[str, str, str | None, str | None, str | None]] = field(
        default_factory=list)

    @property
    def handover_target(self) -> str:
        """The inbox app a conversation is passed to (Page Inbox, or Instagram's)."""
        return self.account.handover_target if self.account else self.settings.page_inbox_app_id

    @property
    def on_instagram(self) -> bool:
        return self.account is not None and instagram.is_instagram(self.account.channel)

    @property
    def event(self) -> dict[str, Any]:
        return self.item.event

    @property
    def kind(self) -> str:
        return self.item.kind

    @property
    def on_standby(self) -> bool:
        return self.item.channel == "standby"

    @property
    def state(self) -> dict[str, Any]:
        return self.customer.state

    @property
    def locale(self) -> str:
        chosen = self.state.get("locale")
        if chosen in self.flows.locales:
            return str(chosen)
        return self.flows.locale_for(self.customer.messenger_locale)

    def text(self, localized: dict[str, str]) -> str:
        return self.flows.text(localized, self.locale)

    def send(self, *messages: Message, messaging_type: str = "RESPONSE") -> None:
        for message in messages:  # on Instagram, fitted to its limits (maybe several)
            for part in instagram.adapt(message) if self.on_instagram else (message,):
                self.calls.append(("send", {"message": part, "messaging_type": messaging_type}))

    def call(self, kind: str, **body: Any) -> None:
        """Queue a non-message Graph call (handover and the like) in order."""
        self.calls.append((kind, body))

    def hear(self, author: str, kind: str, text: str | None = None,
             payload: str | None = None, mid: str | None = None) -> None:
        self.heard.append((author, kind, text, payload, mid))

    def set_state(self, **values: Any) -> None:
        """Replace the state dict so the JSON column is seen as changed."""
        self.customer.state = {**self.state, **values}

    def clear_state(self, *keys: str) -> None:
        self.customer.state = {k: v for k, v in self.state.items() if k not in keys}
