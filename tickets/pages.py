"""Rendering a page of the ticket screen in the viewer's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import render_template, request, session
from flask_babel import force_locale

from core.dates import moment_text
from core.i18n import babel_locale, shipped_locales
from tickets.auth import Viewer, ui_locale
from tickets.forms import ActionForm
from tickets.i18n import label, locale_of
from tickets.webapp import runtime


def remember_language() -> None:
    """`?lang=es` on any page switches the screen's language (before_request)."""
    chosen = request.args.get("lang")
    if chosen:
        session["lang"] = locale_of(chosen)


def render(template: str, viewer: Viewer | None, status: int = 200, *, locale: str | None = None,
           **context: Any) -> tuple[str, int]:
    """`locale`: the page's language unless the visitor picked one (`?lang=`)."""
    locale = locale_of(session["lang"]) if session.get("lang") else (locale or ui_locale(viewer))

    def tr(key: str, **values: object) -> str:
        return label(key, locale, **values)

    def when(moment: datetime | None) -> str:
        return moment_text(moment, locale, runtime().flows.current.handoff.zone)

    languages = [(_same_page(lang=code), _native_name(code)) for code in shipped_locales() if code != locale]
    with force_locale(locale):
        page = render_template(template, viewer=viewer, locale=locale, tr=tr, when=when,
                               languages=languages, switch_language=languages[0][0],
                               logout_form=ActionForm() if viewer else None, **context)
    return page, status


def _native_name(code: str) -> str:
    """'Português (Brasil)': a language named in itself, for the language links."""
    name = babel_locale(code).get_display_name(babel_locale(code)) or code
    return name[:1].upper() + name[1:]


def _same_page(**changes: str) -> str:
    args = {**request.args.to_dict(), **changes}
    return f"{request.path}?{urlencode(args)}"


def error_page(viewer: Viewer | None, key: str, status: int) -> tuple[str, int]:
    return render("tickets/error.html", viewer, status, message_key=key)

