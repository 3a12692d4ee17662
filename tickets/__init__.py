"""Email Support: tickets a customer opens from the Messenger conversation (a
title → type → description wizard) or the web screen. The personnel of the
ticket's type are emailed by an RQ job over SMTP; their email replies come back
through `POST /email/inbound` (or the `tickets ingest-email` pipe), are stored on
the ticket and delivered to the customer on Messenger through the customer's
own mailbox, so they obey the same exactly-once, in-order and handover rules as
the bot. Customers sign in to the ticket screen with a signed single-use link
the bot sends; agents with a password. Admins read tickets from a JSON API.
It plugs into the conversation through `bot.extensions` (`tickets.plugin`); features that
follow up on a resolved ticket listen in `tickets.resolved`.
"""
