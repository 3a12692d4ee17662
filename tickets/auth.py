"""Who is looking at the ticket screen: a customer (signed in by a link from
the bot) or an agent/admin (password). Kept in the signed session cookie with
a session epoch, checked on every request: an agent's is `Agent.session_epoch`
(bumped by logout, deactivation and a new password), a customer's a random
token in Redis (replaced by their logout). A copied cookie with an older epoch
is refused, so signing out ends the viewer's sessions everywhere."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from functools import cache, wraps
from typing import Any

from flask import redirect, session, url_for
from redis import Redis
from redis.exceptions import RedisError
from sqlmodel import select
from werkzeug.security import check_password_hash, generate_password_hash

from bot.models import Customer
from tickets.agents import bound_pages, end_sessions, session_epoch
from tickets.i18n import locale_of
from tickets.models import Agent
from tickets.password_gate import PasswordGate, off_the_loop
from tickets.scope import EVERYTHING, Scope, pages_scope
from tickets.service import customer_name
from tickets.webapp import browser_locale, db, runtime

log = logging.getLogger(__name__)
SESSION_KEY = "viewer"
CUSTOMER_EPOCH_SECONDS = 30 * 86400  # a customer's token outlives any session signed in under it


@dataclass(frozen=True)
class Viewer:
    kind: str  # customer | agent | admin
    id: int
    name: str
    locale: str
    epoch: str = ""  # cookies from before epochs (or forged without one) never match
    # A staff member's Pages, read from their account on every request (never from the
    # cookie), so `users set-pages` applies at their next click.
    staff_scope: Scope = field(default=EVERYTHING, compare=False)

    @property
    def is_staff(self) -> bool:
        return self.kind in ("agent", "admin")

    @property
    def customer_id(self) -> int | None:
        """The tickets this viewer is limited to; None for staff (all tickets)."""
        return None if self.is_staff else self.id

    @property
    def scope(self) -> Scope:
        """What this viewer may see (tickets.scope)."""
        return self.staff_scope if self.is_staff else Scope(customer_id=self.id)


COOKIE_FIELDS = tuple(f.name for f in fields(Viewer) if f.name != "staff_scope")


def current_viewer() -> Viewer | None:
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict) or not set(data) <= set(COOKIE_FIELDS):
        return None
    try:
        viewer = Viewer(**data)
    except TypeError:
        return None
    if viewer.is_staff:
        agent = _signed_in_agent(viewer)
        if agent is not None:
            return replace(viewer, staff_scope=agent_scope(agent))
    elif _customer_still_signed_in(viewer):
        return viewer
    session.clear()
    return None


def agent_scope(agent: Agent) -> Scope:
    """An admin, or an agent bound to no Page, sees every Page's tickets."""
    pages = bound_pages(agent)
    return EVERYTHING if pages is None else pages_scope(pages, runtime().pages)


def _signed_in_agent(viewer: Viewer) -> Agent | None:
    agent = db().get(Agent, viewer.id)
    if agent is not None and agent.active and hmac.compare_digest(
            session_epoch(agent).encode(), str(viewer.epoch).encode()):
        return agent
    return None


def _customer_still_signed_in(viewer: Viewer) -> bool:
    try:
        current = runtime().redis.get(_customer_epoch_key(viewer.id))
    except RedisError as error:  # fail closed: the customer is shown the sign-in page
        log.warning("customer session not checked, Redis unavailable: %s", type(error).__name__)
        return False
    return current is not None and hmac.compare_digest(current, str(viewer.epoch).encode())


def sign_in(viewer: Viewer) -> None:
    lang = session.get("lang")
    session.clear()  # a fresh session: nothing carried over from before sign-in
    session[SESSION_KEY] = {name: getattr(viewer, name) for name in COOKIE_FIELDS}
    if lang:
        session["lang"] = lang
    session.permanent = True


def sign_out(viewer: Viewer | None) -> None:
    """End this viewer's sessions everywhere (not only this browser's cookie)."""
    if viewer is not None and viewer.is_staff:
        end_sessions(db(), viewer.id)
    elif viewer is not None:
        try:
            runtime().redis.set(_customer_epoch_key(viewer.id), secrets.token_urlsafe(16),
                                ex=CUSTOMER_EPOCH_SECONDS)
        except RedisError as error:  # this browser is still signed out; copies are refused
            # while Redis is down (fail closed) but would work again when it is back
            log.warning("customer %s signed out here only, Redis unavailable: %s",
                        viewer.id, type(error).__name__)
    session.clear()


def customer_viewer(customer: Customer) -> Viewer:
    assert customer.id is not None
    return Viewer("customer", customer.id, customer_name(customer), locale_of(customer.messenger_locale),
                  _customer_epoch(runtime().redis, customer.id))


def agent_viewer(agent: Agent) -> Viewer:
    assert agent.id is not None
    return Viewer(agent.role, agent.id, agent.name, ui_locale(None), session_epoch(agent))


def _customer_epoch(redis: Redis, customer_id: int) -> str:
    """The customer's current token, made on their first sign-in (or after a Redis loss)."""
    key = _customer_epoch_key(customer_id)
    redis.set(key, secrets.token_urlsafe(16), nx=True)
    with redis.pipeline() as pipe:
        pipe.get(key)
        pipe.expire(key, CUSTOMER_EPOCH_SECONDS)
        token, _ = pipe.execute()
    return token.decode()


def _customer_epoch_key(customer_id: int) -> str:
    return f"sd:signin:customer-epoch:{customer_id}"


def check_agent(email: str, password: str, *, gate: PasswordGate) -> Agent | None:
    """The active agent with this email and password, else None. Within one of the
    gate's slots (GateFull when it is full, before the database is asked anything)."""
    with gate.slot():
        agent = db().exec(select(Agent).where(Agent.email == email.strip().lower())).first()
        # Unknown emails cost the same hashing time as wrong passwords.
        valid = off_the_loop(check_password_hash, agent.password_hash if agent else _dummy_hash(),
                             password)
    return agent if agent is not None and agent.active and valid else None


@cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


def ui_locale(viewer: Viewer | None) -> str:
    """`?lang=` first, then the viewer's own language, then the browser's."""
    if viewer is not None and not session.get("lang"):
        return viewer.locale
    return browser_locale()


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        viewer = current_viewer()
        if viewer is None:
            return redirect(url_for("login.login_page"))
        return view(viewer, *args, **kwargs)

    return wrapper
