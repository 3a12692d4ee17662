"""Rendering a page of the ticket screen in the viewer's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import render_template, request, session

from tickets.auth import Viewer, ui_locale
from tickets.forms import ActionForm
from tickets.i18n import locale_of, t
from tickets.models import as_utc


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
        return t(key, locale, **values)

    other = "en" if locale == "es" else "es"
    page = render_template(template, viewer=viewer, locale=locale, tr=tr, when=when,
                           switch_language=_same_page(lang=other),
                           logout_form=ActionForm() if viewer else None, **context)
    return page, status


def _same_page(**changes: str) -> str:
    args = {**request.args.to_dict(), **changes}
    return f"{request.path}?{urlencode(args)}"


def error_page(viewer: Viewer | None, key: str, status: int) -> tuple[str, int]:
    return render("tickets/error.html", viewer, status, message_key=key)


def when(moment: datetime | None) -> str:
    return f"{as_utc(moment):%Y-%m-%d %H:%M} UTC" if moment else ""
