"""`/tickets/unmatched`: inbound mail kept because it proves no ticket (a forged
`[#N]`, an unknown thread, a bad reply address, an auto-reply), for staff who see every
Page (mail that proves no ticket proves no Page either: an agent bound to some Pages
could read another client's customer). The same list as `flask tickets unmatched`;
nothing here reaches a customer."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint
from sqlmodel import Session, col, select

from tickets.auth import Viewer, login_required
from tickets.models import InboundEmail
from tickets.pages import error_page, remember_language, render
from tickets.webapp import configure, db, secure_headers

bp = Blueprint("unmatched_mail", __name__, url_prefix="/tickets")
bp.record_once(configure)
bp.before_request(remember_language)
bp.after_request(secure_headers)

LIMIT = 100


def unmatched_mail(session: Session, *, limit: int = LIMIT) -> Sequence[InboundEmail]:
    """Newest first."""
    return session.exec(select(InboundEmail).order_by(col(InboundEmail.id).desc()).limit(limit)).all()


@bp.get("/unmatched")
@login_required
def index(viewer: Viewer) -> tuple[str, int]:
    if not (viewer.is_staff and viewer.scope.everything):
        return error_page(viewer, "forbidden", 403)
    return render("tickets/unmatched.html", viewer, mails=unmatched_mail(db()))
