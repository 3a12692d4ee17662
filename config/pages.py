"""The Pages and Instagram accounts this deployment serves (`PAGES_PATH`).

`load_pages` reads the pages file into a `PagesDirectory` (every problem reported as
`file:line: message` in one `PagesError`); without a file, the directory is today's
single-Page mode: any entry id is served as a Messenger Page with
`MESSENGER_PAGE_ACCESS_TOKEN`. A webhook entry lands on an `Account` (a Page, or an
Instagram account answered through its linked Page's token).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from dotenv import dotenv_values

from config.settings import ConfigError, Settings

CHANNELS = ("messenger", "instagram")
INSTAGRAM_INBOX_APP_ID = "1217981644879628"
SINGLE_PAGE_ID = "me"  # Graph's name for the token's own Page, until a webhook names it
SINGLE_TOKEN_ENV = "MESSENGER_PAGE_ACCESS_TOKEN"


class PagesError(ConfigError):
    """The pages file cannot be used; `problems` ("file:line: message") say why, by line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class UnknownAccount(LookupError):
    """An account (Page or Instagram account) id this deployment does not serve."""


@dataclass(frozen=True)
class Page:
    id: str  # the Page id, as webhooks name it
    name: str
    token: str = field(repr=False)
    token_env: str
    flows_path: str  # its own flows file, else settings.flows_path
    instagram_id: str | None = None
    username: str | None = None  # the Page's @username, for m.me links
    instagram_username: str | None = None  # for ig.me links


@dataclass(frozen=True)
class Account:
    """Where a webhook entry lands: a Page (messenger) or an Instagram account."""

    id: str  # the webhook entry id: Page id (messenger) or Instagram account id
    channel: str  # "messenger" | "instagram"
    page: Page  # whose token, flows and name serve it
    handover_target: str  # the inbox app a conversation is passed to


class PagesDirectory:
    """Answers which account a webhook entry is for, and which Page serves it."""

    def __init__(self, pages: tuple[Page, ...], *, inbox_app_id: str, single: bool = False,
                 source: str | None = None) -> None:
        self.pages = pages
        self.single = single
        self.source = source  # the pages file read, None in single-Page mode
        self._inbox_app_id = inbox_app_id
        self._by_id: dict[str, Account] = {}
        for page in pages:
            self._by_id[page.id] = Account(page.id, "messenger", page, inbox_app_id)
            if page.instagram_id:
                self._by_id[page.instagram_id] = Account(
                    page.instagram_id, "instagram", page, INSTAGRAM_INBOX_APP_ID)

    def account(self, entry_id: str, channel: str) -> Account | None:
        """The account a webhook entry of `channel` is for; None: not served here."""
        if self.single:
            return self._single_account(entry_id) if channel == "messenger" else None
        found = self._by_id.get(str(entry_id))
        return found if found is not None and found.channel == channel else None

    def find(self, account_id: str) -> Account | None:
        """The account with this id, whatever its channel (ids are unique across both)."""
        if self.single:
            return self._single_account(account_id)
        return self._by_id.get(str(account_id))

    def page(self, page_id: str) -> Page | None:
        if self.single:
            return self._single_account(page_id).page
        found = self._by_id.get(str(page_id))
        return found.page if found is not None and found.channel == "messenger" else None

    def accounts(self) -> list[Account]:
        """Every served account, each Page followed by its Instagram account."""
        if self.single:
            return [Account(SINGLE_PAGE_ID, "messenger", self.pages[0], self._inbox_app_id)]
        return list(self._by_id.values())

    def _single_account(self, entry_id: str) -> Account:
        page = replace(self.pages[0], id=str(entry_id), name=str(entry_id))
        return Account(str(entry_id), "messenger", page, self._inbox_app_id)


def pages_path(settings: Settings) -> Path | None:
    """The pages file to read: PAGES_PATH, else config/pages.yaml if it exists."""
    if settings.pages_path:
        return Path(settings.pages_path)
    default = Path("config/pages.yaml")
    return default if default.exists() else None


def load_pages(settings: Settings, environ: Mapping[str, str] | None = None) -> PagesDirectory:
    """The directory for `settings`; PagesError if the pages file is broken."""
    from config.pages_file import read_pages  # the YAML checks, kept apart

    path = pages_path(settings)
    if path is None:
        return single_page(settings)
    env = _environment() if environ is None else environ
    pages = read_pages(path, env, default_flows=settings.flows_path)
    return PagesDirectory(pages, inbox_app_id=settings.page_inbox_app_id, source=str(path))


def single_page(settings: Settings) -> PagesDirectory:
    """Today's one-Page mode: any entry id, one token, FLOWS_PATH."""
    page = Page(SINGLE_PAGE_ID, "the Page", settings.messenger_page_access_token or "",
                SINGLE_TOKEN_ENV, settings.flows_path)
    return PagesDirectory((page,), inbox_app_id=settings.page_inbox_app_id, single=True)


def _environment() -> dict[str, str]:
    """os.environ over `.env`, as settings read them (tokens may live in either)."""
    source = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    source.update(os.environ)
    return source
