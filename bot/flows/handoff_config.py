"""The `handoff:` section of the flows file: business hours, the agent-wait timeout and the
texts of the handover, checked with the rest of the file (errors name file and line).

Every key is optional; without the section agents are always available and the texts
come from the gettext catalogs (`translations/`) in every shipped language; a text written
here wins over the catalog's in every locale of the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from bot.flows.text import (
    BUTTON_TEXT_MAX,
    ButtonTitle,
    Loc,
    QuickReplyTitle,
    Text,
    fail,
    get,
    quote,
    too_long,
)
from core.i18n import default_texts

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Span = tuple[int, int]  # minutes after midnight: [start, end)
_SPAN = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


def _spans(value: object) -> object:
    """'09:00-13:00, 15:00-18:00' (or a list of such) as sorted minute spans."""
    if isinstance(value, list | tuple):
        parts = list(value)
    else:
        parts = str(value).split(",") if value else []  # an empty day: closed
    spans = [part if _is_span(part) else _span(str(part)) for part in parts]
    return tuple(sorted(spans))


def _is_span(value: object) -> bool:
    """Already minutes, as a model built in code gives them."""
    return isinstance(value, tuple) and len(value) == 2 and all(isinstance(x, int) for x in value)


def _span(text: str) -> Span:
    match = _SPAN.fullmatch(text)
    if match is None:
        raise PydanticCustomError("flows", f"{quote(text)} is not opening hours like \"09:00-18:00\"")
    h1, m1, h2, m2 = (int(x) for x in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or start >= 24 * 60 or end > 24 * 60:
        raise PydanticCustomError("flows", f"{quote(text)} is not a time of day (00:00 to 24:00)")
    if end <= start:
        raise PydanticCustomError(
            "flows", f"{quote(text)} ends before it starts; split overnight hours over two days")
    return start, end


DayHours = Annotated[tuple[Span, ...], BeforeValidator(_spans)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HandoffTexts(_Frozen):
    """What the bot says around a handover; `{when}` in `closed` becomes the next opening time."""

    connecting: Text = default_texts(
        "Got it! A person from our team will join this chat shortly. "
        "You can come back to the bot at any time.")
    resume_button: ButtonTitle = default_texts("Resume Chat With Bot")
    closed: Text = default_texts(
        "Our agents are away right now; they are back {when}. What would you like to do?")
    wait_button: QuickReplyTitle = default_texts("Wait for an agent")
    email_button: QuickReplyTitle = default_texts("Email Support")
    busy: Text = default_texts(
        "Sorry, no agent has been able to pick up your chat yet. "
        "You can keep waiting, or choose another option:")
    resumed: Text = default_texts(
        "You're chatting with the bot again. Pick a topic, \"Live Agent Request\" to chat "
        "with a human, or \"Restart\":")
    returned: Text = default_texts(
        "Thanks for chatting with our team! The bot is here again if you need anything else.")
    take_refused: Text = default_texts(
        "I've asked our team to hand this chat back to me. You'll hear from me as soon as they do.")
    unavailable: Text = default_texts(
        "Sorry, I couldn't reach our team just now. Please try again in a moment, or choose "
        "another option:")

    @field_validator("connecting")
    @classmethod
    def _fits_a_button_message(cls, texts: dict[str, str]) -> dict[str, str]:
        what = "texts of messages with buttons"
        fail([((loc,), too_long(t, BUTTON_TEXT_MAX, what)) for loc, t in texts.items()
              if len(t) > BUTTON_TEXT_MAX])
        return texts


class HandoffConfig(_Frozen):
    """When agents answer, how long the customer waits for one, and the handover's texts."""

    timezone: str = "UTC"
    hours: dict[Day, DayHours] | None = None  # None: agents are always available
    holidays: tuple[date, ...] = ()
    agent_wait_minutes: float = Field(default=10.0, gt=0, le=24 * 60)
    texts: HandoffTexts = Field(default_factory=HandoffTexts)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            message = f"unknown timezone {quote(name)}; use a name like Europe/Madrid or America/Mexico_City"
            raise PydanticCustomError("flows", message) from None
        return name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def handoff_rules(data: object) -> Iterator[tuple[Loc, str]]:
    """Each text written in `handoff.texts` has every locale of the file, and only those."""
    locales = get(data, "locales")
    texts = get(get(data, "handoff"), "texts")
    if not isinstance(locales, list | tuple) or not isinstance(texts, Mapping):
        return
    for key, localized in texts.items():
        if not isinstance(localized, Mapping) or not isinstance(key, str):
            continue
        loc: Loc = ("handoff", "texts", key)
        for missing in (x for x in locales if x not in localized):
            yield loc, f"missing the {quote(missing)} translation"
        for unknown in (x for x in localized if x not in locales):
            yield (*loc, unknown), f"{quote(unknown)} is not one of the locales ({', '.join(locales)})"
