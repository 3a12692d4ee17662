"""Signing in and out of the ticket screen.

A customer's link (`/login?token=...`) opens a one-button page and is only
spent by that button's POST: link previews and mail scanners that fetch the
URL do not use it up. Agents sign in with email and password. Each attempt
first spends sign-in budgets (tickets/signin_limits.py: per address, per
account and address, per account from unfamiliar addresses), answered 429 with
Retry-After when one is spent; then waits for one of the process's few
password-check slots (tickets/password_gate.py), answered 503 when they are
all taken. Neither locks anybody out: budgets refill as their window moves.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, redirect, request, url_for
from redis.exceptions import RedisError
from werkzeug.wrappers import Response

from bot.models import Customer
from tickets import links
from tickets.auth import agent_viewer, check_agent, current_viewer, customer_viewer, sign_in, sign_out
from tickets.chat_links import ChatLink, chat_links
from tickets.errors import BadLoginLink
from tickets.forms import ActionForm, AgentLoginForm, LinkLoginForm
from tickets.i18n import locale_of
from tickets.pages import error_page, remember_language, render
from tickets.password_gate import GateFull, PasswordGate
from tickets.service import customer_name
from tickets.signin_limits import SignInLimits
from tickets.webapp import configure, db, local_preview, pages, runtime, secure_headers

log = logging.getLogger(__name__)

bp = Blueprint("login", __name__, template_folder="templates")
bp.record_once(configure)
bp.before_request(remember_language)
bp.after_request(secure_headers)

BUSY_RETRY_SECONDS = 1
Page = tuple[str, int] | Response


@bp.get("/login")
def login_page() -> Page:
    token = request.args.get("token")
    if token:
        return _link_page(token)
    if current_viewer() is not None:
        return redirect(url_for("tickets.index"))
    return render("tickets/login.html", None, form=AgentLoginForm(), chat_links=_chat_links())


def _link_page(token: str) -> Page:
    rt, viewer = runtime(), current_viewer()
    try:
        claims = links.read_link(rt.settings.secret_key, token)
        customer = _customer(claims)
        if links.is_used(rt.redis, claims):
            if viewer is not None and viewer.kind == "customer" and viewer.id == customer.id:
                return redirect(claims.next_path)  # their own link again, already signed in
            raise BadLoginLink("used")
    except BadLoginLink as error:
        return error_page(viewer, f"link_{error.reason}", 410 if error.reason != "invalid" else 400)
    form = LinkLoginForm(token=token)
    return render("tickets/link.html", viewer, form=form, name=customer_name(customer),
                  locale=locale_of(customer.messenger_locale))


@bp.post("/login/link")
def link_sign_in() -> Page:
    rt, form = runtime(), LinkLoginForm()
    if not form.validate_on_submit():
        return error_page(current_viewer(), "form_expired", 400)
    try:
        claims = links.read_link(rt.settings.secret_key, form.token.data or "")
        customer = _customer(claims)
        links.consume(rt.redis, claims)
    except BadLoginLink as error:
        return error_page(current_viewer(), f"link_{error.reason}", 410 if error.reason != "invalid" else 400)
    sign_in(customer_viewer(customer))
    return redirect(claims.next_path)


def _customer(claims: links.LinkClaims) -> Customer:
    customer = db().get(Customer, claims.customer_id)
    if customer is None:
        raise BadLoginLink("invalid")
    return customer


@bp.post("/login")
def agent_sign_in() -> Page:
    form = AgentLoginForm()
    if not form.validate_on_submit():
        return render("tickets/login.html", None, 400, form=form, chat_links=_chat_links())
    email, address = (form.email.data or "").strip().lower(), client_address()
    limits = signin_limits()
    try:
        refusal = limits.spend(email, address)
        if refusal is not None:
            return _refused(form, "too_many_attempts", 429, refusal.retry_after)
        agent = check_agent(email, form.password.data or "", gate=password_gate())
        if agent is None:
            return render("tickets/login.html", None, 401, form=form, problem="bad_password",
                          chat_links=_chat_links())
        limits.succeeded(email, address)
    except GateFull:
        return _refused(form, "sign_in_busy", 503, BUSY_RETRY_SECONDS)
    except RedisError as error:  # the budgets cannot be kept: no password is checked unbudgeted
        log.warning("agent sign-in refused, Redis unavailable: %s", type(error).__name__)
        return _refused(form, "sign_in_busy", 503, BUSY_RETRY_SECONDS)
    sign_in(agent_viewer(agent))
    return redirect(url_for("tickets.index"))


def _refused(form: AgentLoginForm, problem: str, status: int, retry_after: int) -> Response:
    """The login page with `problem`, saying how long to wait (in minutes from two on)."""
    minutes = -(-retry_after // 60)
    if problem == "too_many_attempts" and retry_after >= 120:
        problem = "too_many_attempts_minutes"
    page, _ = render("tickets/login.html", None, status, form=form, problem=problem, seconds=retry_after,
                     minutes=minutes, chat_links=_chat_links())
    return Response(page, status, headers={"Retry-After": str(retry_after)}, mimetype="text/html")


def _chat_links() -> list[ChatLink]:
    """Chat Support on the sign-in page: the bot answers these links with a sign-in link."""
    return chat_links(pages(), db(), preview=local_preview())


def client_address() -> str:
    """The client's address: behind `TRUSTED_PROXIES` reverse proxies, the one the
    outermost trusted proxy saw (X-Forwarded-For, counted from the right; the
    left-hand entries are the client's own words); else the connection's."""
    hops = runtime().settings.trusted_proxies
    if hops:
        forwarded = [part.strip() for value in request.headers.getlist("X-Forwarded-For")
                     for part in value.split(",")]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.remote_addr or ""


def signin_limits() -> SignInLimits:
    """The app's sign-in budgets (tests may put their own in `app.extensions`)."""
    limits = current_app.extensions.get("signin_limits")
    if limits is None:
        limits = current_app.extensions["signin_limits"] = SignInLimits(runtime().redis)
    return limits


def password_gate() -> PasswordGate:
    """The process's bound on concurrent password checks (one app per process)."""
    return current_app.extensions.setdefault("password_gate", PasswordGate())


@bp.post("/logout")
def logout() -> Page:
    if ActionForm().validate_on_submit():
        sign_out(current_viewer())
    return redirect(url_for("login.login_page"))
