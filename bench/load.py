"""What `bench.e2e` drives: the Graph API stand-in's control endpoints, and a
poster that sends signed webhook POSTs over keep-alive connections (`raw_http`)."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import requests

from bench.raw_http import RawConnection
from bench.signed import KEYWORDS, PAGE_ID, encode, page_payload, sign, text_event


def sequence(n: int, keywords: Sequence[str] = KEYWORDS) -> list[str]:
    """What every customer types, in order: distinct neighbours, so a swap shows."""
    return [keywords[s % len(keywords)] for s in range(n)]


class Post(NamedTuple):
    """One signed webhook body, and whose event it is (None: nobody's in particular)."""

    body: bytes
    signature: str
    customer: str | None = None


def bodies(customers: list[str], per_customer: int, tag: str,
           keywords: Sequence[str] = KEYWORDS, pages: Mapping[str, str] | None = None,
           ) -> list[Post]:
    """Signed one-event bodies, round robin over customers, timestamps rising; each to its
    customer's Page (`pages`: customer -> Page id; default the one bench Page)."""
    start, out = int(time.time() * 1000), []
    words = sequence(per_customer, keywords)
    for s, word in enumerate(words):
        for j, psid in enumerate(customers):
            i, page_id = s * len(customers) + j, (pages or {}).get(psid, PAGE_ID)
            event = text_event(psid, word, f"m_{tag}_{i}", start + i, page_id)
            body = encode(page_payload(event, page_id=page_id))
            out.append(Post(body, sign(body), psid))
    return out


@dataclass
class PostStats:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.latencies) if self.latencies else 0.0


def post_all(url: str, items: Iterable[Post | tuple[bytes, str]], connections: int) -> PostStats:
    """POST every body, `connections` at a time; a non-200 is a failure.

    A customer's events go out in order on one connection, each after the last was
    answered, as one person's messages reach a webhook: with events posted side by side,
    the later one could reach the service first (another web process, a thread that lost
    the GIL) and be handled first, an order broken by the load, not by the service.
    Customers are dealt round the connections; events without one, one by one.
    """
    lanes: list[list[Post]] = [[] for _ in range(connections)]
    customers: dict[str, int] = {}
    for n, item in enumerate(items):
        post = Post(*item)
        lane = n if post.customer is None else customers.setdefault(post.customer, len(customers))
        lanes[lane % connections].append(post)
    stats = PostStats(started=time.monotonic())
    lock = threading.Lock()
    threads = [threading.Thread(target=_poster, args=(url, lane, stats, lock), daemon=True)
               for lane in lanes if lane]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats.finished = time.monotonic()
    return stats


def _poster(url: str, lane: list[Post], stats: PostStats, lock: threading.Lock) -> None:
    parts = urlsplit(url)
    conn = RawConnection(parts.hostname or "127.0.0.1", parts.port or 80, parts.path)
    for body, signature, _customer in lane:
        started = time.monotonic()
        try:
            status = str(conn.post(body, {"X-Hub-Signature-256": signature}))
        except OSError as exc:
            status = f"{type(exc).__name__}: {exc}"
        with lock:
            stats.latencies.append(time.monotonic() - started)
            if status != "200":
                stats.failures.append(status)
    conn.close()


class StandinControl:
    """The stand-in's `/_standin/...` endpoints (loopback only); `page`: which of its
    Pages (`?page=ID`), None for its first."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.http = requests.Session()

    def call(self, method: str, path: str, page: str | None = None, **json: Any) -> Any:
        response = self.http.request(method, f"{self.base}/_standin/{path}", json=json or None,
                                     params={"page": page} if page else None, timeout=60)
        response.raise_for_status()
        return response.json()

    def configure(self, page: str | None = None, **settings: Any) -> None:
        self.call("POST", "config", page, **settings)

    def add_users(self, psids: Iterable[str], page: str | None = None) -> None:
        for psid in psids:
            self.call("POST", "users", page, psid=psid, first_name="Ana", locale="en_US")

    def customer_says(self, psid: str, text: str, page: str | None = None) -> None:
        self.call("POST", "customer_says", page, psid=psid, text=text)

    def sent_texts(self, psid: str, page: str | None = None) -> list[str]:
        return [_text(body) for body in self.call("GET", f"sent/{psid}", page)["data"]]

    def call_statuses(self, page: str | None = None) -> dict[int, int]:
        counts: dict[int, int] = {}
        for _method, path, status in self.call("GET", "calls", page)["data"]:
            if path.endswith("/messages"):
                counts[status] = counts.get(status, 0) + 1
        return counts

    def send_rate(self, page: str | None = None) -> dict[str, Any]:
        """The Page's Send API calls per second as the stand-in received them, refused
        ones too, and its busiest one-second window."""
        return dict(self.call("GET", "send_rate", page))


def _text(body: dict[str, Any]) -> str:
    message = body.get("message", {})
    text = message.get("text") or message.get("attachment", {}).get("payload", {}).get("text", "")
    chips = ",".join(q.get("title", "") for q in message.get("quick_replies", []))
    return f"{text} [{chips}]" if chips else str(text)
