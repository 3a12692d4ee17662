"""The Graph API's failures, as a small hierarchy to catch what you can act on.

    GraphError                  anything else (retryable=False)
    ├── TransientGraphError     HTTP 5xx, codes 1, 2 and 1200, network errors: retry
    │   ├── GraphTimeout        no answer in time; `request_sent` if it may have landed
    │   └── MaybeBlocked        code 2: Meta is down, or the person blocked the Page;
    │                           retried a bounded number of times per message (bot.retry_budget)
    ├── RateLimited             codes 4, 17, 32, 341, 613, 80001, 80006, HTTP 429: retry
    │                           after `retry_after` seconds
    ├── ThreadOwnedByOtherApp   10/2018300, 10/2018321, 100/2534037 (Instagram):
    │                           someone else owns the thread
    ├── OutsideMessagingWindow  10/2018278, 10/2534022, 10/2018065 (the older code)
    ├── TagLimitReached         613/2018338: "send fewer tagged messages", about this message
    ├── RecipientUnavailable    551, 230, 10/2018108, 100/2018001, 200|551/1545041
    ├── InvalidToken            190
    ├── PermissionDenied        200, 368, 10 (other subcodes, incl. 1893063)
    └── BadRequest              100 and any other 4xx

Only the first two are retryable; retrying the others only repeats the refusal.
No error's text carries the access token or appsecret_proof: `scrub` removes
them, and any URL query string, from Meta's message and from network errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from messenger.graph_usage import retry_after_seconds

REDACTED = "[redacted]"
_SECRET_PARAM = re.compile(r"(access_token|appsecret_proof)=[^&\s'\")]+", re.IGNORECASE)
_QUERY_STRING = re.compile(r"\?[^\s'\")?]*=[^\s'\")]*")
_PAGE_TOKEN = re.compile(r"\bEAA[A-Za-z0-9]{20,}")
_MIN_SECRET_LEN = 8  # never blank out common short words by mistake


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without the given secrets, URL query strings or anything token-shaped."""
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET_LEN:
            text = text.replace(secret, REDACTED)
    text = _QUERY_STRING.sub("?" + REDACTED, text)
    text = _SECRET_PARAM.sub(rf"\1={REDACTED}", text)
    return _PAGE_TOKEN.sub(REDACTED, text)


class GraphError(Exception):
    """A Graph API call failed; `code` and `subcode` are Meta's when it answered."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        http_status: int | None = None,
        fbtrace_id: str | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.message = scrub(message, secrets)
        super().__init__(self.message)
        self.code = code
        self.subcode = subcode
        self.http_status = http_status
        self.fbtrace_id = fbtrace_id

    def __str__(self) -> str:
        details = " ".join(
            f"{name}={value}"
            for name, value in (
                ("code", self.code),
                ("subcode", self.subcode),
                ("http", self.http_status),
                ("fbtrace_id", self.fbtrace_id),
            )
            if value is not None
        )
        return f"{self.message} [{details}]" if details else self.message


class TransientGraphError(GraphError):
    retryable = True


class GraphTimeout(TransientGraphError):
    """No answer in time. `request_sent` means Meta may have acted on it anyway."""

    def __init__(self, message: str, *, request_sent: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.request_sent = request_sent


class MaybeBlocked(TransientGraphError):
    """Code 2: "service temporarily unavailable", which Meta also answers when the person
    blocked the Page. Retried like any transient error, but only a few times per message."""


class RateLimited(GraphError):
    """Throttled; `retry_after` is Meta's estimate in seconds, when it gave one."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ThreadOwnedByOtherApp(GraphError):
    """Another app (usually the Page Inbox) owns the thread: the bot must stay silent."""


class OutsideMessagingWindow(GraphError):
    pass


class TagLimitReached(GraphError):
    """613/2018338: the Page sends too many tagged messages. A permanent refusal of this
    message, not a throttle: retrying it only adds to the count Meta complains about."""


