"""Live agent handover: Messenger's handover protocol (Conversation Routing) to the Page Inbox.

A customer asks for a live agent (menu, quick reply or typed word): the bot
confirms, offers a Resume Chat With Bot button and passes the thread to the
Page Inbox with a short summary for the agent. While another app owns the
thread the bot only listens: every standby event and agent echo goes into the
transcript, and nothing is sent. Resume takes the thread back (or asks for
it); control coming back (agent done, release, 24 h idle) brings the menu
again. Who owns each thread is kept in `Customer.state["handoff"]` and follows
Facebook's word: a successful call, a handover webhook, the channel an event
arrived on, or `thread_owner`. Business hours, the agent-wait timeout and the
texts come from the `handoff:` section of the flows file (`bot.flows.handoff_config`).
The package plugs into the conversation only through `bot.extensions` (`handoff.plugin`);
features that follow up on a returned chat listen in `handoff.returned`.
"""
