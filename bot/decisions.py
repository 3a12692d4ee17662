"""Deciding a run of one customer's queued events in one transaction.

Each event's turn runs in order against the customer's state as the events
before it left it; what the turns decided (handled-event markers, inbound
transcript lines, outbox calls) is written with one multi-row INSERT per
table at the end, and the customer's state with one UPDATE. A run of twenty
events thus costs a handful of statements instead of a dozen per event.

A run stops early, so that later events are decided against what Facebook
answered and against committed rows:
- after an event whose calls are more than plain sends (handover calls, or a
  call with a follow-up): its outcome may change what comes next;
- before an event a feature wants decided on its own (`extensions.batch_guards`:
  e.g. a ticket wizard step, which reads the committed transcript);
- before an event whose turn raises: the events before it are decided again
  without it, and it is then tried, and set aside, on its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Insert, Select, Table, bindparam, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session, col, select

from bot import extensions, first_contact, sender_actions
from bot.conversation import handle_turn
from bot.first_contact import short
from bot.models import Customer, HandledEvent, Message, Outbox, utcnow
from bot.turn import Turn
from core.db import session_scope
from core.mailbox import Queued
from core.runtime import Runtime
from messenger.events import dedupe_key

log = logging.getLogger(__name__)

PROFILE_KINDS = ("message", "postback", "referral")  # first contact: who is this?
WINDOW_KINDS = ("message", "postback", "referral")  # an m.me referral counts like a message
FOLLOW_UP = "then"  # a call's body key naming the follow-up of its result (bot.outbox)


@dataclass(frozen=True)
class Call:
    """One outbox row: a Graph call an event owes, identified by (event_key, seq)."""

    event_key: str
    seq: int
    kind: str
    body: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.event_key}#{self.seq}"

    @property
    def plain(self) -> bool:
        """A send whose result changes nothing: later events need not wait for it."""
        return self.kind == "send" and FOLLOW_UP not in self.body


@dataclass
class Decision:
    """A queued event and its calls; `calls` is None when it was decided before (a re-run)."""

    item: Queued
    key: str
    calls: list[Call] | None = None


@dataclass
class Decided:
    customer: Customer
    decisions: list[Decision] = field(default_factory=list)


class _Cut(Exception):
    """The event at `index` raised: decide the ones before it without it."""

    def __init__(self, index: int) -> None:
        self.index = index


class _NeedsProfile(Exception):
    pass


def event_key(item: Queued) -> str:
    """The key an event is marked handled with: stable across redeliveries and re-runs."""
    timestamp = item.event.get("timestamp", 0)
    return f"{item.page_id}:{dedupe_key(item.kind, item.psid, timestamp, item.event)}"


def decide(rt: Runtime, items: list[Queued]) -> Decided:
    """Decide the leading run of `items` (at least the first); raises what its turn raised."""
    raced = False
    while True:
        try:
            return _decide(rt, items)
        except _NeedsProfile:
            sender_actions.typing_on(rt, items[0])  # the answer waits for the profile lookup
            first_contact.prepare_customer(rt, items[0])
        except _Cut as cut:
            items = items[:cut.index]
        except IntegrityError:
            if raced:
                raise
            # A consumer whose lease had run out decided some of them meanwhile:
            # the next pass finds them handled and only delivers their calls.
            log.info("events of %s were decided meanwhile by another worker", items[0].customer)
            raced = True


def _decide(rt: Runtime, items: list[Queued]) -> Decided:
    first = items[0]
    account = rt.account(first.page_id)
    flows = rt.flows_for(account.id).current
    keys = [event_key(item) for item in items]
    with session_scope(rt.engine) as session:
        probes, query = _customer_query()
        found = session.exec(query, params={
            "page_id": first.page_id, "psid": first.psid, "keys": keys}).first()
        customer, any_handled, *answers = found if found is not None else (None, False)
        if customer is None or (not customer.profile_checked
                                and any(item.kind in PROFILE_KINDS for item in items)):
            raise _NeedsProfile
        session.info[extensions.RUN_PROBES] = dict(zip(probes, answers, strict=True))
        handled = set(session.exec(_HANDLED, params={"keys": keys})) if any_handled else set()
        rows = _Rows(session)
        decided = Decided(customer)
        for index, (item, key) in enumerate(zip(items, keys, strict=True)):
            if index and not _joins(decided.decisions[-1], customer, item):
                break
            if key in handled:
                decided.decisions.append(Decision(item, key))
                continue
            turn = Turn(customer, flows, item, rt.settings, account)
            try:
                handle_turn(turn)
            except Exception:
                if index == 0:
                    raise
                raise _Cut(index) from None
            decided.decisions.append(Decision(item, key, rows.record(turn, key, item)))
        rows.flush()
        session.add(customer)
    return decided


# Built once (a statement's construction and cache key cost more than its round trip's
# CPU). The customer comes with whether any of the run's events was decided before (a
# re-run), so a first run, the usual case, reads the handled markers in no second query;
# and with the answers of the features' run probes (`extensions.register_run_probe`).
_KEYS = bindparam("keys", expanding=True)
_HANDLED = select(HandledEvent.key).where(col(HandledEvent.key).in_(_KEYS))
_customer_queries: dict[tuple[str, ...], Select[Any]] = {}


def _customer_query() -> tuple[tuple[str, ...], Select[Any]]:
    """The probes' names and the query that loads the customer with their answers."""
    probes = extensions.run_probes()
    names = tuple(probes)
    query = _customer_queries.get(names)
    if query is None:
        query = select(Customer, _HANDLED.exists(),
                       *(probes[name](col(Customer.id), _KEYS) for name in names)).where(
            Customer.page_id == bindparam("page_id"), Customer.psid == bindparam("psid"))
        _customer_queries[names] = query
    return names, query