class RecipientUnavailable(GraphError):
    """The person can't be messaged (blocked, deleted, unknown PSID)."""


class InvalidToken(GraphError):
    pass


class PermissionDenied(GraphError):
    pass


class BadRequest(GraphError):
    pass


RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613, 80001, 80006})
PAGE_THROTTLE_CODES = frozenset({4, 613, 80001, 80006})  # the app's or the Page's pace
TAG_OVERUSE = (613, 2018338)  # "send fewer tagged messages": not a Page-wide throttle
TRANSIENT_CODES = frozenset({1, 2, 1200})  # 1200: "temporary send message failure, try again"

_BY_CODE_AND_SUBCODE: dict[tuple[int, int], type[GraphError]] = {
    (10, 2018300): ThreadOwnedByOtherApp,
    (10, 2018321): ThreadOwnedByOtherApp,
    (100, 2534037): ThreadOwnedByOtherApp,  # Instagram's "not the thread owner"
    (10, 2018278): OutsideMessagingWindow,
    (10, 2534022): OutsideMessagingWindow,
    (10, 2018065): OutsideMessagingWindow,
    TAG_OVERUSE: TagLimitReached,
    (10, 2018108): RecipientUnavailable,
    (100, 2018001): RecipientUnavailable,
    (200, 1545041): RecipientUnavailable,
    (551, 1545041): RecipientUnavailable,
    (10, 1893063): PermissionDenied,
}
_BY_CODE: dict[int, type[GraphError]] = {
    **dict.fromkeys(RATE_LIMIT_CODES, RateLimited),
    **dict.fromkeys(TRANSIENT_CODES, TransientGraphError),
    2: MaybeBlocked,
    551: RecipientUnavailable,
    230: RecipientUnavailable,
    190: InvalidToken,
    10: PermissionDenied,
    200: PermissionDenied,
    368: PermissionDenied,
    100: BadRequest,
}


def error_from_response(
    status: int,
    body: Mapping[str, Any] | None,
    headers: Mapping[str, str],
    *,
    secrets: Iterable[str] = (),
) -> GraphError:
    """The typed error for one Graph answer; `secrets` are scrubbed from its text."""
    error = body.get("error") if isinstance(body, Mapping) else None
    error = error if isinstance(error, Mapping) else {}
    code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
    cls = _error_class(status, code, subcode, transient=error.get("is_transient") is True)
    trace = error.get("fbtrace_id")
    fields: dict[str, Any] = {
        "code": code,
        "subcode": subcode,
        "http_status": status,
        "fbtrace_id": str(trace) if trace else None,
        "secrets": tuple(secrets),
    }
    message = str(error.get("message") or f"HTTP {status}")
    if cls is RateLimited:
        return RateLimited(message, retry_after=retry_after_seconds(headers), **fields)
    return cls(message, **fields)


def _error_class(
    status: int, code: int | None, subcode: int | None, *, transient: bool
) -> type[GraphError]:
    if code is not None:
        known = _BY_CODE_AND_SUBCODE.get((code, subcode or 0)) or _BY_CODE.get(code)
        if known is not None:
            return known
    if status == 429:
        return RateLimited
    if status >= 500 or transient:
        return TransientGraphError
    if status >= 400:
        return BadRequest
    return GraphError


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def page_wide_state(error: GraphError) -> str | None:
    """The Page-wide state `error` means (core.page_health), or None when it concerns one
    call or one person: token_invalid, restricted or throttled."""
    if isinstance(error, InvalidToken):
        return "token_invalid"
    if isinstance(error, PermissionDenied) and (
            error.code == 368 or (error.code, error.subcode) == (10, 1893063)):
        return "restricted"
    if (isinstance(error, RateLimited) and error.code in PAGE_THROTTLE_CODES
            and (error.code, error.subcode) != TAG_OVERUSE):
        return "throttled"
    return None
