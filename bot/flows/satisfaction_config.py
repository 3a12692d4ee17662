"""The `satisfaction:` section of the flows file: whether the bot asks customers to rate
the help (per language), and its words. Checked with the rest of the file (errors name
file and line). Every key is optional; without the section the bot asks, in the words
below as the catalogs (translations/) give them in each shipped language."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from bot.flows.text import TITLE_MAX, Loc, QuickReplyTitle, Text, fail, get, quote, too_long
from core.i18n import default_texts, shipped_locales

SCORES = 5  # the choices are scores 1 to 5, worst first
STARS = tuple("⭐" * n for n in range(1, SCORES + 1))


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SatisfactionConfig(_Frozen):
    """`enabled`: true, false, or per language ({en: true, es: false})."""

    enabled: bool | dict[str, bool] = True
    ask_comment: bool = True  # after the score, offer to add a comment (with Skip)
    question: Text = default_texts(
        "How would you rate the help you got, from 1 (poor) to 5 (excellent)?")
    choices: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: dict.fromkeys(shipped_locales(), STARS))
    comment_prompt: Text = default_texts(
        "Thank you! Is there anything you would like to add? Write it here, or tap Skip.")
    skip_button: QuickReplyTitle = default_texts("Skip")
    thanks: Text = default_texts("Thanks for your feedback! It helps us get better.")

    @field_validator("enabled", mode="before")
    @classmethod
    def _on_or_off(cls, value: object) -> object:
        if isinstance(value, bool):
            return value
        if isinstance(value, Mapping) and all(isinstance(v, bool) for v in value.values()):
            return dict(value)
        message = f"expected true, false, or per language like {{en: true, es: false}}; found {quote(value)}"
        raise PydanticCustomError("flows", message)

    @field_validator("choices")
    @classmethod
    def _five_short_titles(cls, choices: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        problems: list[tuple[Loc, str]] = []
        for locale, titles in choices.items():
            if len(titles) != SCORES:
                problems.append(((locale,), f"{len(titles)} choices; list exactly {SCORES}, "
                                            "for scores 1 (worst) to 5 (best)"))
            for i, title in enumerate(titles):
                if not title.strip():
                    problems.append(((locale, i), "must not be empty"))
                elif len(title) > TITLE_MAX:
                    problems.append(((locale, i), too_long(title, TITLE_MAX, "quick-reply titles")))
                elif title in titles[:i]:
                    problems.append(((locale, i), f"{quote(title)} is listed twice"))
        fail(problems)
        return choices

    def enabled_for(self, locale: str) -> bool:
        if isinstance(self.enabled, bool):
            return self.enabled
        return self.enabled.get(locale, True)


TEXTS = ("question", "choices", "comment_prompt", "skip_button", "thanks")


def satisfaction_rules(data: object) -> Iterator[tuple[Loc, str]]:
    """Each text written in `satisfaction` has every locale of the file, and only those;
    `enabled` per language names only the file's locales."""
    locales = get(data, "locales")
    section = get(data, "satisfaction")
    if not isinstance(locales, list | tuple) or not isinstance(section, Mapping):
        return
    for key in (*TEXTS, "enabled"):
        localized = section.get(key)
        if not isinstance(localized, Mapping):
            continue
        loc: Loc = ("satisfaction", key)
        if key != "enabled":
            for missing in (x for x in locales if x not in localized):
                yield loc, f"missing the {quote(missing)} translation"
        for unknown in (x for x in localized if x not in locales):
            yield (*loc, unknown), f"{quote(unknown)} is not one of the locales ({', '.join(locales)})"
