"""The code's own texts in the customer's or viewer's language: gettext catalogs under
`translations/` (Babel), loaded once per locale and shared by every thread and job.

The source texts are English; a locale without a catalog speaks English. A Messenger or
browser locale picks the closest shipped catalog: `pt_BR` as is, `pt_PT` and `pt` the
Portuguese one, `es_LA` Spanish."""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations
from pydantic import Field

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "messages"
SOURCE_LOCALE = "en"


@cache
def shipped_locales() -> tuple[str, ...]:
    """English, then every locale with a compiled catalog (`<locale>/LC_MESSAGES/messages.mo`)."""
    found = sorted(p.parent.parent.name for p in TRANSLATIONS.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    return (SOURCE_LOCALE, *(code for code in found if code != SOURCE_LOCALE))


def closest_locale(code: str, locales: tuple[str, ...]) -> str | None:
    """`code` itself, else a locale of its language (pt_PT -> pt_BR, es_LA -> es), else None."""
    if code in locales:
        return code
    language = code.split("_")[0].lower()
    if language in locales:
        return language
    return next((x for x in locales if x.split("_")[0] == language), None)


@lru_cache(maxsize=1024)  # bounded: browsers and Messenger send codes we never chose
def catalog_locale(code: str | None) -> str:
    """The shipped locale closest to `code` (`es-ES`, `pt_PT`, `pt_br`...); English if none."""
    language, _, region = (code or "").replace("-", "_").strip().partition("_")
    wanted = f"{language.lower()}_{region.upper()}" if region else language.lower()
    return closest_locale(wanted, shipped_locales()) or SOURCE_LOCALE


def translations(locale: str | None) -> NullTranslations:
    """The catalog for `locale` (closest shipped one); the English source texts if none."""
    return _catalog(catalog_locale(locale))


@cache  # one per shipped locale
def _catalog(chosen: str) -> NullTranslations:
    if chosen == SOURCE_LOCALE:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [chosen], DOMAIN)


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark only"
    """Marks `message` for `pybabel extract`; it is translated where it is shown."""
    return message


def say(locale: str | None, message: str, **values: object) -> str:
    """`message` (English, `{name}` placeholders) in `locale`, with `values` filled in.

    Extracted by `pybabel extract -k say:2` (see babel.cfg and `make translations`)."""
    text = translations(locale).gettext(message)
    return text.format(**values) if values else text


def default_texts(message: str) -> Any:
    """A pydantic default for a text admins may word in the flows file and left out: the
    catalogs' `message` in every shipped locale (extracted by `-k default_texts`)."""
    return Field(default_factory=lambda: {
        locale: translations(locale).gettext(message) for locale in shipped_locales()})


@lru_cache(maxsize=256)
def babel_locale(locale: str | None) -> Locale:
    """Babel's Locale for dates and numbers: the customer's own when we speak its language
    (pt_PT keeps its formats under pt_BR's words), else the catalog's (English)."""
    code = (locale or SOURCE_LOCALE).replace("-", "_")
    chosen = catalog_locale(code)
    if chosen.split("_")[0] != code.split("_")[0].lower():
        return Locale.parse(chosen)  # no catalog in its language: no French day in English
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(chosen)
