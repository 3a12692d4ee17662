"""Files in the stand-in: a CDN that serves what customers send (Messenger's
attachment URLs), and the Attachment Upload API (`POST /me/message_attachments`),
which checks an upload as Facebook does (multipart, 25 MB, a type Messenger
takes) and answers an `attachment_id` the Send API then accepts."""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, request

from messenger.standin.errors import GraphError, bad_param
from messenger.standin.instagram import instagram_upload

MAX_BYTES = 25 * 1024 * 1024
KINDS = ("image", "video", "audio", "file")
# Types Messenger refuses to deliver (executables and scripts), by the part's declared type.
REFUSED_TYPES = frozenset({"application/x-msdownload", "application/x-dosexec",
                           "application/x-executable", "application/x-sh",
                           "application/vnd.microsoft.portable-executable"})
CDN_PREFIX = "/_cdn"

cdn = Blueprint("standin_cdn", __name__, url_prefix=CDN_PREFIX)


@dataclass(frozen=True)
class Upload:
    attachment_id: str
    kind: str
    filename: str
    content_type: str
    data: bytes


class Media:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.hosted: dict[str, tuple[bytes, str]] = {}
        self.uploads: dict[str, Upload] = {}

    def host(self, data: bytes, content_type: str = "application/octet-stream") -> str:
        """Keep `data` on the CDN; returns its token (a path segment)."""
        token = secrets.token_urlsafe(12)
        with self._lock:
            self.hosted[token] = (data, content_type)
        return token

    def check_attachment_id(self, body: Any) -> None:
        """A Send API body naming an `attachment_id` must name one that was uploaded."""
        message = body.get("message") if isinstance(body, dict) else None
        attachment = message.get("attachment") if isinstance(message, dict) else None
        payload = attachment.get("payload") if isinstance(attachment, dict) else None
        wanted = payload.get("attachment_id") if isinstance(payload, dict) else None
        with self._lock:
            known = wanted is None or str(wanted) in self.uploads
        if not known:
            raise bad_param("Invalid attachment_id: no uploaded attachment has this id")

    def upload(self, message: Any, part: Any) -> str:
        kind = message.get("attachment", {}).get("type") if isinstance(message, dict) else None
        if kind not in KINDS:
            raise bad_param("message.attachment.type must be one of image, video, audio, file")
        if part is None:
            raise bad_param("The file to upload (filedata) is missing")
        data = part.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise GraphError(100, "(#100) Upload attachment failure: the file is over 25 MB",
                             subcode=2018047)
        content_type = (part.mimetype or "application/octet-stream").lower()
        if content_type in REFUSED_TYPES or (kind == "image" and not content_type.startswith("image/")):
            raise GraphError(100, "(#100) Upload attachment failure: this file type is not "
                             "supported", subcode=2018047)
        upload = Upload(str(10**15 + secrets.randbelow(10**15)), kind, part.filename or "",
                        content_type, data)
        with self._lock:
            self.uploads[upload.attachment_id] = upload
        return upload.attachment_id


def upload_route() -> Response:
    """`POST /<version>/me/message_attachments` (registered on the Graph blueprint)."""
    media: Media = current_app.extensions["standin"].media
    raw = request.form.get("message", "")
    try:
        message = json.loads(raw)
    except ValueError:
        raise bad_param("The parameter message is required (JSON)") from None
    part = request.files.get("filedata")
    if request.form.get("platform") == "instagram":
        error = instagram_upload(message, part.mimetype if part is not None else None)
        if error is not None:
            raise error
    try:
        attachment_id = media.upload(message, part)
    finally:
        if part is not None:
            part.close()  # a large upload is spooled to a temporary file
    return Response(json.dumps({"attachment_id": attachment_id}), mimetype="application/json")


@cdn.get("/<token>/<path:_name>")
def serve(token: str, _name: str) -> Response | tuple[str, int]:
    media: Media = current_app.extensions["standin"].media
    with media._lock:
        found = media.hosted.get(token)
    if found is None:
        return "URL signature expired", 403
    data, content_type = found
    return Response(data, mimetype=content_type)
