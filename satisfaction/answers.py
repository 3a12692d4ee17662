"""The customer's answers: a score (a `rate:` quick reply, or typed), then an optional
comment (any text while it is awaited, or Skip). The prompt never traps anyone: a tap
on anything else, a keyword typed as the whole message, an attachment, or an answer
after `ANSWER_WAIT_MS` leaves the rating and is answered as usual."""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session, select

from bot import replies
from bot.flows.text import normalize
from bot.turn import Turn
from satisfaction.ask import ASKED, CHAT, PREFIX, STATE, TICKET, Subject, choices, now_ms, pending, utcnow
from satisfaction.models import ChatRating
from tickets.models import Ticket
from tickets.turns import quick_reply_payload, turn_session, typed_text

log = logging.getLogger(__name__)

ANSWER_WAIT_MS = 60 * 60 * 1000  # later, a typed "5" or a sentence is not taken as an answer
COMMENT_MAX = 1000  # characters kept on the rating (the transcript keeps the whole message)


def on_payload(turn: Turn, payload: str) -> bool:
    """`rate:<kind>:<ref>:<score>` and `rate:skip:<kind>:<ref>`; False if not one of ours."""
    parts = payload.split(":")
    if len(parts) == 4 and parts[1] == "skip" and parts[3].isdigit():
        _thanks(turn)
        return True
    if len(parts) != 4 or parts[1] not in (TICKET, CHAT) or not parts[2].isdigit() \
            or parts[3] not in {str(n) for n in range(1, len(choices(turn)) + 1)}:
        return False
    return _rated(turn, Subject(parts[1], int(parts[2])), int(parts[3]))


def turn_hook(turn: Turn) -> bool:
    """Registered last: a typed score or comment while one is awaited. True: handled."""
    asked = pending(turn)
    if asked is None or turn.on_standby or turn.kind not in ("message", "postback"):
        return False
    payload = quick_reply_payload(turn)
    if payload is not None and payload.startswith(PREFIX + ":"):
        return False  # our quick reply: `on_payload` takes it
    text = typed_text(turn) if payload is None and turn.kind == "message" else None
    if text is None or _expired(turn, asked):
        turn.clear_state(STATE)
        return False
    subject = Subject(str(asked.get("kind")), int(asked.get("ref") or 0))
    if asked.get("step") == "score":
        score = _typed_score(turn, text)
        if score is None:
            turn.clear_state(STATE)
            return False
        return _rated(turn, subject, score)
    if _is_a_keyword(turn, text):
        turn.clear_state(STATE)
        return False
    skip = normalize(turn.text(turn.flows.satisfaction.skip_button))
    if normalize(text) != skip:
        _store(turn, subject, comment=text.strip()[:COMMENT_MAX])
    _thanks(turn)
    return True


def _rated(turn: Turn, subject: Subject, score: int) -> bool:
    """Store the score; then the comment prompt (or thanks). False: no such question."""
    if not _store(turn, subject, score=score):
        return False
    config = turn.flows.satisfaction
    if not config.ask_comment:
        _thanks(turn)
        return True
    skip = (turn.text(config.skip_button), subject.skip_payload)
    turn.send(*replies.text_messages(turn.text(config.comment_prompt), [skip]))
    turn.set_state(**{STATE: {"kind": subject.kind, "ref": subject.ref, "step": "comment",
                              "at": now_ms()}}, greeted=True)
    return True


def _thanks(turn: Turn) -> None:
    turn.clear_state(STATE)
    thanks = turn.text(turn.flows.satisfaction.thanks)
    turn.send(*replies.menu_messages(turn.flows, turn.locale, intro=thanks))
    turn.set_state(greeted=True)


def _store(turn: Turn, subject: Subject, *, score: int | None = None,
           comment: str | None = None) -> bool:
    """Put the score or the comment on what was asked about; False if it was never asked."""
    with turn_session(turn) as session:
        row = _asked_row(session, turn, subject)
        if row is None:
            log.info("customer %s: a rating for %s %s that was not asked; ignored",
                     turn.customer.id, subject.kind, subject.ref)
            return False
        if score is not None:
            row.rating, row.rated_at = score, utcnow()
        if comment:
            if isinstance(row, Ticket):
                row.rating_comment = comment
            else:
                row.comment = comment
        session.add(row)
    return True


def _asked_row(session: Session, turn: Turn, subject: Subject) -> Ticket | ChatRating | None:
    if subject.kind == TICKET:
        ticket = session.get(Ticket, subject.ref)
        ok = ticket is not None and ticket.customer_id == turn.customer.id \
            and ticket.rating_status == ASKED
        return ticket if ok else None
    return session.exec(select(ChatRating).where(
        ChatRating.customer_id == turn.customer.id, ChatRating.handover_ms == subject.ref,
        ChatRating.status == ASKED)).first()


def _typed_score(turn: Turn, text: str) -> int | None:
    """"4", or a choice's title typed (or pasted) instead of tapped."""
    typed, folded = text.strip(), normalize(text)
    for score, title in enumerate(choices(turn), start=1):
        if typed == title.strip() or folded == str(score) or (folded and folded == normalize(title)):
            return score
    return None


def _is_a_keyword(turn: Turn, text: str) -> bool:
    """The whole message is one of the flows' keywords or titles (in any language)."""
    folded = normalize(text)
    return any(folded == normalize(word) for flow in turn.flows.flows.values()
               for word in (*flow.title.values(), *(w for ws in flow.keywords.values() for w in ws)))


def _expired(turn: Turn, asked: dict[str, Any]) -> bool:
    timestamp = turn.event.get("timestamp")
    at = asked.get("at")
    if not isinstance(timestamp, int) or not isinstance(at, int):
        return False
    return timestamp - at > ANSWER_WAIT_MS
