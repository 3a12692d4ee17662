"""Ratings counted for `/metrics` (read at scrape time) and listed for staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from bot.models import Customer
from core.metrics import PREFIX
from satisfaction.models import ChatRating
from tickets.models import Ticket


@dataclass(frozen=True)
class RatingCount:
    """How many `kind` ("ticket" or "chat") of `page_id` got `score` (1-5), or, with
    `score` None, how many ended as `status` without a score: asked (no answer yet),
    outside_window or busy (not asked)."""

    kind: str
    page_id: str
    status: str
    score: int | None
    count: int


def rating_counts(connection: Connection) -> list[RatingCount]:
    """Every rating and unanswered or skipped question, counted by kind, Page, status and
    score: two GROUP BY queries, for `/metrics` at scrape time."""
    counts: list[RatingCount] = []
    for kind, table in (("ticket", Ticket), ("chat", ChatRating)):
        status, score = (col(Ticket.rating_status), col(Ticket.rating)) if table is Ticket \
            else (col(ChatRating.status), col(ChatRating.rating))
        rows = connection.execute(
            select(Customer.page_id, status, score, func.count())
            .join(Customer, Customer.id == table.customer_id)  # type: ignore[arg-type]
            .where(status.is_not(None))
            .group_by(Customer.page_id, status, score))
        counts += [RatingCount(kind, str(page), str(state), rating, int(n))
                   for page, state, rating, n in rows]
    return counts


def rating_gauges(connection: Connection) -> list[Metric]:
    """`/metrics` (registered with core.metrics_scrape): questions asked and their answers."""
    ratings = GaugeMetricFamily(
        PREFIX + "satisfaction_ratings", "Satisfaction questions by kind (ticket, chat), Page, "
        "status and score (1-5; \"\" for asked and unanswered, outside_window or busy)",
        labels=["kind", "page", "status", "score"])
    for rating in rating_counts(connection):
        score = "" if rating.score is None else str(rating.score)
        ratings.add_metric([rating.kind, rating.page_id, rating.status, score], rating.count)
    return [ratings]


@dataclass(frozen=True)
class ChatRatingRow:
    id: int
    customer: str
    returned_at: datetime
    status: str
    rating: int | None
    comment: str | None


def recent_chat_ratings(session: Session, *, accounts: frozenset[str] | None = None,
                        limit: int = 50) -> list[ChatRatingRow]:
    """The latest chats that came back from the inbox, newest first, with their rating;
    only those of customers of `accounts` (Page or Instagram account ids) if given."""
    query = select(ChatRating, Customer).join(Customer, Customer.id == ChatRating.customer_id)  # type: ignore[arg-type]
    if accounts is not None:
        query = query.where(col(Customer.page_id).in_(sorted(accounts)))
    rows = session.exec(query.order_by(col(ChatRating.id).desc()).limit(limit)).all()
    return [ChatRatingRow(rating.id or 0, customer.first_name or f"…{customer.psid[-4:]}",
                          rating.returned_at, rating.status, rating.rating, rating.comment)
            for rating, customer in rows]
