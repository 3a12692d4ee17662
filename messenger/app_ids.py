"""Whose message an echo is: this app's, or a person's in the Page Inbox (or another app's).

One rule for every place that asks (the transcript, the handover hook, echo receipts).
The web and the worker refuse to serve a Page without `MESSENGER_APP_ID`
(`config.settings.require_app_id`); without it (tests, tools) anything but the Page
Inbox is taken as this app, so no place records the bot's own words as an agent's
while another keeps the bot quiet for them.
"""

from __future__ import annotations

from typing import Any


def is_this_app(app_id: Any, *, ours: str | None, inbox: str) -> bool:
    """True when `app_id` (an echo's or a handover's, number or string) names this app."""
    if app_id is None or app_id == "" or isinstance(app_id, bool):
        return False
    if ours:
        return str(app_id) == ours
    return str(app_id) != inbox
