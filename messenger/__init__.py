"""Everything that speaks Messenger's wire formats: the webhook signature, event
parsing, the Graph API client and the local Graph API stand-in."""
