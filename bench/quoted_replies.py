"""Quoted-reply stripping: tickets/quotes.py against the mail-parser-reply library on the
same agents' replies (tests/data/replies: Gmail, Outlook, Apple Mail, Thunderbird and
Yahoo, in English, Spanish, Portuguese, French and German). A reply counts when exactly
the new text is left: no quoted history, no signature or "Sent from my ..." footer.
The library is given all five languages (it has no Portuguese) and scored on its
latest reply's body (without the signatures it recognises). Then the time quotes.py takes
(CPU, best of 3) on hostile bodies: 50,000 lines that look like attributions but are not (10 to 18 MiB,
around the inbound limit). Not run in CI; the figures go to docs/RELIABILITY.md.

    .venv/bin/python -m bench.quoted_replies
"""

from __future__ import annotations

import time

from mailparser_reply import EmailReplyParser

from tests.support.replies import replies, same_text
from tickets.quotes import strip_reply


def _library(parser: EmailReplyParser, body: str) -> str | None:
    found = parser.read(body).replies
    return found[0].body if found else None


def main() -> None:
    parser = EmailReplyParser(languages=["en", "es", "pt", "fr", "de"])
    ours = theirs = 0
    print(f"{'reply':16} {'quotes.py':>9} {'mail-parser-reply':>17}")
    for reply in replies():
        a = same_text(strip_reply(reply.body), reply.new_text)
        b = same_text(_library(parser, reply.body), reply.new_text)
        ours, theirs = ours + a, theirs + b
        print(f"{reply.name:16} {'ok' if a else 'WRONG':>9} {'ok' if b else 'WRONG':>17}")
    total = len(replies())
    print(f"{'right':16} {f'{ours}/{total}':>9} {f'{theirs}/{total}':>17}")
    _hostile()


HOSTILE = ["Am " + "schrieb " * 25 + "x", "Am " + "schrieb " * 25 + "x:", "On " + "wrote " * 40 + "x:",
           "Am " + "x" * 190 + " schrieb " + "y" * 180 + " z:", "Von: " + "a" * 300]


def _hostile() -> None:
    for line in HOSTILE:
        body = "\n".join([line] * 50_000)
        best = float("inf")
        for _ in range(3):  # CPU time, best of 3: the machine is shared
            start = time.process_time()
            strip_reply(body)
            best = min(best, time.process_time() - start)
        print(f"hostile {line[:24]!r:28} {len(body) / 2**20:5.1f} MiB {best:6.2f} s CPU")


if __name__ == "__main__":
    main()
