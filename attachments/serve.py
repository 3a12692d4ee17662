"""Serving a stored file to a browser without letting it act as a page: the type
found in its bytes, inline only for plain raster images, `nosniff`, and a CSP
sandbox in case a browser renders it anyway. An SVG or HTML upload is never
recognised as an image, so it is always a download."""

from __future__ import annotations

from flask import Response

from attachments.models import Attachment
from attachments.sniff import INLINE_IMAGES, UNKNOWN


def file_response(row: Attachment, data: bytes, *, download: bool = False) -> Response:
    mime = row.content_type or UNKNOWN
    inline = mime in INLINE_IMAGES and not download
    response = Response(data, mimetype=mime if inline or mime != UNKNOWN else UNKNOWN)
    response.headers.set("Content-Disposition", "inline" if inline else "attachment",
                         filename=row.name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def describe(row: Attachment) -> dict[str, object]:
    """What the API and screens say about a file, besides where to get it."""
    return {"name": row.name, "content_type": row.content_type, "size": row.size,
            "status": row.status, "kind": row.kind, "direction": row.direction,
            "messenger": row.messenger}
