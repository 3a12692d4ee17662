"""How often agent sign-in may be tried: budgets kept in Redis by `limits`
(moving windows, each checked and spent by one Lua script, so parallel guesses
cannot all slip under a budget), spent *before* the password is checked.

Three budgets; the attempt is refused (429 with Retry-After) by the first one
that is spent:

- per client address, whatever the email: one address spraying many accounts;
- per (email, address): one address guessing one account. This is the backoff
  the real agent meets after their own typos, and it is theirs alone: an
  attacker elsewhere spends a different budget;
- per email, from addresses this account has not signed in from lately: many
  addresses (a botnet) guessing one account are slowed down to this pace.
  Addresses the account signed in from in the last 30 days skip this budget,
  so an attack from elsewhere never locks the agent out of their usual place.

Nothing is a lock: every budget refills as its window moves. Unknown emails
spend budgets like known ones (the answers never tell them apart). A right
password clears its (email, address) budget and remembers the address.
IPv6 clients are counted by /64, the block one subscriber usually holds.
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis import Redis

KNOWN_ADDRESS_DAYS = 30
KEY_PREFIX = "sd:signin"


@dataclass(frozen=True)
class SignInPolicy:
    """Budgets in `limits` notation ("5/minute;20/hour": both apply)."""

    per_address: str = "60/minute;600/hour"
    per_account_address: str = "5/minute;20/hour"
    per_account_elsewhere: str = "10/minute;60/hour"


@dataclass(frozen=True)
class Refusal:
    budget: str  # which budget is spent: address | account_address | account
    retry_after: int  # seconds until one more attempt fits


class SignInLimits:
    """The budgets of one policy over one Redis (real, or fakeredis in local mode)."""

    def __init__(self, redis: Redis, policy: SignInPolicy | None = None) -> None:
        self.policy = policy or SignInPolicy()
        self._redis = redis
        storage = RedisStorage("redis://", connection_pool=redis.connection_pool, key_prefix=KEY_PREFIX)
        self._limiter = MovingWindowRateLimiter(storage)
        self._budgets: list[tuple[str, list[RateLimitItem]]] = [
            ("address", parse_many(self.policy.per_address)),
            ("account_address", parse_many(self.policy.per_account_address)),
            ("account", parse_many(self.policy.per_account_elsewhere)),
        ]

    def spend(self, email: str, address: str) -> Refusal | None:
        """Take one attempt from every budget that applies; the first refusal, if any."""
        client = client_key(address)
        known = self.is_known(email, client)
        for budget, items in self._budgets:
            if budget == "account" and known:
                continue
            ids = self._ids(budget, email, client)
            for item in items:
                if not self._limiter.hit(item, *ids):
                    return Refusal(budget, self._retry_after(item, ids))
        return None

    def succeeded(self, email: str, address: str) -> None:
        """The right password: this address's backoff for the account ends, and it is
        remembered as one the agent uses."""
        client = client_key(address)
        for budget, items in self._budgets:
            if budget == "account_address":
                for item in items:
                    self._limiter.clear(item, *self._ids(budget, email, client))
        key = self._known_key(email)
        with self._redis.pipeline() as pipe:
            pipe.zadd(key, {client: time.time()})
            pipe.zremrangebyscore(key, "-inf", time.time() - KNOWN_ADDRESS_DAYS * 86400)
            pipe.expire(key, KNOWN_ADDRESS_DAYS * 86400)
            pipe.execute()

    def is_known(self, email: str, client: str) -> bool:
        since = self._redis.zscore(self._known_key(email), client)
        return since is not None and since > time.time() - KNOWN_ADDRESS_DAYS * 86400

    def _retry_after(self, item: RateLimitItem, ids: tuple[str, ...]) -> int:
        reset_at = self._limiter.get_window_stats(item, *ids).reset_time
        return max(1, math.ceil(reset_at - time.time()))

    @staticmethod
    def _ids(budget: str, email: str, client: str) -> tuple[str, ...]:
        return {"address": (budget, client), "account_address": (budget, email, client),
                "account": (budget, email)}[budget]

    @staticmethod
    def _known_key(email: str) -> str:
        return f"{KEY_PREFIX}:known:{email}"


def client_key(address: str) -> str:
    """The address a budget is kept for: IPv4 as is, IPv6 by its /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if ip.version == 6 else str(ip)
