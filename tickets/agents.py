"""Staff account changes that end the agent's sessions everywhere: logout,
deactivation, a new password. Each bumps `Agent.session_epoch` in the same
UPDATE, so a cookie signed with the old epoch is refused on its next request."""

from __future__ import annotations

from sqlalchemy import func, update
from sqlmodel import Session, select
from werkzeug.security import generate_password_hash

from tickets.models import Agent


class NoSuchAgent(LookupError):
    """No staff account has this email."""


def session_epoch(agent: Agent) -> str:
    return str(agent.session_epoch or 0)


def end_sessions(session: Session, agent_id: int, **changes: object) -> None:
    """Bump the agent's epoch (and apply `changes`) in one statement; commits."""
    bumped = func.coalesce(Agent.session_epoch, 0) + 1
    session.exec(update(Agent).where(Agent.id == agent_id)  # type: ignore[call-overload,arg-type]
                 .values(session_epoch=bumped, **changes))
    session.commit()


def bound_pages(agent: Agent) -> list[str] | None:
    """The Page ids the account is limited to; None: every Page (an admin, an unbound agent)."""
    return None if agent.role == "admin" else agent.pages


def find(session: Session, email: str) -> Agent:
    agent = session.exec(select(Agent).where(Agent.email == email.strip().lower())).first()
    if agent is None or agent.id is None:
        raise NoSuchAgent(email)
    return agent


def deactivate(session: Session, email: str) -> Agent:
    agent = find(session, email)
    assert agent.id is not None
    end_sessions(session, agent.id, active=False)
    return agent


def set_password(session: Session, email: str, password: str) -> Agent:
    agent = find(session, email)
    assert agent.id is not None
    end_sessions(session, agent.id, password_hash=generate_password_hash(password))
    return agent
