"""`Standin`: one fake Facebook Page with our app, the Page Inbox and its customers.

Thread-safe: one lock guards all state; sleeps (latency, injected delays) and
webhook POSTs happen outside it. Webhooks are queued in the order the state
changed, so our app sees them in causal order.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from messenger.standin import instagram, people
from messenger.standin.delivery import WebhookPoster
from messenger.standin.errors import (
    bad_appsecret_proof,
    bad_token,
    injected,
    page_refusal,
    rate_limited,
)
from messenger.standin.events import envelope
from messenger.standin.faults import FaultQueue, RateLimiter
from messenger.standin.instagram import InstagramAccount
from messenger.standin.instagram_link import InstagramLink
from messenger.standin.media import Media
from messenger.standin.page import Page, Thread, Webhook
from messenger.standin.people_actions import PeopleActions

PAGE_INBOX_APP_ID = "263902037430900"
T = TypeVar("T")


class Standin(PeopleActions, InstagramLink):
    """The in-memory state of one fake Page, and what its people do (see package docs)."""

    def __init__(
        self,
        *,
        page_id: str,
        app_id: str,
        app_secret: str,
        access_token: str,
        inbox_app_id: str = PAGE_INBOX_APP_ID,
        webhook_url: str | None = None,
        clock: Callable[[], float] = time.time,
        echoes: bool = True,
    ) -> None:
        self.page_id, self.app_id, self.inbox_app_id = page_id, app_id, inbox_app_id
        self.access_token = access_token
        self.webhook_url = webhook_url
        self.clock = clock
        self.echoes = echoes
        # Knobs a test may change at any time; `reset()` keeps them.
        self.latency = 0.0  # seconds added to every Send API call
        self.rate_limit_per_second: int | None = None
        self.require_appsecret_proof = False
        self.app_name = "Support Desk"
        self.page_name: str | None = None  # GET /me's name; None: "<app name> Page"
        # Page-wide refusals (`refuse_all`, `revoke_token`), as Facebook applies them
        self.token_revoked = False
        self.refusal: tuple[int, int | None] | None = None
        self.blocked_by: set[str] = set()  # PSIDs who blocked the Page: sends get code 2
        self.done_mode = "pass"  # what "Done" in the Page Inbox does (people.agent_done)
        self._proof = hmac.new(app_secret.encode(), access_token.encode(),
                               hashlib.sha256).hexdigest()
        self._lock = threading.Condition(threading.Lock())
        self._in_flight = 0  # messages received and not yet answered (not sender actions)
        self._poster = WebhookPoster(app_secret=app_secret, timeout=5.0)  # Meta's ack deadline
        self.page = Page(page_id=page_id, app_id=app_id, inbox_app_id=inbox_app_id)
        self.instagram: InstagramAccount | None = None  # its linked account (`link_instagram`)
        self.media = Media()  # the CDN of customers' files, and uploads (`media`)
        self.base_url: str | None = None  # set by `serve_standin`: where its CDN is reached
        self._fresh_records()

    def _fresh_records(self) -> None:
        self.calls: list[tuple[str, str, int]] = []  # (method, path, status) of Graph calls
        self.webhooks: list[dict[str, Any]] = []  # every payload queued for our webhook
        self._faults = FaultQueue()
        self._limiter = RateLimiter()

    # Settings and records ------------------------------------------------------------

    @property
    def default_app(self) -> str | None:
        """The Page's default app (ours unless changed); None: zero-config mode."""
        return self.page.default_app

    @default_app.setter
    def default_app(self, app_id: str | None) -> None:
        with self._lock:
            self.page.default_app = app_id

    @property
    def take_permission(self) -> bool:
        """Whether our app may take_thread_control (Page Settings, doc §5.2)."""
        return self.page.take_permission

    @take_permission.setter
    def take_permission(self, allowed: bool) -> None:
        with self._lock:
            self.page.take_permission = allowed

    @property
    def messenger_profile(self) -> dict[str, Any]:
        return self.page.messenger_profile

    @property
    def subscribed_fields(self) -> list[str]:
        return self.page.subscribed_fields

    @property
    def delivery_failures(self) -> list[str]:
        return self._poster.failures

    def add_user(self, psid: str, first_name: str = "Ana", locale: str = "en_US", *,
                 last_name: str = "Silva", has_profile: bool = True) -> None:
        """A customer the Page may message; `has_profile=False` is a phone-only account."""
        with self._lock:
            people.add_user(self.page, psid, first_name=first_name, last_name=last_name,
                            locale=locale, has_profile=has_profile)

    def owner(self, psid: str) -> str | None:
        """The app owning the thread; None when idle (or unknown)."""
        return self._read(psid, lambda thread: thread.owner, None)

    def sent(self, psid: str) -> list[dict[str, Any]]:
        """Our accepted Send API bodies to this customer, oldest first."""
        return self._read(psid, lambda thread: list(thread.sent), [])

    def sender_actions(self, psid: str) -> list[str]:
        """Our accepted sender actions to `psid` (mark_seen, typing_on), in order."""
        return self._read(psid, lambda thread: list(thread.actions), [])

    def control_calls(self, psid: str) -> list[dict[str, Any]]:
        """Our accepted handover calls for this customer: body plus `action`."""
        return self._read(psid, lambda thread: list(thread.control_calls), [])

    def pending_request(self, psid: str) -> str | None:
        """Metadata of our unanswered request_thread_control, if any."""
        return self._read(psid, lambda thread: thread.pending_request, None)

    def wait_for_sent(self, psid: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Block until our app has sent `count` bodies to `psid`; TimeoutError otherwise."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._sent_unlocked(psid)) >= count, timeout):
                got = len(self._sent_unlocked(psid))
                raise TimeoutError(f"{psid}: {got} of {count} sends after {timeout}s")
            return list(self._sent_unlocked(psid))

    def _read(self, psid: str, read: Callable[[Thread], T], default: T) -> T:
        with self._lock:
            thread = self._page_for(psid).threads.get(psid)
            return read(thread) if thread else default

    def _sent_unlocked(self, psid: str) -> list[dict[str, Any]]:
        thread = self._page_for(psid).threads.get(psid)
        return thread.sent if thread else []

    def drain_deliveries(self, timeout: float = 10.0) -> bool:
        """Wait until every queued webhook (echoes included) has been answered."""
        return self._poster.drain(timeout)

    def fail_next(self, n: int, *, status: int | None = None, code: int | None = None,
                  subcode: int | None = None, delay: float = 0.0) -> None:
        """The next n Send API calls answer this error, after `delay` seconds.

        Without a status: 500 (code 2), or the status Meta uses with `code` (400 for 4, 613...).
        """
        with self._lock:
            self._faults.add(n, status=status, code=code, subcode=subcode, delay=delay)

    def revoke_token(self, revoked: bool = True) -> None:
        """The Page token stops working (190 on every call), or works again."""
        self.token_revoked = revoked

    def refuse_all(self, code: int | None, subcode: int | None = None) -> None:
        """Every Send API call answers this error (a restricted Page: 368, 10/1893063)
        until `refuse_all(None)`."""
        with self._lock:
            self.refusal = None if code is None else (code, subcode)

    def policy_enforcement(self, action: str, reason: str) -> dict[str, Any]:
        """Meta's `messaging_policy_enforcement` webhook (warning, block, unblock): no sender."""
        event = {"recipient": {"id": self.page_id}, "timestamp": int(self.clock() * 1000),
                 "policy_enforcement": {"action": action, "reason": reason}}
        return self._act(lambda _page, _now: [(event, False)])[0]

    def unsubscribe(self) -> None:
        """Facebook drops the app's webhook subscription (after an hour of failures)."""
        with self._lock:
            self.page.subscribed_fields = []

    def reset(self) -> None:
        """Forget users, threads, records, faults, the Messenger Profile and subscriptions.

        Knobs (latency, rate limit, echoes, default app, take permission, webhook URL) stay.
        """
        self.drain_deliveries(timeout=self._poster.timeout)
        with self._lock:
            self.page.forget()
            if self.instagram is not None:
                self.instagram.forget()
            self._fresh_records()
            self._lock.notify_all()

    def close(self) -> None:
        """Deliver what is queued and stop the webhook thread."""
        self._poster.close()

    # Graph API --------------------------------------------------------------------------

    def has_token(self, token: str) -> bool:
        return hmac.compare_digest(token.encode(), self.access_token.encode())

    def check_credentials(self, token: str | None, proof: str | None) -> None:
        if (token is None or self.token_revoked
                or not hmac.compare_digest(token.encode(), self.access_token.encode())):
            raise bad_token()
        if proof is None and self.require_appsecret_proof:
            raise bad_appsecret_proof(missing=True)
        if proof is not None and not hmac.compare_digest(proof.encode(), self._proof.encode()):
            raise bad_appsecret_proof(missing=False)

    def record_call(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.calls.append((method, path, status))

    def send(self, body: Any) -> dict[str, Any]:
        """A Send API call: the rate limit (counted on arrival, as Meta counts), latency,
        injected faults, then Facebook's rules."""
        with self._lock:
            admitted = self._limiter.admit(self.rate_limit_per_second)
            message = not _is_action(body)
            self._in_flight += message
            self._lock.notify_all()
        try:
            time.sleep(self.latency)
            if not admitted:
                raise rate_limited()
            with self._lock:  # injected faults are for messages; sender actions pass
                fault = None if _is_action(body) else self._faults.pop()
                refusal = self.refusal
            if refusal is not None:
                raise page_refusal(*refusal)
            if _recipient(body) in self.blocked_by:  # what Meta answers then (doc §6.1)
                raise injected(status=500, code=2, subcode=None)
            if fault is not None:
                time.sleep(fault.delay)
                raise fault.error
            self.media.check_attachment_id(body)
            with self._lock:
                page = self._page_for(_recipient(body))
                response, echo = page.send(body, self.clock())
                if echo is not None and self.echoes:  # Meta's receipt, on our channel
                    self._queue((echo, False), page)
            return response
        finally:
            with self._lock:
                self._in_flight -= message
                self._lock.notify_all()

    @property
    def in_flight(self) -> int:
        """Send API messages received and not yet answered (sender actions are not counted)."""
        return self._in_flight

    def wait_for_in_flight(self, count: int, timeout: float = 10.0) -> None:
        """Block until `count` Send API messages are being served at once (received, not yet
        answered: e.g. sleeping their latency); TimeoutError otherwise."""
        with self._lock:
            if not self._lock.wait_for(lambda: self._in_flight >= count, timeout):
                raise TimeoutError(f"{self._in_flight} of {count} sends in flight after {timeout}s")

    def usage_header(self) -> str:
        """`X-Business-Use-Case-Usage` for the Send API, from the rate-limit window."""
        with self._lock:
            return self._limiter.usage_header(self.page_id, self.rate_limit_per_second)

    def send_seconds(self) -> dict[str, Any]:
        """Send API calls received per second, refused ones too (`page_rates.SendSeconds`)."""
        with self._lock:
            return self._limiter.seconds.summary()

    def graph(self, operation: Callable[[Page, float], T], *, recipient: str | None = None,
              platform: str | None = None) -> T:
        """Run one Page operation (handover, profiles, subscriptions) atomically, at `now`;
        on the linked Instagram account for its users or with `platform=instagram`."""
        with self._lock:
            page = self._page_for(recipient)
            if platform == instagram.WEBHOOK_OBJECT:
                if self.instagram is None:
                    raise instagram.no_instagram_account()
                page = self.instagram
            return operation(page, self.clock())

    def _act(self, action: Callable[[Page, float], list[Webhook]],
             psid: str | None = None) -> list[dict[str, Any]]:
        """Apply an action and deliver its webhooks; return after our webhook answered them."""
        with self._lock:
            page = self._page_for(psid)
            webhooks = action(page, self.clock())
            futures = [self._queue(webhook, page) for webhook in webhooks]
        for future in futures:
            if future is not None:
                future.result()  # raises WebhookDeliveryError on a non-200
        return [event for event, _ in webhooks]

    def _queue(self, webhook: Webhook, page: Page | None = None) -> Future[int] | None:
        """Queue one webhook (caller holds the lock); the future, or None without a URL."""
        event, standby = webhook
        page = page or self.page
        payload = envelope(page.page_id, event, standby=standby, obj=page.webhook_object)
        self.webhooks.append(payload)
        if self.webhook_url is None:
            return None
        return self._poster.submit(self.webhook_url, payload)


def _recipient(body: Any) -> str | None:
    recipient = body.get("recipient") if isinstance(body, dict) else None
    return str(recipient.get("id")) if isinstance(recipient, dict) else None


def _is_action(body: Any) -> bool:
    return isinstance(body, dict) and "sender_action" in body
