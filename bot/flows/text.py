"""Texts: normalizing what customers type, the keyword index, and localized texts' limits."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError


def normalize(text: str) -> str:
    """Fold case and accents; anything not a letter or digit separates words."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    spaced = "".join(ch if ch.isalnum() else " " for ch in bare.casefold())
    return " ".join(spaced.split())


# (padded keyword, flow id), longest keyword first; padding makes `in` a whole-word test.
_Entries = tuple[tuple[str, str], ...]


def _longest_first(entries: Iterable[tuple[str, str]]) -> _Entries:
    return tuple(sorted(entries, key=lambda entry: -len(entry[0])))


@dataclass(frozen=True)
class KeywordIndex:
    """Normalized keywords per locale, ready to match typed text without re-normalizing."""

    own: dict[str, _Entries] = field(default_factory=dict)
    others: dict[str, _Entries] = field(default_factory=dict)
    everything: _Entries = ()

    @classmethod
    def build(cls, keywords: Iterable[tuple[str, str, str]]) -> KeywordIndex:
        """Index `(locale, keyword, flow_id)`; keywords that normalize to nothing are skipped."""
        per_locale: dict[str, list[tuple[str, str]]] = {}
        for locale, keyword, flow_id in keywords:
            norm = normalize(keyword)
            if norm:
                per_locale.setdefault(locale, []).append((f" {norm} ", flow_id))
        own = {locale: _longest_first(entries) for locale, entries in per_locale.items()}
        others = {
            locale: _longest_first(e for x, es in per_locale.items() if x != locale for e in es)
            for locale in per_locale
        }
        everything = _longest_first(e for es in per_locale.values() for e in es)
        return cls(own=own, others=others, everything=everything)

    def match(self, typed_text: str, locale: str) -> str | None:
        """The flow id of the longest keyword in the text, trying `locale`'s keywords first."""
        norm = normalize(typed_text)
        if not norm:
            return None
        padded = f" {norm} "
        if locale not in self.own:
            return _first_in(padded, self.everything)
        return _first_in(padded, self.own[locale]) or _first_in(padded, self.others[locale])


def _first_in(padded_text: str, entries: _Entries) -> str | None:
    for padded_keyword, flow_id in entries:
        if padded_keyword in padded_text:
            return flow_id
    return None


# --- Localized texts: a mapping locale -> text, with Messenger's limits ---

Loc = tuple[str | int, ...]
TITLE_MAX = 20  # quick-reply and button titles
BUTTON_TEXT_MAX = 640  # text of a button template
GREETING_MAX = 160
LOCALE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")  # en, es, pt_BR


def fail(problems: list[tuple[Loc, str]], also: ValidationError | None = None) -> None:
    """Raise one ValidationError holding every problem (and `also`'s); return if there are none."""
    earlier = [] if also is None else also.errors()
    if not problems and not earlier:
        return
    details = [_detail(e["loc"], e["type"], e["msg"], e["input"]) for e in earlier]
    details += [_detail(loc, "flows", message, None) for loc, message in problems]
    raise ValidationError.from_exception_data("Flows", details)


def _detail(loc: Loc, kind: str, message: str, value: object) -> InitErrorDetails:
    # A custom error keeps the original type and message, which the loader reads back.
    return InitErrorDetails(type=PydanticCustomError(kind, message), loc=loc, input=value)


def quote(value: object, width: int = 40) -> str:
    """A value as an admin wrote it, shortened for a one-line message."""
    text = str(value)
    text = text if len(text) <= width else text[: width - 1] + "…"
    return f'"{text}"'


def too_long(text: str, limit: int, what: str) -> str:
    return f"{quote(text)} is {len(text)} characters; {what} allow at most {limit}"


def at_most_items(items: tuple[Any, ...], limit: int, what: str) -> tuple[Any, ...]:
    if len(items) > limit:
        fail([((limit,), f"{len(items)} {what}; Messenger allows at most {limit}")])
    return items


def _not_blank(texts: dict[str, str]) -> dict[str, str]:
    fail([((locale,), "must not be empty") for locale, text in texts.items() if not text.strip()])
    return texts


def _at_most(limit: int, what: str) -> Callable[[dict[str, str]], dict[str, str]]:
    def check(texts: dict[str, str]) -> dict[str, str]:
        fail([((loc,), too_long(t, limit, what)) for loc, t in texts.items() if len(t) > limit])
        return texts

    return check


def _greeting_fits(texts: dict[str, str]) -> dict[str, str]:
    fail([((loc,), msg) for loc, text in texts.items() if (msg := _greeting_problem(text))])
    return texts


