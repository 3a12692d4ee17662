"""Instagram webhook payloads for tests, shaped as Meta documents them (Messenger Platform,
Instagram Messaging: `object: "instagram"`, the entry id the Instagram account's, IGSIDs)."""

from __future__ import annotations

import itertools
import time
from typing import Any

IG_ID = "17841400000000001"  # the Instagram professional account, linked to payloads.PAGE_ID
_counter = itertools.count(1)


def instagram(*events: dict[str, Any], standby: tuple[dict[str, Any], ...] = (),
              account_id: str = IG_ID) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": account_id, "time": _now(), "messaging": list(events)}
    if standby:
        entry["standby"] = list(standby)
    return {"object": "instagram", "entry": [entry]}


def text(igsid: str, words: str, *, mid: str | None = None, quick_reply: str | None = None,
         account_id: str = IG_ID) -> dict[str, Any]:
    message: dict[str, Any] = {"mid": mid or f"aWdf_{igsid}_{next(_counter)}", "text": words}
    if quick_reply:
        message["quick_reply"] = {"payload": quick_reply}
    return {**_base(igsid, account_id), "message": message}


def postback(igsid: str, payload: str, title: str = "", *,
             account_id: str = IG_ID) -> dict[str, Any]:
    body = {"mid": f"aWdf_pb_{next(_counter)}", "payload": payload, "title": title}
    return {**_base(igsid, account_id), "postback": body}


def echo(igsid: str, words: str, app_id: str, *, metadata: str | None = None,
         account_id: str = IG_ID) -> dict[str, Any]:
    """Instagram's echo: inside `messages`, from the account to the customer."""
    message: dict[str, Any] = {"mid": f"aWdf_e_{next(_counter)}", "text": words,
                               "is_echo": True, "app_id": int(app_id)}
    if metadata is not None:
        message["metadata"] = metadata
    return {"sender": {"id": account_id}, "recipient": {"id": igsid}, "timestamp": _now(),
            "message": message}


def seen(igsid: str, mid: str, *, account_id: str = IG_ID) -> dict[str, Any]:
    """`messaging_seen`: Instagram names the message read, where Messenger gives a watermark."""
    return {**_base(igsid, account_id), "read": {"mid": mid}}


def _base(igsid: str, account_id: str) -> dict[str, Any]:
    return {"sender": {"id": igsid}, "recipient": {"id": account_id},
            "timestamp": _now() + next(_counter)}


def _now() -> int:
    return int(time.time() * 1000)
