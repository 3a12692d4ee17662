"""The Messenger bot: the webhook that acknowledges and queues events, the
drain jobs that work through each customer's mailbox in order, the keyword
flows admins write in YAML, and the conversation that turns an event into
replies, and the flows file's format (its `handoff:` and `satisfaction:`
sections too). Features (`handoff`, `tickets`, `satisfaction`, `attachments`)
plug in through the seams of `bot.extensions`, registering themselves
(`features.register_all`); `bot` never imports them."""
