"""The files attached to an agent's emailed reply, read with the same bounds as
`tickets.inbound` (which reads the headers and text from the first MiB only):
the whole message (at most 10 MiB, capped by the caller) is parsed for them only
when a part names a file and its part count, nesting and line count are within
bounds, the tree is walked
without recursion, and at most `MAX_FILES` files are kept."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email import policy
from email.errors import MessageError
from email.message import Message
from email.parser import BytesParser

from tickets.inbound import _CONTAINER, MAX_CONTAINERS, MAX_PARTS, _decoded

log = logging.getLogger(__name__)

MAX_FILES = 10
# The parser's cost grows with lines: 10 MiB of base64 is ~140,000 lines (~0.4 s);
# 10 MiB of two-byte lines (5 million) took 1.6 s, too close to the 2 s answer.
MAX_LINES = 200_000
_FILE_MARK = re.compile(rb"^content-disposition:[ \t]*attachment|\bfilename\*?=|\bname\*?=", re.I | re.M)


@dataclass(frozen=True)
class EmailFile:
    name: str
    data: bytes


def files_of(raw: bytes) -> list[EmailFile]:
    """The attached files, in order; none (logged) for a message outside the bounds."""
    if not _FILE_MARK.search(raw):
        return []  # no part names a file: nothing to parse the whole mail for
    if (len(_CONTAINER.findall(raw)) > MAX_CONTAINERS or raw.count(b"\n--") > MAX_PARTS
            or raw.count(b"\n") > MAX_LINES):
        log.warning("inbound email: too many parts or lines to look for attachments; none kept")
        return []
    try:
        message = BytesParser(policy=policy.compat32).parsebytes(raw)
        return _walk(message)
    except (ValueError, TypeError, LookupError, IndexError, AttributeError, MessageError,
            RecursionError) as exc:
        log.warning("inbound email: attachments unreadable (%s); none kept", type(exc).__name__)
        return []


def _walk(message: Message) -> list[EmailFile]:
    files: list[EmailFile] = []
    stack, seen = [message], 0
    while stack and seen < MAX_PARTS and len(files) < MAX_FILES:
        part = stack.pop()
        seen += 1
        if part.get_content_maintype() == "message":
            continue  # a forwarded mail's own attachments are not the agent's
        if part.is_multipart():
            children = part.get_payload()
            stack.extend(reversed(children if isinstance(children, list) else []))
            continue
        name = part.get_filename()
        attached = part.get_content_disposition() == "attachment"
        if attached or (name and part.get_content_maintype() != "text"):
            data = part.get_payload(decode=True)
            if isinstance(data, bytes) and data:
                files.append(EmailFile(_decoded(name or "") or "file", data))
    return files
