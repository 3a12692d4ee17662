"""What the ticket screen's views share: the runtime, one database session per
request (closed on teardown), session-cookie settings and security headers."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Request, Response, current_app, g, request, session, url_for
from flask.blueprints import BlueprintSetupState
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import Babel
from sqlmodel import Session

from config.pages import PagesDirectory
from core.i18n import SOURCE_LOCALE, TRANSLATIONS, catalog_locale, shipped_locales
from core.runtime import Runtime

SESSION_LIFETIME = timedelta(hours=8)
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def runtime() -> Runtime:
    return current_app.extensions["runtime"]


def pages() -> PagesDirectory:
    """The Pages served (the pages file's last good version)."""
    return runtime().pages


def local_preview() -> str | None:
    """The local preview's page when this app is the preview (chat links open it there)."""
    return url_for("preview.page") if "preview" in current_app.blueprints else None


def db() -> Session:
    if "tickets_db" not in g:
        g.tickets_db = Session(runtime().engine, expire_on_commit=False)
    return g.tickets_db


def _close_db(_error: BaseException | None) -> None:
    session = g.pop("tickets_db", None)
    if session is not None:
        session.close()


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, without building the signer for a request that
    carries no session cookie: Messenger's webhook POSTs never do, and on that hot
    path the signer cost ~20 µs per request. A session written later is signed as usual."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def configure(state: BlueprintSetupState) -> None:
    """Once per app (Blueprint.record_once): cookies and the per-request session."""
    app: Flask = state.app
    if app.extensions.get("tickets_configured"):
        return
    app.extensions["tickets_configured"] = True
    settings = app.config["SETTINGS"]
    app.config.update(
        SESSION_COOKIE_NAME="sd_session",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        WTF_CSRF_TIME_LIMIT=int(SESSION_LIFETIME.total_seconds()),
    )
    app.session_interface = CookieSessionInterface()
    app.teardown_appcontext(_close_db)
    # `_()` in templates; tickets.pages.render picks the viewer's language with force_locale
    Babel(app, locale_selector=browser_locale, default_translation_directories=str(TRANSLATIONS))


def browser_locale() -> str:
    """The language picked with `?lang=`, else the browser's first one we ship, else English."""
    if session.get("lang"):
        return catalog_locale(session["lang"])
    for code, _quality in request.accept_languages:
        if catalog_locale(code) != SOURCE_LOCALE or code.split("-")[0].lower() == SOURCE_LOCALE:
            return catalog_locale(code)
    return shipped_locales()[0]


def secure_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)  # a served file keeps its sandbox
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"  # sign-in links must not leak
    response.headers.setdefault("Cache-Control", "no-store")
    return response
