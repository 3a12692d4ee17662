"""Signing in and out of the ticket screen.

A customer's link (`/login?token=...`) opens a one-button page and is only
spent by that button's POST: link previews and mail scanners that fetch the
URL do not use it up. Agents sign in with email and password; repeated
failures for one email are refused for a while.
"""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from bot.models import Customer
from tickets import links
from tickets.auth import Viewer, check_agent, current_viewer, customer_viewer, sign_in, sign_out, ui_locale
from tickets.errors import BadLoginLink
from tickets.forms import ActionForm, AgentLoginForm, LinkLoginForm
from tickets.i18n import locale_of
from tickets.pages import error_page, remember_language, render
from tickets.service import customer_name
from tickets.webapp import configure, db, runtime, secure_headers

bp = Blueprint("login", __name__, template_folder="templates")
bp.record_once(configure)
bp.before_request(remember_language)
bp.after_request(secure_headers)

MAX_FAILURES = 10
FAILURE_WINDOW_SECONDS = 900
Page = tuple[str, int] | Response


@bp.get("/login")
def login_page() -> Page:
    token = request.args.get("token")
    if token:
        return _link_page(token)
    if current_viewer() is not None:
        return redirect(url_for("tickets.index"))
    return render("tickets/login.html", None, form=AgentLoginForm())


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
        return render("tickets/login.html", None, 400, form=form)
    email = (form.email.data or "").strip().lower()
    redis = runtime().redis
    failures_key = f"sd:login-failures:{email}"
    if int(redis.get(failures_key) or 0) >= MAX_FAILURES:
        return render("tickets/login.html", None, 429, form=form, problem="too_many_attempts")
    agent = check_agent(email, form.password.data or "")
    if agent is None:
        with redis.pipeline() as pipe:
            pipe.incr(failures_key)
            pipe.expire(failures_key, FAILURE_WINDOW_SECONDS)
            pipe.execute()
        return render("tickets/login.html", None, 401, form=form, problem="bad_password")
    redis.delete(failures_key)
    assert agent.id is not None
    sign_in(Viewer(agent.role, agent.id, agent.name, ui_locale(None)))
    return redirect(url_for("tickets.index"))


@bp.post("/logout")
def logout() -> Page:
    if ActionForm().validate_on_submit():
        sign_out()
    return redirect(url_for("login.login_page"))
