"""The preview's demo accounts: the Pages of preview/demo_pages.yaml, each a stand-in Page
reached with its own throwaway token behind the one Graph address (as Facebook tells Pages
apart by their tokens), and the Instagram account linked to the first (served by its
Page's stand-in, which tells its users apart from the Page's).

Each account's stand-in also has its own control endpoints (`/_graph/_accounts/<id>/_standin/`;
the first Page's stay at `/_graph/_standin/` too), which the preview page drives.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from config.pages import INSTAGRAM_INBOX_APP_ID, PagesDirectory
from messenger.standin import Standin

DEMO_PAGES = Path(__file__).with_name("demo_pages.yaml")
ACCOUNTS_PREFIX = "/_accounts"


@dataclass(frozen=True)
class DemoAccount:
    id: str  # the webhook entry id: Page id, or Instagram account id
    channel: str  # "messenger" | "instagram"
    page_name: str
    standin: Standin  # an Instagram account's is its Page's: it answers with the Page's token

    @property
    def inbox_app_id(self) -> str:
        """Where a handover sends the conversation: the Page Inbox, or Instagram's inbox."""
        return INSTAGRAM_INBOX_APP_ID if self.channel == "instagram" else self.standin.inbox_app_id

    @property
    def label(self) -> str:
        return f"{self.page_name} · {self.channel.capitalize()}"


def issue_tokens(path: Path = DEMO_PAGES) -> dict[str, str]:
    """A throwaway token in the environment for each of the demo file's token_env: the
    pages loader reads tokens from there (this process only; nothing real is replaced)."""
    entries = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("pages") or []
    tokens = {entry["token_env"]: "EAAL" + secrets.token_hex(24) for entry in entries}
    os.environ.update(tokens)
    return tokens


def demo_accounts(pages: PagesDirectory, *, app_id: str, app_secret: str, inbox_app_id: str,
                  webhook_url: str) -> list[DemoAccount]:
    """One stand-in Page per demo Page, in the file's order, each followed by its linked
    Instagram account."""
    accounts = []
    for page in pages.pages:
        standin = Standin(page_id=page.id, app_id=app_id, app_secret=app_secret,
                          access_token=page.token, inbox_app_id=inbox_app_id,
                          webhook_url=webhook_url)
        standin.page_name = page.name
        accounts.append(DemoAccount(page.id, "messenger", page.name, standin))
        if page.instagram_id:
            standin.link_instagram(page.instagram_id)
            accounts.append(DemoAccount(page.instagram_id, "instagram", page.name, standin))
    return accounts


def control_prefix(graph_prefix: str, account: DemoAccount, first: bool) -> str:
    """Where the preview page drives this account's stand-in."""
    if first:
        return f"{graph_prefix}/_standin"
    return f"{graph_prefix}{ACCOUNTS_PREFIX}/{account.id}/_standin"
