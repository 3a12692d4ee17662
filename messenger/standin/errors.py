"""The stand-in's exceptions, and the Graph API errors it answers with, in Meta's shape."""

from __future__ import annotations

import secrets
from typing import Any

OUTSIDE_WINDOW = (
    "(#10) This message is sent outside of allowed window. Learn more about the new policy "
    "here: https://developers.facebook.com/docs/messenger-platform/policy-overview"
)
NOT_OWNER = "(#10) Message failed to send because another app is controlling this thread now."

# Messages Graph uses for the codes a test can inject with `fail_next`.
_MESSAGES: dict[int, str] = {
    1: "An unknown error has occurred.",
    2: "An unexpected error has occurred. Please retry your request later.",
    4: "(#4) Application request limit reached",
    10: "(#10) Permission denied",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    100: "(#100) Invalid parameter",
    190: "Invalid OAuth access token - Cannot parse access token",
    200: "(#200) Permissions error",
    230: "(#230) Requires pages_messaging permission to manage the object",
    341: "(#341) Application limit reached",
    368: "(#368) The action attempted has been deemed abusive or is otherwise disallowed",
    551: "(#551) This person isn't available right now.",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80001: "(#80001) There have been too many calls to this Page account.",
    80006: "(#80006) There have been too many messages sent to this Messenger account.",
}
_TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613, 80001, 80006})


class StandinError(Exception):
    """A stand-in action that makes no sense in the current state (a test-driving mistake)."""


class WebhookDeliveryError(StandinError):
    """Our webhook refused or missed a delivery the stand-in had to make synchronously."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class GraphError(Exception):
    """A Graph API error answer: HTTP status plus Meta's `{"error": {...}}` body."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        status: int = 400,
        type_: str = "OAuthException",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.subcode = subcode
        self.status = status
        self.message = message
        self.type = type_

    def body(self) -> dict[str, Any]:
        """Meta's error body; every answer gets a fresh `fbtrace_id`."""
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.code in _TRANSIENT_CODES:
            error["is_transient"] = True
        error["fbtrace_id"] = _trace_id()
        return {"error": error}

    def __repr__(self) -> str:
        return f"GraphError({self.code}/{self.subcode}, {self.message!r})"


def _trace_id() -> str:
    return "A" + secrets.token_urlsafe(16)[:22]


def bad_param(message: str, *, subcode: int | None = None) -> GraphError:
    """Code 100: what Graph answers for a malformed or missing parameter."""
    return GraphError(100, f"(#100) {message}", subcode=subcode)


def unknown_object(node: str, method: str) -> GraphError:
    return GraphError(
        100,
        f"Unsupported {method.lower()} request. Object with ID '{node}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation.",
        subcode=33,
        type_="GraphMethodException",
    )


def no_matching_user() -> GraphError:
    return bad_param("No matching user found", subcode=2018001)


def not_owner() -> GraphError:
    return GraphError(10, NOT_OWNER, subcode=2018300)


def outside_window() -> GraphError:
    return GraphError(10, OUTSIDE_WINDOW, subcode=2018278)


def rate_limited() -> GraphError:
    return GraphError(613, _MESSAGES[613], subcode=2534040)


def bad_token() -> GraphError:
    return GraphError(190, _MESSAGES[190])


def page_refusal(code: int, subcode: int | None) -> GraphError:
    """What every call of a Page Facebook stopped serving answers (e.g. 368, 10/1893063)."""
    message = _MESSAGES.get(code, f"(#{code}) Page-wide refusal")
    if (code, subcode) == (10, 1893063):
        message = "(#10) This Page is temporarily restricted from sending messages."
    return GraphError(code, message, subcode=subcode, status=403 if code == 10 else 400)


def bad_appsecret_proof(*, missing: bool) -> GraphError:
    if missing:
        message = "API calls from the server require an appsecret_proof argument"
    else:
        message = "Invalid appsecret_proof provided in the API argument"
    return GraphError(100, message, type_="GraphMethodException")


def injected(*, status: int | None, code: int | None, subcode: int | None) -> GraphError:
    """The error `fail_next` asked for: a code's usual status, or a status's usual code."""
    if code is None:
        code = 4 if status == 429 else 2 if status is None or status >= 500 else 100
    if status is None:
        status = 500 if code in (1, 2) else 400
    return GraphError(code, _MESSAGES.get(code, f"(#{code}) Injected error"), subcode=subcode,
                      status=status)
