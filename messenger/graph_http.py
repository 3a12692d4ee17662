"""The Graph API transport: one pooled session, timeouts, typed errors, retries.

Safe to share between threads. Only retryable errors (transient and rate
limits) are retried, with exponential backoff and jitter; a rate limit whose
wait is longer than `max_backoff` is raised at once so the caller's queue can
reschedule instead of a worker thread sleeping for minutes. Log lines name the
method, path, status, Meta's code/subcode/fbtrace_id and timing: never the
token, the proof, the query string or Meta's message.
"""

from __future__ import annotations

import json as json_module
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import requests
from requests.hooks import default_hooks
from requests.structures import CaseInsensitiveDict
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from core import metrics
from messenger.errors import (
    GraphError,
    GraphTimeout,
    RateLimited,
    TransientGraphError,
    error_from_response,
    page_wide_state,
)
from messenger.graph_usage import APP_USAGE, BUC_USAGE, usage_percent

log = logging.getLogger("messenger.graph")

SEND_PATH = "/me/messages"
_TRANSIENT_NETWORK = (
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class GraphTransport:
    """Sends one Graph call, retrying what is worth retrying; returns Meta's JSON."""

    def __init__(self, *, base_url: str, auth_params: Mapping[str, str], session: requests.Session,
                 timeout: tuple[float, float], max_attempts: int, backoff: float,
                 max_backoff: float, sleep: Callable[[float], None], page: str = "") -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url
        self.page = page  # the metrics' `page` label: whose token this is ("" if unknown)
        self.session = session
        self.last_usage: float | None = None
        self._auth = dict(auth_params)
        self._auth_query = urlencode(_present(self._auth), doseq=True)
        self._secrets = tuple(auth_params.values())
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._max_backoff = max_backoff
        self._sleep = sleep
        self._backoff = wait_exponential_jitter(multiplier=backoff, max=max_backoff, jitter=backoff)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
        retry: bool = True,
    ) -> dict[str, Any]:
        """Meta's JSON answer; `retry=False` for a call not worth a wait (a sender action)."""
        try:
            return self._attempt(method, path, params, json)
        except GraphError as exc:
            if self._max_attempts == 1 or not retry or not self._should_retry(exc):
                self._log_gave_up(method, path, exc)
                raise
            first = exc
        return self._retry(method, path, params, json, first)

    def _retry(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Mapping[str, Any] | None,
        first: GraphError,
    ) -> dict[str, Any]:
        """The attempts after a failed first one, under tenacity's policy. The first
        attempt is replayed to it, so waits, stop and log lines count it as before;
        tenacity's per-call set-up is only paid once an attempt failed."""
        failed = [first]

        def attempt() -> dict[str, Any]:
            if failed:
                raise failed.pop()
            return self._attempt(method, path, params, json)

        retrying = Retrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            retry=retry_if_exception(self._should_retry),
            before_sleep=lambda state: self._log_retry(method, path, state),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except GraphError as exc:
            self._log_gave_up(method, path, exc)
            raise

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        prepared = self._prepare(method, path, params, json)
        started = time.monotonic()
        try:
            response = self._send(prepared)
        except requests.RequestException as exc:
            raise self._network_error(exc, method, path, started) from None
        elapsed_ms = _ms_since(started)
        self._note_usage(response.headers)
        body = _json_body(response.content)
        ok = not 400 <= response.status_code < 600  # `response.ok`, without building a message
        if ok and isinstance(body, dict) and "error" not in body:
            log.debug("graph %s %s -> %s in %d ms", method, path, response.status_code, elapsed_ms)
            metrics.graph_call(method, path, "ok", time.monotonic() - started, page=self.page)
            return body
        error = error_from_response(response.status_code, body, response.headers,
                                    secrets=self._secrets)
        self._log_failure(method, path, error, elapsed_ms)
        raise error

    def _send(self, prepared: requests.PreparedRequest) -> requests.Response:
        """`Session.send` without its cookie jar, hooks and redirects (a Graph call uses none):
        the mounted adapter sends (public `get_adapter` and `HTTPAdapter.send`, which
        `responses` mocks), then the body is read, so a broken one raises here."""
        session = self.session
        adapter = session.get_adapter(prepared.url)  # type: ignore[arg-type]
        response = adapter.send(prepared, stream=False, timeout=self._timeout,
                                verify=session.verify, cert=session.cert, proxies=session.proxies)
        response.content  # noqa: B018 -- read now: a broken body is a network error
        return response

    def _prepare(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
    ) -> requests.PreparedRequest:
        """The request as `Session.request` would prepare it, without its per-call
        merging of settings, cookies and environment (~0.2 ms of CPU per call here):
        Graph paths are node ids we checked, and the query and body are ours."""
        query = (urlencode(_present({**params, **self._auth}), doseq=True) if params
                 else self._auth_query)
        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.url = f"{self.base_url}{path}?{query}"
        prepared.headers = CaseInsensitiveDict(self.session.headers)
        prepared.hooks = default_hooks()
        if body is not None:
            data = json_module.dumps(body, allow_nan=False).encode()
            prepared.headers["Content-Type"] = "application/json"
            prepared.headers["Content-Length"] = str(len(data))
            prepared.body = data
        elif method not in ("GET", "HEAD"):
            prepared.headers["Content-Length"] = "0"
        return prepared

    def _network_error(
        self, exc: requests.RequestException, method: str, path: str, started: float
    ) -> GraphError:
        error = network_error(exc, secrets=self._secrets)
        self._log_failure(method, path, error, _ms_since(started))
        return error

    def _should_retry(self, exc: BaseException) -> bool:
        if not isinstance(exc, GraphError) or not exc.retryable:
            return False
        if page_wide_state(exc) is not None:  # calling on lengthens the block: the caller
            return False  # pauses the whole Page instead (core.page_health)
        wait = exc.retry_after if isinstance(exc, RateLimited) else None
        return wait is None or wait <= self._max_backoff

    def _wait(self, state: RetryCallState) -> float:
        """Exponential backoff with jitter, at least Meta's `retry_after`, capped."""
        delay = self._backoff(state)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            delay = max(delay, exc.retry_after)
        return min(delay, self._max_backoff)

    def _note_usage(self, headers: Mapping[str, str]) -> None:
        if APP_USAGE not in headers and BUC_USAGE not in headers:
            return  # most answers: no need to scan every header
        usage = usage_percent(headers)
        if usage is not None:
            self.last_usage = usage

    def _log_gave_up(self, method: str, path: str, error: GraphError) -> None:
        if error.retryable:
            log.warning("graph %s %s gave up: %s", method, path, _describe(error))

    def _log_failure(self, method: str, path: str, error: GraphError, elapsed_ms: int) -> None:
        metrics.graph_call(method, path, metrics.graph_code(error), elapsed_ms / 1000, page=self.page)
        level = logging.INFO if error.retryable else logging.WARNING
        log.log(level, "graph %s %s failed in %d ms: %s%s", method, path, elapsed_ms,
                _describe(error), "" if error.retryable else " (not retried)")

    def _log_retry(self, method: str, path: str, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        if (method == "POST" and path == SEND_PATH
                and isinstance(exc, GraphTimeout) and exc.request_sent):
            log.warning("graph %s %s: retrying a send after read timeout: possible duplicate "
                        "(attempt %d of %d)", method, path, state.attempt_number + 1,
                        self._max_attempts)
            return
        log.info("graph %s %s: retry %d of %d in %.2f s", method, path,
                 state.attempt_number + 1, self._max_attempts, delay)


def network_error(exc: requests.RequestException, *, secrets: tuple[str, ...]) -> GraphError:
    """Our error for a request that got no HTTP answer; requests' text is scrubbed."""
    message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, requests.Timeout):
        sent = not isinstance(exc, requests.ConnectTimeout)
        return GraphTimeout(message, request_sent=sent, secrets=secrets)
    if isinstance(exc, _TRANSIENT_NETWORK):
        return TransientGraphError(message, secrets=secrets)
    return GraphError(message, secrets=secrets)


def _describe(error: GraphError) -> str:
    """The loggable facts about an error: never its message, which may hold user data."""
    text = (f"{type(error).__name__} status={error.http_status} code={error.code} "
            f"subcode={error.subcode} fbtrace_id={error.fbtrace_id}")
    if isinstance(error, RateLimited) and error.retry_after is not None:
        text += f" retry_after={error.retry_after:.0f}s"
    return text


def _present(params: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}


def _json_body(content: bytes) -> Any:
    """Meta's JSON (UTF-8, as JSON must be; json detects UTF-16/32), or None."""
    try:
        return json_module.loads(content)
    except ValueError:  # includes a body that is not UTF-8
        return None


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
