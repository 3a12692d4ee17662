"""Messenger webhook payloads for tests: built here or read from tests/data,
signed by one helper exactly as Meta signs them (non-ASCII escaped)."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

from messenger.signature import sign

DATA = Path(__file__).resolve().parent.parent / "data"
PAGE_ID = "1000000001"
APP_ID = "2000000002"
APP_SECRET = "test-app-secret-9f8e7d"
ACCESS_TOKEN = "EAAtest-page-token-123456"
VERIFY_TOKEN = "verify-me-42"
_counter = itertools.count(1)


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()


def signed(payload: dict[str, Any] | bytes, secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else encode(payload)
    return body, {"X-Hub-Signature-256": sign(body, secret), "Content-Type": "application/json"}


def recorded(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


def page(*events: dict[str, Any], standby: tuple[dict[str, Any], ...] = (),
         page_id: str = PAGE_ID) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": page_id, "time": now_ms(), "messaging": list(events)}
    if standby:
        entry["standby"] = list(standby)
    return {"object": "page", "entry": [entry]}


def now_ms() -> int:
    return int(time.time() * 1000)


def _base(psid: str, timestamp: int | None) -> dict[str, Any]:
    return {"sender": {"id": psid}, "recipient": {"id": PAGE_ID},
            "timestamp": timestamp if timestamp is not None else now_ms() + next(_counter)}


def text(psid: str, words: str, *, timestamp: int | None = None, mid: str | None = None,
         quick_reply: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"mid": mid or f"m_{psid}_{next(_counter)}", "text": words}
    if quick_reply:
        message["quick_reply"] = {"payload": quick_reply}
    return {**_base(psid, timestamp), "message": message}


def postback(psid: str, payload: str, title: str = "", *, timestamp: int | None = None,
             mid: str | None = None) -> dict[str, Any]:
    body = {"mid": mid or f"m_pb_{next(_counter)}", "payload": payload, "title": title}
    return {**_base(psid, timestamp), "postback": body}


def echo(psid: str, words: str, app_id: str) -> dict[str, Any]:
    return {"sender": {"id": PAGE_ID}, "recipient": {"id": psid}, "timestamp": now_ms(),
            "message": {"is_echo": True, "app_id": int(app_id), "mid": f"m_e_{next(_counter)}",
                        "text": words}}


def read(psid: str) -> dict[str, Any]:
    return {**_base(psid, None), "read": {"watermark": now_ms()}}
