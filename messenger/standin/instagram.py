"""Facebook's side of an Instagram professional account linked to a Page (doc §11b,
"Instagram messaging"): the same threads and Conversation Routing as a Page, with
Instagram's differences:

- webhooks with `object: "instagram"` and the account id as the entry id; echoes come
  with the messages (no `message_echoes` field); reads as `messaging_seen` (a `mid`);
- the Instagram inbox app (`1217981644879628`) is the inbox; a send or a pass while
  another app owns the thread fails with 100/2534037, not 10/2018300;
- the Send API takes less: text under 1000 characters, only the generic, button and
  product templates, only the HUMAN_AGENT tag;
- profiles give `name` and `username` (no first name or locale);
- its Messenger profile (`platform=instagram`) has ice breakers, never Get Started or
  a greeting.

Sends use the linked Page's token (`Standin` routes by recipient).
"""

from __future__ import annotations

import copy
from typing import Any

from messenger.standin import events
from messenger.standin.errors import GraphError, bad_param, unknown_object
from messenger.standin.page import Page, Thread, put_thread
from messenger.standin.validate import check_text
from messenger.standin.validate_profile import profile_body

INSTAGRAM_INBOX_APP_ID = "1217981644879628"
WEBHOOK_OBJECT = "instagram"
NOT_OWNER = "(#100) The action is invalid since it's not the thread owner."
MAX_TEXT = 999  # "less than 1000 characters"
TEMPLATES = ("generic", "button", "product")
TAGS = ("HUMAN_AGENT",)
PROFILE_FIELDS = ("id", "name", "username", "profile_pic", "follower_count",
                  "is_user_follow_business", "is_business_follow_user")
NOT_ON_INSTAGRAM = ("get_started", "greeting")


def not_owner() -> GraphError:
    return GraphError(100, NOT_OWNER, subcode=2534037)


def no_instagram_account() -> GraphError:
    return bad_param("The Page has no linked Instagram professional account")


class InstagramAccount(Page):
    """One Instagram account's threads; `page_id` is the account id, as webhooks name it."""

    webhook_object = WEBHOOK_OBJECT  # and its id (`page_id`) is the account's

    def __init__(self, *, account_id: str, page_id: str, app_id: str) -> None:
        super().__init__(page_id=account_id, app_id=app_id, inbox_app_id=INSTAGRAM_INBOX_APP_ID)
        self.linked_page_id = page_id

    def send(self, body: Any, now: float) -> tuple[dict[str, Any], dict[str, Any] | None]:
        error = instagram_send_body(body)
        if error:
            raise error
        return _owned(lambda: super(InstagramAccount, self).send(body, now))

    def pass_control(self, body: Any, now: float) -> None:
        _owned(lambda: super(InstagramAccount, self).pass_control(body, now))

    def release_control(self, body: Any, now: float) -> None:
        _owned(lambda: super(InstagramAccount, self).release_control(body, now))

    def set_messenger_profile(self, body: Any) -> None:
        for key in NOT_ON_INSTAGRAM:
            if isinstance(body, dict) and key in body:
                raise bad_param(f"Param {key} is not supported for platform instagram")
        body = {k: v for k, v in body.items() if k != "platform"} if isinstance(body, dict) else body
        error = profile_body(body, self.messenger_profile)
        if error:
            raise error
        self.messenger_profile.update(copy.deepcopy(body))


def add_user(account: InstagramAccount, igsid: str, *, name: str = "Ana Silva",
             username: str = "ana.silva", has_profile: bool = True) -> Thread:
    """An Instagram user who may write to the account (a thread, idle until they do)."""
    profile = {"name": name, "username": username, "has_profile": has_profile}
    return put_thread(account.threads, igsid, profile)


def user_profile(account: InstagramAccount, igsid: str, fields: list[str]) -> dict[str, Any]:
    """`GET /<IGSID>?fields=name,username,...`: no first name or locale on Instagram."""
    thread = account.threads.get(igsid)
    if thread is None:
        raise unknown_object(igsid, "GET")
    for name in fields:
        if name not in PROFILE_FIELDS:
            raise bad_param(f"Tried accessing nonexisting field ({name}) on node type "
                            "(InstagramUser)")
    profile = thread.profile
    if not profile["has_profile"]:
        raise GraphError(230, "(#230) User consent is required to access user profile")
    values = {"id": igsid, "name": profile["name"], "username": profile["username"],
              "profile_pic": f"https://scontent.cdninstagram.com/v/{igsid}.jpg",
              "follower_count": 0, "is_user_follow_business": False,
              "is_business_follow_user": False}
    return {name: values[name] for name in fields or ("name", "username")}


def seen(account: InstagramAccount, now: float, igsid: str) -> list[tuple[dict[str, Any], bool]]:
    """The customer sees our latest message: `messaging_seen`, naming a message id."""
    thread = account.threads.get(igsid)
    read = {"mid": events.new_mid()}
    standby = thread is not None and thread.owner not in (None, account.app_id)
    return [(events.from_user(igsid, account.page_id, int(now * 1000), read=read), standby)]


def instagram_send_body(body: Any) -> GraphError | None:
    """What Instagram refuses beyond Messenger's checks (those follow in `Page.send`)."""
    if not isinstance(body, dict):
        return None
    if body.get("messaging_type") == "MESSAGE_TAG" and body.get("tag") not in TAGS:
        return bad_param(f"Param tag must be one of {{{', '.join(TAGS)}}} on Instagram")
    message = body.get("message")
    if not isinstance(message, dict):
        return None
    if "text" in message:
        return check_text(message["text"], "message.text", MAX_TEXT)
    attachment = message.get("attachment")
    payload = attachment.get("payload") if isinstance(attachment, dict) else None
    if isinstance(attachment, dict) and attachment.get("type") == "template":
        kind = payload.get("template_type") if isinstance(payload, dict) else None
        if kind not in TEMPLATES:
            return bad_param(f"Param template_type {kind!r} is not supported on Instagram: "
                             f"use one of {{{', '.join(TEMPLATES)}}}")
    return None


def _owned(call: Any) -> Any:
    """Run a Page call, answering Instagram's non-owner error where Messenger's would be."""
    try:
        return call()
    except GraphError as error:
        if (error.code, error.subcode) == (10, 2018300):
            raise not_owner() from None
        raise


# Upload Media for Instagram Messaging: the types Instagram takes, by attachment type.
UPLOAD_TYPES = {"image": ("image/png", "image/jpeg", "image/gif"), "file": ("application/pdf",),
                "video": ("video/mp4", "video/ogg", "video/x-msvideo", "video/quicktime",
                          "video/webm"),
                "audio": ("audio/aac", "audio/mp4", "audio/x-wav", "audio/wav", "video/mp4")}


def instagram_upload(message: Any, content_type: str | None) -> GraphError | None:
    """What Instagram refuses in an upload with `platform=instagram` (Messenger's checks follow)."""
    attachment = message.get("attachment") if isinstance(message, dict) else None
    kind = attachment.get("type") if isinstance(attachment, dict) else None
    if content_type not in UPLOAD_TYPES.get(str(kind), ()):
        return bad_param(f"Instagram does not take {content_type} as {kind}", subcode=2018047)
    return None
