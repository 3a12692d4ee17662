"""Typed, frozen records of the flows file; building one checks every Messenger limit and rule.

Rules that need the whole file run in `Flows` even when some fields are invalid,
so that one pass reports every problem.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.flows.handoff_config import HandoffConfig, handoff_rules
from bot.flows.satisfaction_config import SatisfactionConfig, satisfaction_rules
from bot.flows.text import (
    BUTTON_TEXT_MAX,
    ButtonTitle,
    Greeting,
    KeywordIndex,
    Loc,
    Locales,
    QuickReplyTitle,
    Text,
    at_most_items,
    each,
    fail,
    flow_map,
    get,
    keyword_rules,
    quote,
    too_long,
    translation_rules,
)
from core.i18n import closest_locale

Action = Literal["live_agent", "resume_bot", "restart", "create_ticket", "my_tickets"]
ACTIONS: tuple[str, ...] = get_args(Action)
FLOW_PAYLOAD_PREFIX = "flow:"  # postback payloads are "flow:<id>", far under 1000 characters
FLOW_ID = re.compile(r"[a-z0-9_]{1,64}")
BUTTONS_MAX = 3
QUICK_REPLIES_MAX = 13
TICKET_TYPES_MAX = QUICK_REPLIES_MAX - 1  # the type question also offers Cancel
EMAIL = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Button(_Frozen):
    title: ButtonTitle
    url: str | None = None
    goto: str | None = None

    @field_validator("url")
    @classmethod
    def _web_url(cls, url: str | None) -> str | None:
        if url is not None and not re.fullmatch(r"https?://[^\s/?#]+\S*", url):
            raise PydanticCustomError("flows", f"{quote(url)} is not an http:// or https:// link")
        return url

    @model_validator(mode="after")
    def _url_or_goto(self) -> Button:
        if (self.url is None) == (self.goto is None):
            fail([((), "a button needs exactly one of url (a link) or goto (a flow id)")])
        return self


class Step(_Frozen):
    text: Text
    buttons: tuple[Button, ...] = ()

    @field_validator("buttons")
    @classmethod
    def _few_buttons(cls, buttons: tuple[Button, ...]) -> tuple[Button, ...]:
        return at_most_items(buttons, BUTTONS_MAX, "buttons")

    @model_validator(mode="after")
    def _short_with_buttons(self) -> Step:
        if self.buttons:
            what, limit = "texts of messages with buttons", BUTTON_TEXT_MAX
            long = [(loc, t) for loc, t in self.text.items() if len(t) > limit]
            fail([(("text", loc), too_long(t, limit, what)) for loc, t in long])
        return self


class Flow(_Frozen):
    id: str
    title: QuickReplyTitle
    keywords: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    action: Action | None = None
    messages: tuple[Step, ...] = ()
    quick_replies: tuple[str, ...] = ()

    @field_validator("action", mode="before")
    @classmethod
    def _known_action(cls, action: object) -> object:
        if action is not None and (not isinstance(action, str) or action not in ACTIONS):
            message = f"unknown action {quote(action)}; allowed: {', '.join(ACTIONS)}"
            raise PydanticCustomError("flows", message)
        return action

    @field_validator("quick_replies")
    @classmethod
    def _few_quick_replies(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        return at_most_items(items, QUICK_REPLIES_MAX, "quick replies")

    @model_validator(mode="after")
    def _does_something(self) -> Flow:
        if not self.messages and self.action is None:
            fail([((), "a flow needs messages, an action, or both")])
        return self


class Menu(_Frozen):
    text: Text
    items: tuple[str, ...]

    @field_validator("items")
    @classmethod
    def _one_to_thirteen(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        if not items:
            raise PydanticCustomError("flows", "the menu needs at least one item")
        return at_most_items(items, QUICK_REPLIES_MAX, "menu items")


class TicketType(_Frozen):
    """A kind of ticket the customer picks, and the mailbox its tickets are emailed to."""

    id: str
    title: QuickReplyTitle
    mailbox: str

    @field_validator("mailbox")
    @classmethod
    def _email_address(cls, mailbox: str) -> str:
        if not EMAIL.fullmatch(mailbox):
            raise PydanticCustomError("flows", f"{quote(mailbox)} is not an email address")
        return mailbox


class Tickets(_Frozen):
    """Email Support (`action: create_ticket`): the ticket types, in the order offered."""

    types: dict[str, TicketType]

    @field_validator("types")
    @classmethod
    def _one_to_twelve(cls, types: dict[str, TicketType]) -> dict[str, TicketType]:
        if not types:
            raise PydanticCustomError("flows", "list at least one ticket type")
        if len(types) > TICKET_TYPES_MAX:
            message = f"{len(types)} ticket types; at most {TICKET_TYPES_MAX} fit in the quick replies"
            raise PydanticCustomError("flows", message)
        return types


class Flows(_Frozen):
    default_locale: str
    locales: Locales
    greeting: Greeting
    menu: Menu
    fallback: Text
    sticker_reply: dict[str, str] | None = None  # said to a sticker or like; "" or absent: nothing
    flows: dict[str, Flow]
    tickets: Tickets | None = None
    handoff: HandoffConfig = Field(default_factory=HandoffConfig)
    satisfaction: SatisfactionConfig = Field(default_factory=SatisfactionConfig)
    source: str = ""
    _keywords: KeywordIndex = PrivateAttr(default_factory=KeywordIndex)

    @model_validator(mode="wrap")
    @classmethod
    def _whole_file(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Flows:
        data = _with_ticket_type_ids(_with_flow_ids(data))
        problems = list(_whole_file_rules(data))
        try:
            flows = handler(data)
        except ValidationError as error:
            fail(problems, also=error)
            raise
        fail(problems)
        return flows

    def model_post_init(self, context: Any, /) -> None:
        self._keywords = KeywordIndex.build(
            (locale, keyword, flow.id)
            for flow in self.flows.values()
            for locale, keywords in flow.keywords.items()
            for keyword in keywords
        )

    def locale_for(self, messenger_locale: str | None) -> str:
        """Our locale for a Messenger profile locale such as es_LA; the default when unknown."""
        code = (messenger_locale or "").replace("-", "_")
        return closest_locale(code, self.locales) or self.default_locale

    def text(self, localized: Mapping[str, str], locale: str) -> str:
        """`locale`'s text, else its language's (pt -> pt_BR), else the default locale's."""
        chosen = closest_locale(locale, tuple(localized))
        if chosen is not None:
            return localized[chosen]
        return localized.get(self.default_locale) or next(iter(localized.values()), "")

    def flow(self, flow_id: str) -> Flow:
        return self.flows[flow_id]

    def title(self, flow_id: str, locale: str) -> str:
        return self.text(self.flow(flow_id).title, locale)

    def match(self, typed_text: str, locale: str) -> Flow | None:
        """The flow whose keyword the customer typed (case, accents and punctuation ignored)."""
        flow_id = self._keywords.match(typed_text, locale)
        return None if flow_id is None else self.flows[flow_id]


