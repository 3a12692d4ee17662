"""What a run's Graph calls came to, journaled in Redis before anything else happens.

Before a send, the journal gets "attempted" (with the time); once Meta has
answered, the outcome replaces it. A crash in between leaves the mark, and the
next run settles the send by its echo (`bot.echoes`) instead of repeating it
blindly. An outcome rides with the next thing the run journals or does: the
next send's "attempted" mark (one round trip for both), or, before any other
call, a follow-up or the database write, a round trip of its own. So nothing
but this process's own CPU stands between Meta's answer and the journal, as
before, at one round trip per send instead of two.
The database learns the outcomes in one transaction per run (`Ledger.write`),
after which the journal is dropped with the events (`Mailbox.done_many`).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from bot import echoes
from bot.decisions import Call
from bot.models import Customer, Message, Outbox, utcnow
from core.runtime import Runtime

log = logging.getLogger(__name__)

ATTEMPTED = "attempted"  # a send is on its way to Meta; no answer journaled yet
OWED = "owed"  # Meta answered that it did not take the call: it is still owed


class Ledger:
    """What the run's calls came to. Each outcome is journaled in Redis before the run
    does anything else (with the next send's mark, or on its own: `flush`), so a crash
    never repeats a call; the database learns them in one transaction per run
    (`write`), after which the journal is dropped."""

    def __init__(self, rt: Runtime, customer: Customer) -> None:
        self.rt = rt
        self.customer = customer
        self.customer_key = f"{customer.page_id}:{customer.psid}"
        # (call, status, result, error, when Meta answered)
        self.outcomes: list[tuple[Call, str, str | None, str | None, datetime]] = []
        self._made: dict[str, str] | None = None  # the journal, read once when needed
        self._receipts: dict[str, str] | None = None  # our echoes waiting, read once if needed
        self.settled: dict[str, str] = {}  # call key -> mid: owed sends that reached Meta
        self._unjournaled: dict[str, str] = {}  # outcomes riding with the next journal write

    def pending(self, event_keys: list[str]) -> dict[str, list[Call]]:
        """Calls still owed by events decided earlier. Calls the journal says were made (a
        crash before `write`), of these events or any other, are recorded, not made again;
        so are sends a crash cut off whose echo came. Raises EchoAwaited while a cut-off
        send's echo may still come."""
        if not event_keys:
            return {}
        if self._made is None:
            self._made = self.rt.mailbox.journaled(self.customer_key)
        made = self._made
        keys = set(event_keys) | {call_key.rsplit("#", 1)[0] for call_key in made}
        with Session(self.rt.engine) as session:
            rows = session.exec(
                select(Outbox)
                .where(col(Outbox.event_key).in_(keys), Outbox.status == "pending")
                .order_by(Outbox.event_key, Outbox.seq)  # type: ignore[arg-type]
            ).all()
        owed: dict[str, list[Call]] = {}
        awaited: echoes.EchoAwaited | None = None
        for row in rows:
            call = Call(row.event_key, row.seq, row.kind, row.body)
            entry: list[Any] | None = json.loads(made.pop(call.key)) if call.key in made else None
            if entry is not None and entry[0] == ATTEMPTED:
                try:
                    entry = self._settle(call, int(entry[3]))
                except echoes.EchoAwaited as exc:
                    awaited = awaited or exc
                    continue
                if entry is not None and not call.plain and row.event_key in event_keys:
                    self.settled[call.key] = entry[1]  # its follow-up runs as if just sent
                    entry = None
            if entry is not None and entry[0] != OWED:
                status, result, error = entry[:3]
                self.outcomes.append((call, status, result, error, utcnow()))
            elif row.event_key in event_keys:
                owed.setdefault(row.event_key, []).append(call)
        if awaited is not None:
            raise awaited
        return owed

    def _settle(self, call: Call, attempted_ms: int) -> list[Any] | None:
        """The outcome of a send a crash cut off: sent, if its echo came; None (owed) once
        the wait is over; raises EchoAwaited before that."""
        if self._receipts is None:
            self._receipts = echoes.receipts(self.rt, self.customer_key)
        mid = self._receipts.get(echoes.metadata_for(call.key))
        if mid is not None:
            log.info("customer %s: %s reached Facebook before a crash; its echo %s is the "
                     "receipt, not sent again", self.customer.id, call.key, mid)
            return ["sent", mid, None]
        left = attempted_ms + self.rt.settings.echo_wait_ms - echoes.now_ms()
        if left > 0:
            raise echoes.EchoAwaited(call.key, min(left, echoes.POLL_MS))
        log.warning("customer %s: no echo of %s within %d ms of the attempt a crash cut off; "
                    "sending it again (a duplicate if Facebook had it)", self.customer.id,
                    call.key, self.rt.settings.echo_wait_ms)
        return None

    def attempt(self, call: Call) -> None:
        """Note that a send is about to go out (its outcome is unknown until `note`), with
        the outcomes noted since the last journal write, in one round trip."""
        self._journal(call.key, json.dumps([ATTEMPTED, None, None, echoes.now_ms()]))

    def owed(self, call: Call) -> None:
        """Meta answered with a retryable refusal: the call is owed, no echo to wait for."""
        self._journal(call.key, json.dumps([OWED, None, None]))

    def note(self, call: Call, status: str, result: str | None, error: str | None) -> None:
        """What Meta answered; journaled with the next send's mark, or by `flush`. The
        caller flushes before any call that is not a send (`bot.outbox`)."""
        self.outcomes.append((call, status, result, error, utcnow()))
        self._unjournaled[call.key] = json.dumps([status, result, error])

    def flush(self) -> None:
        """Journal the outcomes noted since the last journal write (one round trip, if any)."""
        if self._unjournaled:
            entries, self._unjournaled = self._unjournaled, {}
            self.rt.mailbox.journal(self.customer_key, entries)

    def _journal(self, call_key: str, entry: str) -> None:
        self._unjournaled[call_key] = entry
        self.flush()

    def write(self) -> None:
        """Journal what is not yet (a database failure must not lose it), then record the
        outcomes in the database, in one transaction."""
        try:
            self.flush()
        finally:  # Redis down: the database still learns them, and the error is raised
            self._record()

    def _record(self) -> None:
        if not self.outcomes:
            return
        outcomes, self.outcomes = self.outcomes, []
        lines = [line for call, status, result, _, at in outcomes if status == "sent"
                 and (line := transcript_line(self.customer, call, result, at)) is not None]
        with self.rt.engine.begin() as connection:  # Core only: no ORM session needed
            connection.execute(_MARK_DONE, [
                {"b_key": call.event_key, "b_seq": call.seq, "b_status": status,
                 "b_result": result, "b_error": error, "b_at": at}
                for call, status, result, error, at in outcomes])
            if lines:
                connection.execute(_TRANSCRIBE, lines)


# Built once: a statement's construction and cache key cost more CPU than its round trip.
_OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
_MARK_DONE = (
    update(_OUTBOX)
    .where(_OUTBOX.c.event_key == bindparam("b_key"), _OUTBOX.c.seq == bindparam("b_seq"),
           _OUTBOX.c.status == "pending")
    .values(status=bindparam("b_status"), result=bindparam("b_result"),
            error=bindparam("b_error"), done_at=bindparam("b_at"))
)
_TRANSCRIBE = Message.__table__.insert()  # type: ignore[attr-defined]


def transcript_line(customer: Customer, call: Call, result: str | None,
                    at: datetime | None = None) -> dict[str, Any] | None:
    """The transcript row of a send Meta accepted as message `result`; None for other calls."""
    if call.kind != "send":
        return None
    message: dict[str, Any] = call.body.get("message", {})
    text = message.get("text") or (
        message.get("attachment", {}).get("payload", {}).get("text"))
    quick = [q.get("title") for q in message.get("quick_replies", [])]
    payload = " | ".join(str(q) for q in quick)[:1000] or None
    author = str(call.body.get("author", "bot"))  # tickets deliver agents' replies too
    return {"customer_id": customer.id, "direction": "out", "author": author, "kind": "text",
            "text": text, "payload": payload, "mid": result, "created_at": at or utcnow()}
