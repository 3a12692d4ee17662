"""Where attachment bytes live: one small interface, the database behind it by
default (every web and worker process reaches it, and the local preview needs
nothing set up). An object store would implement the same two methods."""

from __future__ import annotations

from typing import Protocol

from sqlmodel import Session

from attachments.models import AttachmentBlob


class BlobStore(Protocol):
    def put(self, session: Session, attachment_id: int, data: bytes | bytearray) -> None: ...

    def get(self, session: Session, attachment_id: int) -> bytes | None: ...


class DatabaseBlobStore:
    """Bytes in the `attachment_blob` table, written in the caller's transaction."""

    def put(self, session: Session, attachment_id: int, data: bytes | bytearray) -> None:
        session.merge(AttachmentBlob(attachment_id=attachment_id, data=data))

    def get(self, session: Session, attachment_id: int) -> bytes | None:
        blob = session.get(AttachmentBlob, attachment_id)
        return bytes(blob.data) if blob is not None else None


def blob_store() -> BlobStore:
    return DatabaseBlobStore()
