"""Satisfaction ratings: when a ticket is resolved, or a live agent's chat comes back to
the bot, the customer is asked once, inside Messenger's 24-hour window, to rate the help
from 1 to 5 (quick replies), then offered to add a comment. The decision to ask is part
of the turn (its state, its outbox), so a redelivered or re-run event never asks twice.
Ratings live on the ticket (`Ticket.rating`) or in `ChatRating`; `satisfaction.stats`
counts them for the metrics and the staff screen. Admins word the prompt, or switch it
off per language, in the flows file's `satisfaction:` section. The package plugs into the
conversation through `bot.extensions` and listens to `tickets.resolved` and
`handoff.returned`, all in `satisfaction.plugin`; neither tickets nor handoff import it."""
