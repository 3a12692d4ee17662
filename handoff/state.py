"""Who owns a customer's thread, as far as Facebook has told us: `Customer.state["handoff"]`.

`bot`: our app owns the thread (or it is idle and we are the Page's default app),
so the bot may speak. `human`: another app (the Page Inbox) owns it; the bot
only listens. `unknown`: a send was refused for ownership and `thread_owner`
could not be asked yet; the next event's channel, or `thread_owner`, settles it.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta

from bot.turn import Turn

KEY = "handoff"
BOT, HUMAN, UNKNOWN = "bot", "human", "unknown"
WINDOW = timedelta(hours=24) - timedelta(minutes=5)  # Messenger's standard window, with a margin


@dataclass(frozen=True)
class Handoff:
    owner: str = BOT
    handover: int = 0  # counts passes to the inbox; the agent-wait check names one
    changed_ms: int = 0  # when `owner` last changed; older events prove nothing about it
    agent_replied: bool = False  # an agent has written since the thread left the bot
    greet: bool = False  # control came back while the bot could not speak: greet next time
    requested: bool = False  # we asked the owner to pass the thread back

    @property
    def with_human(self) -> bool:
        return self.owner != BOT


def read(turn: Turn) -> Handoff:
    raw = turn.state.get(KEY)
    if not isinstance(raw, dict):
        return Handoff()
    known = {name: raw[name] for name in Handoff.__dataclass_fields__ if name in raw}
    return Handoff(**known)


def write(turn: Turn, handoff: Handoff) -> None:
    turn.set_state(**{KEY: asdict(handoff)})


def passed_to_human(turn: Turn) -> Handoff:
    """Our pass to the inbox succeeded: a new handover begins."""
    new = Handoff(owner=HUMAN, handover=read(turn).handover + 1, changed_ms=now_ms())
    write(turn, new)
    return new


def taken_by_human(turn: Turn, *, agent_replied: bool = False) -> None:
    """Another app owns the thread without our pass (the inbox took it, a send was refused)."""
    handoff = read(turn)
    if handoff.owner != HUMAN:
        handoff = replace(handoff, owner=HUMAN, changed_ms=now_ms(), greet=False)
    write(turn, replace(handoff, agent_replied=handoff.agent_replied or agent_replied))


def back_to_bot(turn: Turn, *, greet: bool) -> None:
    """Our app owns the thread again; `greet`: show the menu at the next chance to speak."""
    write(turn, Handoff(handover=read(turn).handover, changed_ms=now_ms(), greet=greet))


def unknown(turn: Turn) -> None:
    write(turn, replace(read(turn), owner=UNKNOWN, changed_ms=now_ms(), greet=False))


def update(turn: Turn, **changes: object) -> None:
    write(turn, replace(read(turn), **changes))  # type: ignore[arg-type]


def is_news(turn: Turn, handoff: Handoff) -> bool:
    """The event happened after the owner last changed, so its channel tells who owns now."""
    timestamp = turn.event.get("timestamp")
    return isinstance(timestamp, int) and timestamp > handoff.changed_ms


def may_speak(turn: Turn) -> bool:
    """Inside Messenger's 24-hour window since the customer's last message."""
    last = turn.customer.last_inbound_at
    if last is None:
        return False
    if last.tzinfo is None:  # SQLite hands datetimes back without their zone
        last = last.replace(tzinfo=UTC)
    return datetime.now(UTC) - last < WINDOW


def now_ms() -> int:
    return int(time.time() * 1000)