def _greeting_problem(text: str) -> str | None:
    if re.search(r"[{}]", text.replace("{first_name}", "")):
        return "braces may only hold the placeholder {first_name}"
    # The Messenger profile greeting spells the placeholder {{user_first_name}}.
    messenger_text = text.replace("{first_name}", "{{user_first_name}}")
    if len(messenger_text) <= GREETING_MAX:
        return None
    counted = " (counting {first_name} as Messenger's {{user_first_name}})" if "{" in text else ""
    return f"the greeting is {len(messenger_text)} characters{counted}; at most {GREETING_MAX}"


def _valid_locales(locales: tuple[str, ...]) -> tuple[str, ...]:
    if not locales:
        fail([((), "list at least one locale, e.g. [en, es]")])
    bad = [
        ((i,), f"{quote(loc)} is not a locale like en, es or pt_BR")
        for i, loc in enumerate(locales)
        if not LOCALE.fullmatch(loc)
    ]
    twice = [((i,), f"{quote(loc)} is listed twice") for i, loc in enumerate(locales) if loc in locales[:i]]
    fail(bad + twice)
    return locales


Locales = Annotated[tuple[str, ...], AfterValidator(_valid_locales)]
Text = Annotated[dict[str, str], AfterValidator(_not_blank)]
QuickReplyTitle = Annotated[Text, AfterValidator(_at_most(TITLE_MAX, "quick-reply titles"))]
ButtonTitle = Annotated[Text, AfterValidator(_at_most(TITLE_MAX, "button titles"))]
Greeting = Annotated[Text, AfterValidator(_greeting_fits)]


# --- Rules over the whole file's raw input: mappings from YAML, or models built in code ---


def get(node: object, key: str) -> Any:
    if isinstance(node, Mapping):
        return node.get(key)
    return getattr(node, key, None) if isinstance(node, BaseModel) else None


def each(node: object) -> Iterator[tuple[int, Any]]:
    return enumerate(node) if isinstance(node, list | tuple) else iter(())


def flow_map(data: object) -> Mapping[Any, Any]:
    flows = get(data, "flows")
    return flows if isinstance(flows, Mapping) else {}


def translation_rules(data: object) -> Iterator[tuple[Loc, str]]:
    """Every localized text has every locale, and only those; the default is one of them."""
    locales = get(data, "locales")
    if not isinstance(locales, list | tuple) or not all(isinstance(x, str) for x in locales):
        return
    known = f"one of the locales ({', '.join(locales)})"
    default = get(data, "default_locale")
    if isinstance(default, str) and default not in locales:
        yield ("default_locale",), f"{quote(default)} is not {known}"
    for loc, texts, complete in _localized(data):
        if isinstance(texts, Mapping):
            missing = [x for x in locales if x not in texts] if complete else []
            yield from ((loc, f"missing the {quote(x)} translation") for x in missing)
            unknown = [x for x in texts if x not in locales]
            yield from (((*loc, x), f"{quote(x)} is not {known}") for x in unknown)


def _localized(data: object) -> Iterator[tuple[Loc, Any, bool]]:
    """Each mapping keyed by locale, and whether it needs every locale (keywords do not)."""
    yield ("greeting",), get(data, "greeting"), True
    yield ("fallback",), get(data, "fallback"), True
    yield ("sticker_reply",), get(data, "sticker_reply"), True
    yield ("menu", "text"), get(get(data, "menu"), "text"), True
    for key, flow in flow_map(data).items():
        yield ("flows", key, "title"), get(flow, "title"), True
        yield ("flows", key, "keywords"), get(flow, "keywords"), False
        for i, step in each(get(flow, "messages")):
            yield ("flows", key, "messages", i, "text"), get(step, "text"), True
            for j, button in each(get(step, "buttons")):
                loc = ("flows", key, "messages", i, "buttons", j, "title")
                yield loc, get(button, "title"), True


def keyword_rules(flows: Mapping[Any, Any]) -> Iterator[tuple[Loc, str]]:
    """A keyword must have letters or digits, and belong to one flow per locale."""
    owner: dict[tuple[object, str], object] = {}
    for key, flow in flows.items():
        keywords = get(flow, "keywords")
        for locale, words in keywords.items() if isinstance(keywords, Mapping) else ():
            for i, word in each(words):
                loc, norm = ("flows", key, "keywords", locale, i), _normalized(word)
                if norm == "":
                    yield loc, f"keyword {quote(word)} has no letters or digits"
                elif norm and owner.setdefault((locale, norm), key) != key:
                    other = owner[(locale, norm)]
                    yield loc, f"keyword {quote(word)} is already a keyword of flow {quote(other)}"


def _normalized(word: object) -> str | None:
    return normalize(word) if isinstance(word, str) else None
