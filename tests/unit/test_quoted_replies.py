"""An agent's emailed reply reaches the customer without the quoted history or the
signature, whichever major mail client and language wrote it (tests/data/replies;
bench/quoted_replies.py compares with the mail-parser-reply library on the same mail)."""

from __future__ import annotations

import pytest

from tests.support.replies import replies, same_text
from tickets.quotes import strip_reply

REPLIES = replies()


def test_the_corpus_covers_every_client_and_language() -> None:
    clients = {"gmail", "outlook", "apple", "thunderbird", "yahoo"}
    languages = {"en", "es", "pt", "fr", "de"}
    assert {reply.name for reply in REPLIES} == {f"{c}_{lang}" for c in clients for lang in languages}


@pytest.mark.parametrize("reply", REPLIES, ids=[reply.name for reply in REPLIES])
def test_only_the_new_text_is_kept(reply) -> None:  # type: ignore[no-untyped-def]
    assert same_text(strip_reply(reply.body), reply.new_text), strip_reply(reply.body)


@pytest.mark.parametrize("text", [
    "Am Montag bringe ich den neuen Drucker vorbei.\nVon: der Technik",
    "De: a loja, para: a cliente.\nData: amanhã.\nObrigada",
    "Le technicien passe demain.\nÀ : vous de voir.",
    "Sent from the office: the invoice is attached.",
])
def test_text_that_only_looks_like_a_marker_is_kept(text: str) -> None:
    assert strip_reply(text) == text
