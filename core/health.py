"""`/livez` (liveness: the process serves requests; touches nothing else) and
`/healthz` (readiness: is the database reachable, is Redis reachable).

Point restart-on-failure probes at `/livez`: a database outage makes `/healthz`
answer 503, but the webhook still acknowledges events (it needs only Redis), so
restarting the web processes for it would only drop Meta's deliveries.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.page_health import page_health

bp = Blueprint("health", __name__)


@bp.get("/livez")
def livez() -> tuple[Response, int]:
    return jsonify(status="ok"), 200


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    rt = current_app.extensions["runtime"]
    mailbox = _fail_fast_mailbox(rt)
    checks = {"database": _check_database(rt.engine), "redis": _check_redis(mailbox.redis)}
    healthy = all(state == "ok" for state in checks.values())
    if checks["redis"] == "ok":
        try:
            checks["backlog"] = mailbox.backlog()
            # A Page Facebook refuses is reported, never a 503: restarting us would not help.
            checks["pages"] = _pages(rt, page_health(mailbox.redis).report())
        except RedisError as exc:
            checks["redis"], healthy = f"down: {type(exc).__name__}", False
    return jsonify(status="ok" if healthy else "degraded", **checks), 200 if healthy else 503


def _pages(rt, report: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:  # type: ignore[no-untyped-def]
    """Every Page of the pages file, `ok` or its problem (one Page: only a problem)."""
    if rt.pages.single:
        return report
    listed: dict[str, dict[str, object]] = {}
    for page in rt.pages.pages:
        entry: dict[str, object] = {"name": page.name, **report.get(page.id, {"state": "ok"})}
        if page.instagram_id:
            entry["instagram_id"] = page.instagram_id
        listed[page.id] = entry
    return listed | {page_id: state for page_id, state in report.items() if page_id not in listed}


def _fail_fast_mailbox(rt):  # type: ignore[no-untyped-def]
    """The webhook's mailboxes, on its client with short timeouts (bot.webhook): a stalled
    Redis makes /healthz answer 503 within 2 s, not after 15 s."""
    return current_app.extensions.get("fail_fast_mailbox") or rt.mailbox


def _check_database(engine) -> str:  # type: ignore[no-untyped-def]
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError as exc:
        return f"down: {type(exc).__name__}"


def _check_redis(redis) -> str:  # type: ignore[no-untyped-def]
    try:
        redis.ping()
        return "ok"
    except RedisError as exc:
        return f"down: {type(exc).__name__}"
