"""The webhook fields this app needs from a Page, and whether Facebook still sends them."""

from __future__ import annotations

from typing import Any

# What the bot needs from the page's webhook (doc §1.3). Facebook unsubscribes an app whose
# webhook failed for an hour; `messaging_policy_enforcement` tells of a block (core.page_health).
WEBHOOK_FIELDS = ("messages", "messaging_postbacks", "messaging_handovers", "standby",
                  "message_echoes", "messaging_referrals", "messaging_policy_enforcement")


def missing_fields(subscribed_apps: dict[str, Any], app_id: str) -> list[str] | None:
    """The fields `app_id` misses in a `GET /{page}/subscribed_apps` answer; None when the app
    is not subscribed at all."""
    ours = next((a for a in subscribed_apps.get("data") or [] if str(a.get("id")) == app_id), None)
    if ours is None:
        return None
    return [f for f in WEBHOOK_FIELDS if f not in (ours.get("subscribed_fields") or [])]
