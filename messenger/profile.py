"""The page's Messenger profile (Get Started, greeting, persistent menu) built from the flows
file, and checked against Messenger's limits before anything is sent (doc §7).

Our locales (`en`, `es`, ...) are mapped to Meta's (`en_US`, `es_LA`, ...); the flows'
default locale also fills Meta's required `default` entry.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from bot.flows.schema import Flow, Flows
from bot.replies import GET_STARTED_PAYLOAD, flow_payload

GREETING_MAX = 160
MENU_ITEMS_MAX = 20
MENU_TITLE_MAX = 30
PAYLOAD_MAX = 1000
FIELDS = ("get_started", "greeting", "persistent_menu")
# The persistent menu's entries, in order: the flows doing these fixed actions.
MENU_ACTIONS = ("live_agent", "resume_bot", "restart", "create_ticket")
OUR_PLACEHOLDER, META_PLACEHOLDER = "{first_name}", "{{user_first_name}}"

# Meta's locale codes for a language; a flows locale written like pt_BR is used as is.
META_LOCALES: dict[str, tuple[str, ...]] = {
    "ar": ("ar_AR",), "ca": ("ca_ES",), "cs": ("cs_CZ",), "da": ("da_DK",), "de": ("de_DE",),
    "el": ("el_GR",), "en": ("en_US", "en_GB"), "es": ("es_LA", "es_ES"), "fi": ("fi_FI",),
    "fr": ("fr_FR", "fr_CA"), "he": ("he_IL",), "hi": ("hi_IN",), "hu": ("hu_HU",),
    "id": ("id_ID",), "it": ("it_IT",), "ja": ("ja_JP",), "ko": ("ko_KR",), "ms": ("ms_MY",),
    "nb": ("nb_NO",), "nl": ("nl_NL", "nl_BE"), "pl": ("pl_PL",), "pt": ("pt_BR", "pt_PT"),
    "ro": ("ro_RO",), "ru": ("ru_RU",), "sv": ("sv_SE",), "th": ("th_TH",), "tl": ("tl_PH",),
    "tr": ("tr_TR",), "uk": ("uk_UA",), "vi": ("vi_VN",), "zh": ("zh_CN", "zh_TW", "zh_HK"),
}
KNOWN_META_LOCALES = frozenset(code for codes in META_LOCALES.values() for code in codes)

Json = dict[str, Any]


class ProfileError(Exception):
    """The profile breaks a Messenger rule; `problems` lists each, nothing was sent."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def meta_locales(locale: str) -> tuple[str, ...]:
    """Meta's locale codes for one of our locales (empty when we know none). A code written
    like pt_BR is used as is, and also stands for its language's other codes (pt_PT), as the
    bot answers those customers in it; a flows locale naming one of those itself wins."""
    if "_" in locale:
        others = META_LOCALES.get(locale.split("_")[0], ())
        return (locale, *(code for code in others if code != locale))
    return META_LOCALES.get(locale, ())


def menu_flows(flows: Flows) -> list[Flow]:
    """The flows the persistent menu offers: Talk to a human, Resume, Restart, Email Support."""
    chosen = []
    for action in MENU_ACTIONS:
        flow = next((f for f in flows.flows.values() if f.action == action), None)
        if flow is not None:
            chosen.append(flow)
    return chosen


def build_profile(flows: Flows) -> Json:
    """The `POST /me/messenger_profile` body for these flows."""
    body: Json = {"get_started": {"payload": GET_STARTED_PAYLOAD}}
    greetings, menus = [], []
    items = menu_flows(flows)
    for meta, locale in locale_pairs(flows):
        text = flows.text(flows.greeting, locale).replace(OUR_PLACEHOLDER, META_PLACEHOLDER)
        greetings.append({"locale": meta, "text": text})
        if items:
            actions = [{"type": "postback", "title": flows.title(flow.id, locale),
                        "payload": flow_payload(flow.id)} for flow in items]
            menus.append({"locale": meta, "composer_input_disabled": False,
                          "call_to_actions": actions})
    body["greeting"] = greetings
    if menus:
        body["persistent_menu"] = menus
    return body


