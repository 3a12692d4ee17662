"""Meta's throttling headers: how close the app is to a limit, and how long to wait.

`X-App-Usage` and `X-Business-Use-Case-Usage` carry percentages (throttling
starts at 100); the latter also says when access returns, in minutes.
`Retry-After` is in seconds, or an HTTP date.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

APP_USAGE = "x-app-usage"
BUC_USAGE = "x-business-use-case-usage"
RETRY_AFTER = "retry-after"


def usage_percent(headers: Mapping[str, str]) -> float | None:
    """The highest `call_count` across both usage headers, or None without them."""
    counts = [_number(entry.get("call_count")) for entry in _usage_entries(headers)]
    known = [count for count in counts if count is not None]
    return max(known) if known else None


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds until Meta lets us back in, from `Retry-After` or the BUC header."""
    lowered = _lower(headers)
    minutes = [
        _number(entry.get("estimated_time_to_regain_access"))
        for entry in _buc_entries(lowered.get(BUC_USAGE))
    ]
    waits = [m * 60 for m in minutes if m is not None]
    retry_after = _retry_after(lowered.get(RETRY_AFTER))
    if retry_after is not None:
        waits.append(retry_after)
    return max(waits) if waits else None


def _usage_entries(headers: Mapping[str, str]) -> Iterator[Mapping[str, Any]]:
    lowered = _lower(headers)
    app = _json(lowered.get(APP_USAGE))
    if isinstance(app, dict):
        yield app
    yield from _buc_entries(lowered.get(BUC_USAGE))


def _buc_entries(raw: str | None) -> Iterator[Mapping[str, Any]]:
    """`{"<business id>": [{"type": ..., "call_count": ...}, ...], ...}` flattened."""
    parsed = _json(raw)
    if not isinstance(parsed, dict):
        return
    for entries in parsed.values():
        if isinstance(entries, list):
            yield from (entry for entry in entries if isinstance(entry, dict))


def _retry_after(raw: str | None) -> float | None:
    if not raw:
        return None
    seconds = _number(raw.strip())
    if seconds is not None:
        return max(seconds, 0.0)
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _json(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}
