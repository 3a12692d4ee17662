"""The humans around a Page: customers (their profiles and what they say) and the
agents answering from the Page Inbox. Each action changes the `Page` and returns
the webhooks our app receives because of it (doc §3, §5.2, §5.5).
"""

from __future__ import annotations

from typing import Any

from messenger.standin import events
from messenger.standin.errors import GraphError, StandinError, bad_param, unknown_object
from messenger.standin.page import Page, Thread, Webhook, put_thread

PROFILE_FIELDS = ("id", "name", "first_name", "last_name", "profile_pic", "locale", "timezone")
DEFAULT_PROFILE_FIELDS = ("first_name", "last_name", "profile_pic", "id")


def add_user(page: Page, psid: str, *, first_name: str, last_name: str, locale: str,
             has_profile: bool) -> Thread:
    profile = {"first_name": first_name, "last_name": last_name, "locale": locale,
               "has_profile": has_profile}
    return put_thread(page.threads, psid, profile)


def user_profile(page: Page, psid: str, fields: list[str]) -> dict[str, Any]:
    """The User Profile API answer (doc §8)."""
    thread = page.threads.get(psid)
    if thread is None:
        raise unknown_object(psid, "GET")
    for name in fields:
        if name not in PROFILE_FIELDS:
            raise bad_param(f"Tried accessing nonexisting field ({name}) on node type (User)")
    profile = thread.profile
    if not profile["has_profile"]:
        raise GraphError(100, "(#100) No profile available for this user", subcode=2018218)
    values = {
        "id": psid,
        "name": f"{profile['first_name']} {profile['last_name']}".strip(),
        "first_name": profile["first_name"],
        "last_name": profile["last_name"],
        "profile_pic": f"https://platform-lookaside.fbsbx.com/platform/profilepic/?psid={psid}",
        "locale": profile["locale"],
        "timezone": 0,
    }
    return {name: values[name] for name in fields or DEFAULT_PROFILE_FIELDS}


def customer_says(
    page: Page,
    now: float,
    psid: str,
    *,
    text: str | None,
    quick_reply: str | None,
    postback: str | None,
    postback_title: str | None,
    attachments: list[dict[str, Any]] | None,
) -> list[Webhook]:
    """A message or postback from the customer; an idle thread goes to the default app."""
    if postback is not None and (text, quick_reply, attachments) != (None, None, None):
        raise StandinError("a postback carries no text, quick reply or attachments")
    if postback is None and text is None and quick_reply is None and not attachments:
        raise StandinError("customer_says needs text, a quick reply, a postback or attachments")
    thread = page.threads.get(psid) or add_user(
        page, psid, first_name="Ana", last_name="Silva", locale="en_US", has_profile=True)
    if thread.owner is None and page.default_app is not None:
        page.set_owner(thread, page.default_app, now)
    thread.last_user_at = thread.active_at = now
    standby = thread.owner not in (None, page.app_id)
    timestamp, mid = int(now * 1000), events.new_mid()
    if postback is not None:
        titles = {**events.profile_postback_titles(page.messenger_profile), **thread.postbacks}
        title = postback_title or titles.get(postback, postback)
        # A postback on standby loses its payload, except for the app that sent the
        # button: that app gets the normal messaging_postbacks event (doc §3).
        standby = standby and postback not in titles
        body = events.postback(mid, title, None if standby else postback)
        return [(events.from_user(psid, page.page_id, timestamp, postback=body), standby)]
    if text is None and quick_reply is not None:
        text = events.quick_reply_title(thread.last_message, quick_reply) or quick_reply
    message = events.customer_message(mid, text, quick_reply=quick_reply,
                                      attachments=attachments)
    return [(events.from_user(psid, page.page_id, timestamp, message=message), standby)]


def agent_says(page: Page, now: float, psid: str, text: str) -> list[Webhook]:
    """A reply from the Page Inbox: the Inbox takes the thread first if it must."""
    thread = _known(page, psid)
    timestamp, inbox = int(now * 1000), page.inbox_app_id
    webhooks: list[Webhook] = []
    if thread.owner != inbox:
        previous = page.set_owner(thread, inbox, now)
        if previous in (None, page.app_id):  # take_thread_control goes to the app that lost it
            notice = events.control_change(previous, inbox)
            webhooks.append((events.from_user(psid, page.page_id, timestamp,
                                              take_thread_control=notice), False))
    echo = events.echo(psid, page.page_id, timestamp, app_id=inbox, mid=events.new_mid(),
                       message={"text": text})
    webhooks.append((echo, True))
    return webhooks


DONE_MODES = ("pass", "release", "nothing")


def agent_done(page: Page, now: float, psid: str, how: str = "pass") -> list[Webhook]:
    """An agent marks the chat "Done" in the Page Inbox. What Meta does then is not
    documented under Conversation Routing (doc §5.5, §11b), so `how` picks one: "pass"
    (the legacy Handover behaviour: passed back to our app with a webhook), "release"
    (the thread goes idle; `release_thread_control` sends no webhook) or "nothing"
    (the Inbox keeps the thread; only the folder changes)."""
    if how not in DONE_MODES:
        raise StandinError(f"agent_done: how must be one of {', '.join(DONE_MODES)}, not {how!r}")
    thread = _known(page, psid)
    if thread.owner != page.inbox_app_id:
        raise StandinError(f"the Page Inbox does not own {psid}'s thread (owner: {thread.owner})")
    if how != "pass":
        if how == "release":
            page.set_owner(thread, None, now)
            thread.pending_request = None
        return []
    page.set_owner(thread, page.app_id, now)
    thread.pending_request = None
    notice = events.control_change(page.inbox_app_id, page.app_id, "")
    return [(events.from_user(psid, page.page_id, int(now * 1000),
                              pass_thread_control=notice), False)]


def follows_link(page: Page, now: float, psid: str, ref: str) -> list[Webhook]:
    """The customer opens the existing thread from an m.me link (`messaging_referrals`):
    it opens the messaging window like a message (doc §11b)."""
    thread = _known(page, psid)
    if thread.owner is None and page.default_app is not None:
        page.set_owner(thread, page.default_app, now)
    thread.last_user_at = thread.active_at = now
    referral = {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"}
    standby = thread.owner not in (None, page.app_id)
    return [(events.from_user(psid, page.page_id, int(now * 1000), referral=referral), standby)]


def inbox_requests(page: Page, now: float, psid: str) -> list[Webhook]:
    """The Inbox asks our app, the owner, for the thread (legacy "move to Inbox")."""
    thread = _known(page, psid)
    if thread.owner != page.app_id:
        raise StandinError(f"our app does not own {psid}'s thread (owner: {thread.owner})")
    notice = {"requested_owner_app_id": page.inbox_app_id, "metadata": ""}
    return [(events.from_user(psid, page.page_id, int(now * 1000),
                              request_thread_control=notice), False)]


def expire_idle(page: Page, now: float, psid: str) -> list[Webhook]:
    """24 h without activity: the thread goes idle, and nobody is told."""
    page.set_owner(_known(page, psid), None, now)
    return []


def _known(page: Page, psid: str) -> Thread:
    thread = page.threads.get(psid)
    if thread is None:
        raise StandinError(f"unknown customer {psid}: add_user or customer_says first")
    return thread
