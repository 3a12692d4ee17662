"""What the people around a stand-in Page do (customers, Page Inbox agents), as calls a
test or the preview makes; each becomes the webhooks Facebook would send."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import quote

from messenger.standin import people, referrals
from messenger.standin.media import CDN_PREFIX, Media


class PeopleActions:
    """Mixed into `Standin`, whose `_act` applies an action under its lock."""

    base_url: str | None
    done_mode: str
    media: Media
    _act: Callable[..., list[dict[str, Any]]]

    def customer_says(self, psid: str, text: str | None = None, *, quick_reply: str | None = None,
                      postback: str | None = None, postback_title: str | None = None,
                      attachments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Deliver a customer's message or postback; returns the event as delivered."""
        return self._act(partial(people.customer_says, psid=psid, text=text,
                                 quick_reply=quick_reply, postback=postback,
                                 postback_title=postback_title, attachments=attachments), psid)[0]

    def customer_sends_file(self, psid: str, data: bytes, *, name: str, kind: str = "file",
                            content_type: str = "application/octet-stream") -> dict[str, Any]:
        """The customer sends a file: it goes on the CDN, its URL in the message."""
        token = self.media.host(data, content_type)
        url = f"{self.base_url}{CDN_PREFIX}/{token}/{quote(name)}?oh=signed&oe=expiry"
        return self.customer_says(psid, attachments=[{"type": kind, "payload": {"url": url}}])

    def agent_says(self, psid: str, text: str) -> dict[str, Any]:
        """An agent replies from the Page Inbox; returns the echo event."""
        return self._act(partial(people.agent_says, psid=psid, text=text), psid)[-1]

    def agent_done(self, psid: str, how: str | None = None) -> dict[str, Any] | None:
        """An agent marks the chat Done: by `done_mode` (or `how`), the Inbox passes the thread
        back ("pass": returns the pass event), releases it silently, or does nothing."""
        done = self._act(partial(people.agent_done, psid=psid, how=how or self.done_mode), psid)
        return done[0] if done else None

    def customer_follows_link(self, psid: str, ref: str = "support") -> dict[str, Any]:
        """The customer enters the existing thread from an m.me link; returns the referral."""
        return self._act(partial(people.follows_link, psid=psid, ref=ref), psid)[0]

    def customer_opens_link(self, psid: str, ref: str) -> dict[str, Any]:
        """The customer opens the Page's m.me link with `ref`: Get Started carrying the
        referral on a new thread, the referral event on an open one (`referrals`)."""
        return self._act(partial(referrals.opens_link, psid=psid, ref=ref), psid)[0]

    def inbox_requests(self, psid: str) -> dict[str, Any]:
        """The Inbox asks our app (the owner) for the thread; returns the request event."""
        return self._act(partial(people.inbox_requests, psid=psid), psid)[0]

    def expire_idle(self, psid: str) -> None:
        self._act(partial(people.expire_idle, psid=psid), psid)
