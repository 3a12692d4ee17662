"""Small real files for attachment tests, built in code (no binaries in the repo)."""

from __future__ import annotations

import os
import struct
import zlib


def png(extra: int = 0) -> bytes:
    """A valid 1x1 PNG, made unique (and `extra` bytes larger) by a random text chunk."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    noise = b"note\0" + os.urandom(8 + extra).hex().encode()[: 16 + extra]
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"tEXt", noise)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def pdf(extra: int = 0) -> bytes:
    body = os.urandom(extra // 2).hex().encode()
    return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> stream\n" + body + b"\nendstream\n%%EOF\n"
