"""The Messenger bot: the webhook that acknowledges and queues events, the
drain jobs that work through each customer's mailbox in order, the keyword
flows admins write in YAML, and the conversation that turns an event into
replies. Handover (`handoff`) and tickets (`tickets`) plug in through
`bot.extensions`."""
