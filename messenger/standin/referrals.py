"""A customer opens an `m.me/<page>?ref=...` (or `ig.me/m/<account>?ref=...`) link.

On Messenger, a thread that has never written shows Get Started, and its postback carries
the link's referral (`postback.referral`); an existing thread gets a `messaging_referrals`
event instead (people.follows_link). Instagram has no Get Started: its ig.me link comes as
the referral event (doc §11b).
"""

from __future__ import annotations

from messenger.standin import people
from messenger.standin.errors import StandinError
from messenger.standin.page import Page, Webhook

SOURCE = "SHORTLINK"


def opens_link(page: Page, now: float, psid: str, ref: str) -> list[Webhook]:
    """The webhooks Facebook sends when `psid` opens the Page's link carrying `ref`."""
    thread = page.threads.get(psid)
    if thread is None:
        raise StandinError(f"unknown customer {psid}: add_user first")
    new_thread = thread.last_user_at is None
    get_started = (page.messenger_profile.get("get_started") or {}).get("payload")
    if not new_thread or page.webhook_object != "page" or not get_started:
        return people.follows_link(page, now, psid, ref)
    webhooks = people.customer_says(page, now, psid, text=None, quick_reply=None,
                                    postback=get_started, postback_title="Get Started",
                                    attachments=None)
    for event, _standby in webhooks:
        event["postback"]["referral"] = {"ref": ref, "source": SOURCE, "type": "OPEN_THREAD"}
    return webhooks
