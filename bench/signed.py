"""Signed webhook bodies for the benchmarks, encoded and signed as Meta does."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

PAGE_ID = "1000000001"
APP_ID = "2000000002"
APP_SECRET = "bench-app-secret-5b1c"
ACCESS_TOKEN = "EAAbench-page-token-0001"
KEYWORDS = ("billing", "technical", "hours", "refunds", "invoices", "account")
# Words whose flows answer with one message: one Send API call per event, the
# work the naive peer does and the figures assume.
ONE_REPLY_KEYWORDS = ("hours", "refunds", "invoices", "account")


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def psid(n: int) -> str:
    return str(7_000_000_000_000_000 + n)


def text_event(customer: str, words: str, mid: str, timestamp: int,
               page_id: str = PAGE_ID) -> dict[str, Any]:
    return {"sender": {"id": customer}, "recipient": {"id": page_id}, "timestamp": timestamp,
            "message": {"mid": mid, "text": words}}


def page_payload(*events: dict[str, Any], page_id: str = PAGE_ID) -> dict[str, Any]:
    now = int(time.time() * 1000)
    return {"object": "page", "entry": [{"id": page_id, "time": now, "messaging": list(events)}]}


def write_bodies(path: Path, *, count: int, customers: int, tag: str) -> None:
    """`count` distinct one-event bodies, round robin over `customers`, one
    `<signature> <body>` line each (what bench/ack.lua reads)."""
    start = int(time.time() * 1000)
    with path.open("wb") as out:
        for i in range(count):
            event = text_event(psid(i % customers), KEYWORDS[i % len(KEYWORDS)],
                               f"m_{tag}_{i}", start + i)
            body = encode(page_payload(event))
            out.write(sign(body).encode() + b" " + body + b"\n")
