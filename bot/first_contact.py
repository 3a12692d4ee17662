"""A customer's first contact: their row, and their name and locale (Messenger) or
username (Instagram) from the User Profile API, fetched once."""

from __future__ import annotations

import logging

from sqlmodel import select

from bot import instagram
from bot.models import Customer
from core.db import session_scope
from core.mailbox import Queued
from core.runtime import Runtime
from messenger.errors import GraphError

log = logging.getLogger(__name__)


def prepare_customer(rt: Runtime, item: Queued) -> None:
    """Create the customer on first contact, with name and locale from the User Profile API."""
    with session_scope(rt.engine) as session:
        customer = session.exec(select(Customer).where(
            Customer.page_id == item.page_id, Customer.psid == item.psid)).first()
        if customer is None:
            customer = Customer(page_id=item.page_id, psid=item.psid,
                                channel=rt.account(item.page_id).channel)
            session.add(customer)
    if customer.profile_checked:
        return
    on_instagram = instagram.is_instagram(customer.channel)
    fields = instagram.PROFILE_FIELDS if on_instagram else ("first_name", "locale")
    try:
        profile = rt.graph_for(customer.page_id).get_user_profile(customer.psid, fields)
    except GraphError as exc:
        if exc.retryable:
            raise
        log.info("customer %s: no profile (%s); using defaults", customer.id, exc)
        profile = {}
    with session_scope(rt.engine) as session:
        fresh = session.get(Customer, customer.id)
        assert fresh is not None
        fresh.first_name = short(profile.get("first_name"), 200)
        fresh.messenger_locale = short(profile.get("locale"), 16)
        fresh.username = instagram.username_of(profile)
        fresh.profile_checked = True
        session.add(fresh)


def short(value: object, limit: int) -> str | None:
    """`value` as text cut to a column's `limit`; nothing for an empty value."""
    return str(value)[:limit] if value else None
