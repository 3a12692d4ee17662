"""Chat Support: per served Page and channel, the link that opens the conversation.

`https://m.me/<username or Page id>?ref=my-tickets` for Messenger and, when the pages
file names the account's username, `https://ig.me/m/<username>?ref=my-tickets` for
Instagram: the bot answers that ref with the customer's sign-in link
(tickets.referral). Without a pages file the Page id is not configured: the Page that
webhooks name (the newest customer's) is used, and until one has written the entry is
shown without a link. An entry without a link tells staff what the pages file lacks, and
is left out for customers.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from sqlmodel import Session, col, select

from bot.models import Customer
from config.pages import PagesDirectory
from tickets.referral import MY_TICKETS_REF


@dataclass(frozen=True)
class ChatLink:
    page_name: str  # "" in single-Page mode: the one Page needs no name
    channel: str  # "messenger" | "instagram"
    url: str | None  # None: the address is not known (see `missing`)
    missing: str | None = None  # why not, for staff: "page_id" | "instagram_username"


def chat_links(pages: PagesDirectory, session: Session, *, preview: str | None = None,
               only: frozenset[str] | None = None) -> list[ChatLink]:
    """Each served Page's Messenger link, followed by its Instagram link when known.
    `preview`: the local preview's address, where the links open the demo accounts instead;
    `only`: these Pages' (an agent bound to them), not every Page's."""
    if pages.single:
        page_id = _learned_page_id(session)
        if page_id is None:
            return [ChatLink("", "messenger", None, "page_id")]
        return [ChatLink("", "messenger", messenger_url(page_id))]
    links: list[ChatLink] = []
    for page in pages.pages:
        if only is not None and page.id not in only:
            continue
        links.append(ChatLink(page.name, "messenger", _in_preview(preview, page.id)
                              or messenger_url(page.username or page.id)))
        if page.instagram_id and (page.instagram_username or preview):
            links.append(ChatLink(page.name, "instagram", _in_preview(preview, page.instagram_id)
                                  or instagram_url(page.instagram_username or "")))
        elif page.instagram_id:  # ig.me needs the username, which the account id does not give
            links.append(ChatLink(page.name, "instagram", None, "instagram_username"))
    return links


def _in_preview(preview: str | None, account_id: str) -> str | None:
    if preview is None:
        return None
    return f"{preview}?{urlencode({'account': account_id, 'ref': MY_TICKETS_REF})}"


def messenger_url(page: str) -> str:
    return f"https://m.me/{quote(page, safe='')}?ref={MY_TICKETS_REF}"


def instagram_url(username: str) -> str:
    return f"https://ig.me/m/{quote(username.lstrip('@'), safe='')}?ref={MY_TICKETS_REF}"


def _learned_page_id(session: Session) -> str | None:
    """The Page id webhooks name, as the newest customer keeps it (ids are digits)."""
    page_id = session.exec(select(Customer.page_id).where(Customer.channel == "messenger")
                           .order_by(col(Customer.id).desc()).limit(1)).first()
    return page_id if page_id and page_id.isdigit() else None
