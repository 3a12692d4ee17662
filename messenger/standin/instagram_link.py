"""`Standin`'s side of a linked Instagram account: linking it, its users, their reads, and
which of the two (Page or account) a customer's calls and events belong to."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from messenger.standin import instagram
from messenger.standin.errors import StandinError
from messenger.standin.instagram import InstagramAccount
from messenger.standin.page import Page


class InstagramLink:
    """Mixed into `Standin`, whose lock, Page and `_act` it uses."""

    page_id: str
    app_id: str
    page: Page
    instagram: InstagramAccount | None
    _lock: threading.Condition
    _act: Callable[..., list[dict[str, Any]]]

    def link_instagram(self, account_id: str) -> InstagramAccount:
        """Link an Instagram professional account to the Page: its messages come as
        `object: "instagram"` webhooks and are answered with the Page's token."""
        with self._lock:
            self.instagram = InstagramAccount(account_id=account_id, page_id=self.page_id,
                                              app_id=self.app_id)
            return self.instagram

    def add_instagram_user(self, igsid: str, *, name: str = "Ana Silva",
                           username: str = "ana.silva", has_profile: bool = True) -> None:
        """An Instagram user of the linked account; the other people methods then take them."""
        with self._lock:
            if self.instagram is None:
                raise StandinError("no Instagram account is linked: link_instagram first")
            instagram.add_user(self.instagram, igsid, name=name, username=username,
                               has_profile=has_profile)

    def customer_sees(self, igsid: str) -> dict[str, Any]:
        """An Instagram customer sees our messages: `messaging_seen`."""
        return self._act(partial(instagram.seen, igsid=igsid), igsid)[0]

    def _page_for(self, psid: str | None) -> Page:
        """The linked Instagram account for its users; the Page for anyone else."""
        if self.instagram is not None and psid is not None and psid in self.instagram.threads:
            return self.instagram
        return self.page
