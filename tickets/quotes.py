"""Keep only what the agent wrote: cut quoted history and signatures from a reply.

Mail clients mark the quoted part in different ways: an attribution line
("On Mon, ... wrote:", "El lun, ... escribió:"), Outlook's header block
("From: ... Sent: ..." or "-----Original Message-----"), or "> " prefixes.
Signatures start at the standard "-- " line or a "Sent from my ..." footer. English,
Spanish, Portuguese, French and German (tests/data/replies: Gmail, Outlook, Apple Mail,
Thunderbird, Yahoo).
"""

from __future__ import annotations

import re

# English, Spanish, Portuguese, French, German: "On ... wrote:", "El ... escribió:",
# "Em ... escreveu:", "Le ... a écrit :", "Am ... Folgendes geschrieben:"; and German's
# "Am ... schrieb <name>:" (`_SCHRIEB`, apart: one bounded wildcard per pattern keeps a
# hostile 10 MiB mail linear)
_ATTRIBUTION = re.compile(
    r"^(on\b.{0,200}\bwrote|el\b.{0,200}\bescribi[oó]|em\b.{0,200}\bescreveu"
    r"|le\b.{0,200}\ba écrit|am\b.{0,200}\bgeschrieben)\s*:\s*$",
    re.IGNORECASE,
)
_SCHRIEB = re.compile(r"^am\b.{0,200}\bschrieb\b", re.IGNORECASE)
_ATTRIBUTION_MAX = 400
_ATTRIBUTION_START = re.compile(r"^(on|el|em|le|am)\s", re.IGNORECASE)
_SEPARATORS = re.compile(
    r"^(-{2,}\s*(original message|mensaje original|mensagem original|message d'origine"
    r"|ursprüngliche nachricht|original-nachricht|forwarded message|mensaje reenviado)\s*-{2,}"
    r"|_{20,}|={20,})\s*$",
    re.IGNORECASE,
)
_HEADER_BLOCK = re.compile(r"^\*?(from|de|von)\s*:\*?\s", re.IGNORECASE)
_HEADER_FOLLOW = re.compile(
    r"^\*?(sent|date|to|subject|enviado|enviada|fecha|data|para|asunto|assunto"
    r"|envoyé|à|objet|gesendet|datum|an|betreff)\s*:", re.IGNORECASE)
_SIGNATURE = re.compile(
    r"^(--\s?|(sent from|enviado desde|enviado do|envoyé de|gesendet von)"
    r" (my|mi|meu|mon|yahoo mail|mail for|correo para|email para|courrier pour|mail für)\b.*"
    r"|von meinem .+ gesendet"
    r"|(get|obtener|obter o|téléchargez|holen sie sich) outlook (for|para|pour|für) .+"
    r"|outlook für .+ beziehen)$",
    re.IGNORECASE,
)


def strip_reply(text: str) -> str:
    """The new part of a reply: before the first quote marker, minus the signature."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = lines[: _quote_start(lines)]
    kept = kept[: _signature_start(kept)]
    kept = [line for line in kept if not line.lstrip().startswith(">")]
    return "\n".join(line.rstrip() for line in kept).strip()


def _quote_start(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        stripped = line.strip()
        if _is_attribution(stripped) or _SEPARATORS.match(stripped):
            return i
        # Attribution lines wrapped by the client: "On Mon, 2 Mar 2026, Support\n<a@b> wrote:"
        if _ATTRIBUTION_START.match(stripped) and i + 1 < len(lines):
            if _is_attribution(f"{stripped} {lines[i + 1].strip()}"):
                return i
        if _HEADER_BLOCK.match(stripped) and _followed_by_headers(lines, i):
            return i
    return len(lines)


def _is_attribution(line: str) -> bool:
    if len(line) > _ATTRIBUTION_MAX or not line.endswith(":"):
        return False
    return bool(_ATTRIBUTION.match(line) or _SCHRIEB.match(line))


def _followed_by_headers(lines: list[str], start: int) -> bool:
    nearby = lines[start + 1 : start + 5]
    return sum(1 for line in nearby if _HEADER_FOLLOW.match(line.strip())) >= 2


def _signature_start(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        if i > 0 and _SIGNATURE.match(line.strip()):
            return i
    return len(lines)
