"""`GET /metrics`: Prometheus text format, behind `Authorization: Bearer $METRICS_TOKEN`
(unset: 404, as if there were no such page; missing or wrong: 401)."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.bearer import bearer_ok
from core.metrics_scrape import DeskCollector

bp = Blueprint("metrics", __name__)
REDIS_TIMEOUT_SECONDS = 1.0  # under the scrape's deadline: a dead Redis answers "down" in time


@bp.get("/metrics")
def scrape() -> Response | tuple[Response, int]:
    rt = current_app.extensions["runtime"]
    token = rt.settings.metrics_token
    if not token:
        return jsonify(error="not found"), 404
    if not bearer_ok(request, token):
        answer = jsonify(error="missing or wrong bearer token")
        answer.headers["WWW-Authenticate"] = "Bearer"
        return answer, 401
    return Response(generate_latest(_registry(current_app)), mimetype=None,
                    content_type=CONTENT_TYPE_LATEST)


def _registry(app: Flask) -> CollectorRegistry:
    registry = app.extensions.get("metrics_registry")
    if registry is None:
        rt = app.extensions["runtime"]
        registry = CollectorRegistry(auto_describe=False)
        registry.register(DeskCollector(_scrape_redis(rt.settings.redis_url, rt.redis), rt.engine))
        app.extensions["metrics_registry"] = registry
    return registry


def _scrape_redis(url: str | None, shared: Redis) -> Redis:
    """A client of its own that fails fast (the runtime's retries for seconds)."""
    if not url:
        return shared  # the in-process Redis of the one-process mode
    return Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                          socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                          retry=Retry(NoBackoff(), 0))
