"""Who is looking at the ticket screen: a customer (signed in by a link from
the bot) or an agent/admin (password). Kept in the signed session cookie;
agents are re-checked on every request so a deactivated account is out at once."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache, wraps
from typing import Any

from flask import redirect, request, session, url_for
from sqlmodel import select
from werkzeug.security import check_password_hash, generate_password_hash

from bot.models import Customer
from tickets.i18n import locale_of
from tickets.models import Agent
from tickets.service import customer_name
from tickets.webapp import db

SESSION_KEY = "viewer"
@dataclass(frozen=True)
class Viewer:
    kind: str  # customer | agent | admin
    id: int
    name: str
    locale: str

    @property
    def is_staff(self) -> bool:
        return self.kind in ("agent", "admin")

    @property
    def customer_id(self) -> int | None:
        """The tickets this viewer is limited to; None for staff (all tickets)."""
        return None if self.is_staff else self.id


def current_viewer() -> Viewer | None:
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    try:
        viewer = Viewer(**data)
    except TypeError:
        return None
    if viewer.is_staff:
        agent = db().get(Agent, viewer.id)
        if agent is None or not agent.active:
            session.clear()
            return None
    return viewer


def sign_in(viewer: Viewer) -> None:
    lang = session.get("lang")
    session.clear()  # a fresh session: nothing carried over from before sign-in
    session[SESSION_KEY] = asdict(viewer)
    if lang:
        session["lang"] = lang
    session.permanent = True


def sign_out() -> None:
    session.clear()


def customer_viewer(customer: Customer) -> Viewer:
    assert customer.id is not None
    return Viewer("customer", customer.id, customer_name(customer), locale_of(customer.messenger_locale))


def check_agent(email: str, password: str) -> Agent | None:
    agent = db().exec(select(Agent).where(Agent.email == email.strip().lower())).first()
    # Unknown emails cost the same hashing time as wrong passwords.
    valid = check_password_hash(agent.password_hash if agent else _dummy_hash(), password)
    return agent if agent is not None and agent.active and valid else None


@cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


def ui_locale(viewer: Viewer | None) -> str:
    chosen = session.get("lang")
    if chosen:
        return locale_of(chosen)
    if viewer is not None:
        return viewer.locale
    return locale_of(request.accept_languages.best_match(["en", "es"]))


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        viewer = current_viewer()
        if viewer is None:
            return redirect(url_for("login.login_page"))
        return view(viewer, *args, **kwargs)

    return wrapper
