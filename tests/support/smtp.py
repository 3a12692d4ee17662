"""A real SMTP relay for tests: aiosmtpd on loopback, keeping what it accepted."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage


class CapturedMail:
    """aiosmtpd handler: every message the relay accepted, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"
