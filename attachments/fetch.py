"""Fetching a customer's file from the URL Messenger gave, as an attacker would
not like it: only over https from the allowed CDN hosts (`ATTACHMENT_HOSTS`),
redirects followed only to allowed hosts, timeouts on connect, each read and
the whole download, and the size cap enforced while streaming."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests

CHUNK = 64 * 1024
MAX_REDIRECTS = 3
TIMEOUT = (5.0, 20.0)  # connect, each read
TOTAL_SECONDS = 60.0  # the whole download, however slowly it trickles


class FetchError(Exception):
    """The file could not be fetched now; retried while its URL may still work."""


class Gone(FetchError):
    """Never worth retrying: the host is not allowed, or the URL is dead (4xx)."""


class TooLarge(Gone):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes ({size} bytes or more)")
        self.size = size


@dataclass(frozen=True)
class AllowList:
    """`ATTACHMENT_HOSTS`: host names (a name allows its subdomains too), https only; an
    entry `http://host:port` allows that exact origin over plain http (the stand-in)."""

    hosts: tuple[str, ...]
    origins: tuple[str, ...] = ()

    @classmethod
    def parse(cls, setting: str) -> AllowList:
        entries = [entry.strip().lower().rstrip("/") for entry in setting.split(",") if entry.strip()]
        origins = tuple(e for e in entries if e.startswith(("http://", "https://")))
        return cls(tuple(e.lstrip(".") for e in entries if e not in origins), origins)

    def allows(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            host, port = (parts.hostname or "").lower(), parts.port
        except ValueError:
            return False
        if parts.username or parts.password or not host:
            return False
        origin = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
        if origin in self.origins:
            return True
        return parts.scheme == "https" and port in (None, 443) and any(
            host == allowed or host.endswith("." + allowed) for allowed in self.hosts)


def fetch(url: str, *, allowed: AllowList, max_bytes: int, session: requests.Session) -> bytearray:
    """The file's bytes; raises Gone, TooLarge or FetchError (worth a retry)."""
    for _hop in range(MAX_REDIRECTS + 1):
        if not allowed.allows(url):
            raise Gone(f"not an allowed attachment host: {urlsplit(url).hostname or url[:40]!r}")
        try:
            with session.get(url, stream=True, allow_redirects=False, timeout=TIMEOUT) as answer:
                if answer.is_redirect:
                    url = urljoin(url, answer.headers.get("Location", ""))
                    continue
                _check_status(answer.status_code)
                return _read(answer, max_bytes)
        except requests.RequestException as exc:
            raise FetchError(f"{type(exc).__name__} from {urlsplit(url).hostname}") from None
    raise Gone(f"more than {MAX_REDIRECTS} redirects")


def _check_status(status: int) -> None:
    if status in (408, 425, 429) or status >= 500:
        raise FetchError(f"HTTP {status}")
    if status >= 400:
        raise Gone(f"HTTP {status}")  # expired or never there: asking again will not help
    if status != 200:
        raise Gone(f"unexpected HTTP {status}")


def _read(answer: requests.Response, max_bytes: int) -> bytearray:
    declared = answer.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(int(declared), max_bytes)
    deadline = time.monotonic() + TOTAL_SECONDS
    body = bytearray()
    for chunk in answer.iter_content(CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise TooLarge(len(body), max_bytes)
        if time.monotonic() > deadline:
            raise FetchError(f"download took longer than {TOTAL_SECONDS:.0f} s")
    return body  # a bytearray: no second copy of up to 25 MiB (the database takes it as is)
