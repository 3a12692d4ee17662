"""Attachments both ways: what a customer sends on Messenger is fetched by the
worker at once (Messenger's URLs expire), checked by its content and kept in the
database; files on an agent's emailed reply are kept the same way and uploaded
to Messenger. Tickets, the transcript and the handover summary link to the rows
by customer, message id, ticket and reply. It plugs into the conversation and the
outbox through `bot.extensions` (`attachments.plugin`)."""
