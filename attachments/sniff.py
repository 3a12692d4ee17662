"""What a file is, from its first bytes (never from its name or the server's
header), and the name it is kept and served under."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

import filetype

UNKNOWN = "application/octet-stream"
# Shown inline on the ticket screen; everything else is a download.
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
MAX_NAME = 100


def content_type(data: bytes | bytearray) -> tuple[str, str | None]:
    """(MIME type, usual extension) by magic bytes; octet-stream when unknown."""
    kind = filetype.guess(data[:8192])
    return (kind.mime, kind.extension) if kind is not None else (UNKNOWN, None)


def name_from_url(url: str, fallback: str) -> str:
    path = PurePosixPath(unquote(urlsplit(url).path))
    return clean_name(path.name) or fallback


def clean_name(name: str) -> str:
    """A file name safe in a header and on disk: no path, no control or odd characters."""
    cleaned = _UNSAFE.sub("_", PurePosixPath(name.replace("\\", "/")).name).strip(" .")
    return cleaned[-MAX_NAME:]


def named_for(name: str, extension: str | None) -> str:
    """`name` with the extension of what the bytes are (a PNG called "x.html" becomes x.png)."""
    if extension is None:
        return name
    stem = PurePosixPath(name).stem if "." in name else name
    return f"{stem or 'file'}.{extension}"
