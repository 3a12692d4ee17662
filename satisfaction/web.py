"""`/tickets/ratings`: the latest chats the Page Inbox gave back, with the customer's rating,
for staff only, each agent their Pages' (tickets.scope). (A ticket's rating is on its own
page.)"""

from __future__ import annotations

from flask import Blueprint

from satisfaction.stats import recent_chat_ratings
from tickets.auth import Viewer, login_required
from tickets.pages import error_page, remember_language, render
from tickets.webapp import configure, db, secure_headers

bp = Blueprint("chat_ratings", __name__, url_prefix="/tickets", template_folder="templates")
bp.record_once(configure)
bp.before_request(remember_language)
bp.after_request(secure_headers)


@bp.get("/ratings")
@login_required
def index(viewer: Viewer) -> tuple[str, int]:
    if not viewer.is_staff:
        return error_page(viewer, "forbidden", 403)
    ratings = recent_chat_ratings(db(), accounts=viewer.scope.account_ids)
    return render("satisfaction/ratings.html", viewer, ratings=ratings)