def locale_pairs(flows: Flows) -> list[tuple[str, str]]:
    """(Meta locale, our locale): `default` first; a code written in the flows wins."""
    pairs = {"default": flows.default_locale}
    exact = [loc for loc in flows.locales if "_" in loc]
    for locale in [*exact, *(loc for loc in flows.locales if loc not in exact)]:
        for meta in meta_locales(locale) or (locale,):
            pairs.setdefault(meta, locale)
    return list(pairs.items())


def check_profile(body: Json) -> list[str]:
    """Every problem Messenger would refuse this body for (empty: good to send)."""
    return [*_get_started(body), *_greetings(body), *_menus(body)]


def _get_started(body: Json) -> Iterator[str]:
    payload = (body.get("get_started") or {}).get("payload")
    if not isinstance(payload, str) or not payload:
        yield "get_started.payload: required"
    elif len(payload) > PAYLOAD_MAX:
        yield f"get_started.payload: {len(payload)} characters; at most {PAYLOAD_MAX}"


def _greetings(body: Json) -> Iterator[str]:
    greetings = body.get("greeting") or []
    yield from _locales("greeting", greetings)
    for entry in greetings:
        text, where = entry.get("text") or "", f"greeting[{entry.get('locale')}]"
        if not text.strip():
            yield f"{where}: the text is empty"
        elif len(text) > GREETING_MAX:
            yield f"{where}: {len(text)} characters; Messenger allows at most {GREETING_MAX}"


def _menus(body: Json) -> Iterator[str]:
    if "persistent_menu" not in body:
        return
    menus = body["persistent_menu"]
    yield from _locales("persistent_menu", menus)
    for menu in menus:
        where, actions = f"persistent_menu[{menu.get('locale')}]", menu.get("call_to_actions") or []
        if not actions or len(actions) > MENU_ITEMS_MAX:
            yield f"{where}: {len(actions)} items; Messenger allows 1 to {MENU_ITEMS_MAX}"
        for item in actions:
            yield from _menu_item(where, item)


def _menu_item(where: str, item: Json) -> Iterator[str]:
    title = item.get("title") or ""
    if item.get("type") not in ("postback", "web_url"):
        yield f"{where}: item type {item.get('type')!r}; use postback or web_url"
    if not title.strip() or len(title) > MENU_TITLE_MAX:
        yield f"{where}: title {title!r} has {len(title)} characters; 1 to {MENU_TITLE_MAX} allowed"
    payload = item.get("payload") or ""
    if item.get("type") == "postback" and not 0 < len(payload) <= PAYLOAD_MAX:
        yield f"{where}: payload of {title!r} must have 1 to {PAYLOAD_MAX} characters"


def _locales(key: str, entries: list[Json]) -> Iterator[str]:
    codes = [entry.get("locale") for entry in entries]
    if "default" not in codes:
        yield f"{key}: an entry with locale default is required"
    for code in codes:
        if code != "default" and code not in KNOWN_META_LOCALES:
            yield (f"{key}: {code!r} is not a Messenger locale; write the locale in the flows "
                   "file as Messenger names it (e.g. pt_BR)")
    for code in {c for c in codes if codes.count(c) > 1}:
        yield f"{key}: locale {code} appears twice"


def describe(body: Json) -> str:
    """One line saying what the profile sets, for the CLI and the preview."""
    parts = ["Get Started"]
    if body.get("greeting"):
        parts.append("greeting (" + ", ".join(e["locale"] for e in body["greeting"]) + ")")
    menus = body.get("persistent_menu") or []
    if menus:
        titles = ", ".join(item["title"] for item in menus[0]["call_to_actions"])
        parts.append(f"persistent menu in {len(menus)} locales ({titles})")
    else:
        parts.append("no persistent menu (no flow does live_agent, resume_bot, restart or "
                     "create_ticket)")
    return "; ".join(parts)