def _joins(previous: Decision, customer: Customer, item: Queued) -> bool:
    if previous.calls is None or not all(call.plain for call in previous.calls):
        return False
    return all(guard(customer, item) for guard in extensions.batch_guards())


class _Rows:
    """The run's new rows, written with one INSERT per table.

    Like an ORM autoflush, they are written before a statement of the same
    transaction reads one of their tables (the handover summary reads the
    transcript); nothing is written earlier, so on SQLite the transaction
    takes no write lock while turns run."""

    TABLES: tuple[type, ...] = (HandledEvent, Message, Outbox)

    def __init__(self, session: Session) -> None:
        self.session = session
        self.pending: dict[Table, list[dict[str, Any]]] = {}
        event.listen(session, "do_orm_execute", self._before_read)

    def record(self, turn: Turn, key: str, item: Queued) -> list[Call]:
        customer_id = turn.customer.id
        at = _event_time(item)
        self._add(HandledEvent, key=key, customer_id=customer_id, kind=item.kind,
                  handled_at=utcnow())
        for author, kind, text, payload, mid in turn.heard:
            self._add(Message, customer_id=customer_id, direction="in", author=author, kind=kind,
                      text=_text(text), payload=short(payload, 1000),
                      mid=short(_text(mid), 255), created_at=at)
        calls = [Call(key, seq, kind, body) for seq, (kind, body) in enumerate(turn.calls)]
        for call in calls:
            self._add(Outbox, customer_id=customer_id, event_key=key, seq=call.seq, kind=call.kind,
                      body=call.body, status="pending", error=None, result=None,
                      created_at=utcnow(), done_at=None)
        if item.kind in WINDOW_KINDS:  # opens Messenger's 24-hour window
            turn.customer.last_inbound_at = at
        return calls

    def flush(self) -> None:
        pending, self.pending = self.pending, {}
        for table, rows in pending.items():
            self.session.connection().execute(_INSERTS[table], rows)

    def _add(self, model: type, **values: Any) -> None:
        self.pending.setdefault(model.__table__, []).append(values)  # type: ignore[attr-defined]

    def _before_read(self, state: ORMExecuteState) -> None:
        if self.pending and any(m.class_ in self.TABLES for m in state.all_mappers):
            self.flush()


_INSERTS: dict[Table, Insert] = {model.__table__: model.__table__.insert()  # type: ignore[attr-defined]
                                 for model in _Rows.TABLES}


def _event_time(item: Queued) -> datetime:
    millis = item.event.get("timestamp")
    if not isinstance(millis, int):
        return datetime.now(UTC)
    return datetime.fromtimestamp(millis / 1000, UTC)


def _text(value: object) -> str | None:
    """Text from the event as Meta sent it; an odd value (a list, a number) is no text."""
    return value if isinstance(value, str) else None

