"""The few exceptions of the tickets package, caught where they are expected."""

from __future__ import annotations


class TicketsError(Exception):
    """Base of this package's errors."""


class TicketNotFound(TicketsError):
    """No such ticket, or not one this viewer may see (the same answer on purpose)."""


class UnparsableEmail(TicketsError):
    """Inbound mail that is not an RFC 5322 message with a readable text reply."""


class MailDeliveryError(TicketsError):
    """The SMTP relay did not accept a notification; the job raises it so RQ retries."""


class BadLoginLink(TicketsError):
    """A sign-in link that is forged, expired or already used; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # invalid | expired | used