# --- Whole-file rules on raw input: mappings from YAML, or models built in code ---


def _with_flow_ids(data: Any) -> Any:
    """The flow's id is its key under `flows`."""
    flows = flow_map(data)
    if not isinstance(data, Mapping) or not flows:
        return data
    with_ids = {
        k: {**v, "id": k} if isinstance(v, Mapping) and "id" not in v else v for k, v in flows.items()
    }
    return {**data, "flows": with_ids}


def _whole_file_rules(data: object) -> Iterator[tuple[Loc, str]]:
    yield from translation_rules(data)
    yield from keyword_rules(flow_map(data))
    yield from _id_rules(flow_map(data))
    yield from _reference_rules(data, flow_map(data))
    yield from _ticket_rules(data)
    yield from handoff_rules(data)
    yield from satisfaction_rules(data)


def _id_rules(flows: Mapping[Any, Any]) -> Iterator[tuple[Loc, str]]:
    for key, flow in flows.items():
        if isinstance(key, str) and not FLOW_ID.fullmatch(key):
            yield ("flows", key), f"{quote(key)} is not a flow id: use 1 to 64 of a-z, 0-9 and _"
        elif (given := get(flow, "id")) is not None and given != key:
            yield ("flows", key, "id"), f"id {quote(given)} differs from the key; leave id out"


def _reference_rules(data: object, flows: Mapping[Any, Any]) -> Iterator[tuple[Loc, str]]:
    lists = [(("menu", "items"), get(get(data, "menu"), "items"))]
    lists += [(("flows", k, "quick_replies"), get(f, "quick_replies")) for k, f in flows.items()]
    for loc, items in lists:
        seen: set[str] = set()
        for i, item in ((i, x) for i, x in each(items) if isinstance(x, str)):
            if item not in flows:
                yield (*loc, i), _no_such_flow(item, flows)
            elif item in seen:
                yield (*loc, i), f"{quote(item)} is listed twice"
            seen.add(item)
    yield from _goto_rules(flows)


def _goto_rules(flows: Mapping[Any, Any]) -> Iterator[tuple[Loc, str]]:
    for key, flow in flows.items():
        for i, step in each(get(flow, "messages")):
            for j, button in each(get(step, "buttons")):
                goto = get(button, "goto")
                if isinstance(goto, str) and goto not in flows:
                    loc = ("flows", key, "messages", i, "buttons", j, "goto")
                    yield loc, _no_such_flow(goto, flows)


def _no_such_flow(flow_id: str, flows: Mapping[Any, Any]) -> str:
    close = difflib.get_close_matches(flow_id, [k for k in flows if isinstance(k, str)], n=1)
    hint = f" (did you mean {quote(close[0])}?)" if close else ""
    return f"no flow named {quote(flow_id)}{hint}"


# --- Email Support: ticket types ---


def _ticket_types(data: object) -> Mapping[Any, Any]:
    types = get(get(data, "tickets"), "types")
    return types if isinstance(types, Mapping) else {}


def _with_ticket_type_ids(data: Any) -> Any:
    """A ticket type's id is its key under `tickets.types`."""
    types = _ticket_types(data)
    if not types or not isinstance(data, Mapping) or not isinstance(data.get("tickets"), Mapping):
        return data
    with_ids = {
        k: {**v, "id": k} if isinstance(v, Mapping) and "id" not in v else v for k, v in types.items()
    }
    return {**data, "tickets": {**data["tickets"], "types": with_ids}}


def _ticket_rules(data: object) -> Iterator[tuple[Loc, str]]:
    locales = get(data, "locales")
    locales = locales if isinstance(locales, list | tuple) else ()
    for key, ticket_type in _ticket_types(data).items():
        if isinstance(key, str) and not FLOW_ID.fullmatch(key):
            yield ("tickets", "types", key), f"{quote(key)} is not a ticket type id: use a-z, 0-9 and _"
        title = get(ticket_type, "title")
        if isinstance(title, Mapping) and all(isinstance(x, str) for x in locales):
            for locale in (x for x in locales if x not in title):
                yield ("tickets", "types", key, "title"), f"missing the {quote(locale)} translation"
    if get(data, "tickets") is None:
        for key, flow in flow_map(data).items():
            if get(flow, "action") == "create_ticket":
                yield ("flows", key, "action"), "create_ticket needs a tickets: section with the ticket types"
