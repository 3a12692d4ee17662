"""What a signed-in viewer may see: a customer their own tickets, an agent bound to some
Pages (`flask users set-pages`) those Pages' tickets and chats, anyone else on the staff
everything. An agency's agents thus never read another client's customers.

A ticket carries its Page's id (an Instagram ticket: the linked Page's); a chat rating
carries the customer's account id, the Page's or its Instagram account's, so a scope
knows both (`account_ids`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlmodel import col

from config.pages import PagesDirectory
from tickets.models import Ticket


@dataclass(frozen=True)
class Scope:
    customer_id: int | None = None  # a customer: only their own tickets
    page_ids: frozenset[str] | None = None  # a Page-bound agent: only these Pages'
    account_ids: frozenset[str] | None = None  # those Pages and their Instagram accounts

    @property
    def everything(self) -> bool:
        return self.customer_id is None and self.page_ids is None

    def ticket_clauses(self) -> list[Any]:
        """WHERE clauses on Ticket for this scope (none for everything)."""
        clauses: list[Any] = []
        if self.customer_id is not None:
            clauses.append(Ticket.customer_id == self.customer_id)
        if self.page_ids is not None:
            clauses.append(col(Ticket.page_id).in_(sorted(self.page_ids)))
        return clauses

    def sees(self, ticket: Ticket) -> bool:
        if self.customer_id is not None and ticket.customer_id != self.customer_id:
            return False
        return self.page_ids is None or ticket.page_id in self.page_ids


EVERYTHING = Scope()


def pages_scope(page_ids: Iterable[str], directory: PagesDirectory) -> Scope:
    """The scope of an agent bound to `page_ids`, with the Pages' Instagram accounts."""
    pages = frozenset(page_ids)
    accounts = set(pages)
    for page_id in pages:
        page = directory.page(page_id)
        if page is not None and page.instagram_id:
            accounts.add(page.instagram_id)
    return Scope(page_ids=pages, account_ids=frozenset(accounts))
