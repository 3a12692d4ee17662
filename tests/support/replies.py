"""Agents' email replies as the major mail clients write them (Gmail, Outlook, Apple Mail,
Thunderbird, Yahoo) in English, Spanish, Portuguese, French and German: in
tests/data/replies/<client>_<language>.txt, the new text, a line `=====`, then the body."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).resolve().parents[1] / "data" / "replies"


@dataclass(frozen=True)
class Reply:
    name: str  # <client>_<language>
    body: str
    new_text: str  # what the agent wrote this time: no quote, no signature


def replies() -> list[Reply]:
    found = []
    for path in sorted(FOLDER.glob("*.txt")):
        new_text, _, body = path.read_text(encoding="utf-8").partition("\n=====\n")
        found.append(Reply(path.stem, body, new_text.strip()))
    return found


def same_text(found: str | None, wanted: str) -> bool:
    """Equal but for trailing spaces and blank lines at either end."""
    def lines(text: str) -> list[str]:
        return [line.rstrip() for line in text.strip().splitlines()]

    return found is not None and lines(found) == lines(wanted)
