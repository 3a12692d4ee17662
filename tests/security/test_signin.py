"""Agent sign-in under attack, against the real Redis the budgets live in:
guessing backs off without locking the agent out, parallel guesses cannot
overdraw a budget, password checks are bounded per process. (Sessions ending
everywhere: tests/security/test_signout_everywhere.py.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import fakeredis
import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis.exceptions import ConnectionError as RedisConnectionError
from werkzeug.security import check_password_hash

from core.runtime import Runtime
from tests.unit.test_tickets_web import add_agent, csrf, sign_in_agent
from tickets import auth
from tickets.password_gate import GateFull, PasswordGate
from tickets.signin_limits import SignInLimits, SignInPolicy, client_key

EMAIL = "eva@example.com"
AGENT_HOME, ATTACKER = "198.51.100.20", "203.0.113.66"


@pytest.fixture
def rt(app: Flask) -> Runtime:
    return app.extensions["runtime"]


def client_at(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


class CountingCheck:
    """Stands in for werkzeug's check: counts calls and the most running at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.calls, self.running, self.most = seconds, 0, 0, 0
        self._lock = threading.Lock()

    def __call__(self, pwhash: str, password: str) -> bool:
        with self._lock:
            self.calls += 1
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(self.seconds)
        with self._lock:
            self.running -= 1
        return check_password_hash(pwhash, password)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[float], CountingCheck]]:
    def install(seconds: float) -> CountingCheck:
        check = CountingCheck(seconds)
        monkeypatch.setattr(auth, "check_password_hash", check)
        return check

    yield install


def in_parallel(attempts: list[Callable[[], object]]) -> list[object]:
    """Run the attempts in threads released together; their results in order."""
    start, results = threading.Barrier(len(attempts)), [None] * len(attempts)

    def run(i: int) -> None:
        start.wait()
        results[i] = attempts[i]()  # type: ignore[call-overload]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def ready_post(app: Flask, address: str, email: str, password: str) -> Callable[[], tuple[int, float, str]]:
    """A sign-in POST with its form already fetched: (status, seconds taken, Retry-After)."""
    client = client_at(app, address)
    token = csrf(client.get("/login").get_data(as_text=True))

    def post() -> tuple[int, float, str]:
        began = time.monotonic()
        answer = client.post("/login", data={"csrf_token": token, "email": email, "password": password})
        return answer.status_code, time.monotonic() - began, answer.headers.get("Retry-After", "")

    return post


def test_ten_bad_passwords_do_not_stop_the_agent_elsewhere_nor_here_after_the_backoff(
        app: Flask, rt: Runtime) -> None:
    add_agent(rt)
    app.extensions["signin_limits"] = SignInLimits(rt.redis, SignInPolicy(per_account_address="5/2second"))
    attacker = client_at(app, ATTACKER)
    answers = [sign_in_agent(attacker, password=f"guess {i}") for i in range(10)]
    assert sign_in_agent(client_at(app, AGENT_HOME)).status_code == 302  # another address: in at once
    assert [a.status_code for a in answers] == [401] * 5 + [429] * 5
    refused = answers[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 2
    assert "Too many sign-in attempts. Try again in" in refused.get_data(as_text=True)
    assert sign_in_agent(attacker).status_code == 429  # this address still backs off...
    time.sleep(int(refused.headers["Retry-After"]) + 0.1)
    assert sign_in_agent(attacker).status_code == 302  # ...then the right password works here too


def test_a_botnet_slows_the_account_down_but_the_agent_gets_in_from_their_usual_address(
        app: Flask, rt: Runtime) -> None:
    add_agent(rt)
    assert sign_in_agent(client_at(app, AGENT_HOME)).status_code == 302  # yesterday, say
    bots = [sign_in_agent(client_at(app, f"192.0.2.{i}"), password="guess").status_code for i in range(1, 31)]
    assert sign_in_agent(client_at(app, AGENT_HOME)).status_code == 302  # the usual place gets in
    # 10/minute for the account from unfamiliar addresses (yesterday's sign-in was one)...
    assert bots == [401] * 9 + [429] * 21
    assert sign_in_agent(client_at(app, "192.0.2.200")).status_code == 429  # ...so a new place waits


def test_twenty_parallel_guesses_check_at_most_the_budget(app: Flask, rt: Runtime,
                                                          counting: Callable[[float], CountingCheck]) -> None:
    add_agent(rt)
    app.extensions["password_gate"] = PasswordGate(running=2, waiting=20, wait_seconds=10)  # budget only
    check = counting(0.05)
    posts = [ready_post(app, ATTACKER, EMAIL, f"guess {i}") for i in range(20)]
    statuses = sorted(answer[0] for answer in in_parallel(posts))  # type: ignore[index]
    assert check.calls == 5  # the (account, address) budget, however the requests interleave
    assert statuses == [401] * 5 + [429] * 15


def test_password_checks_are_bounded_per_process_and_the_rest_refused_quickly(
        app: Flask, rt: Runtime, counting: Callable[[float], CountingCheck]) -> None:
    add_agent(rt)
    # A gate of 2 running, 2 waiting, with a wait long enough for a loaded test machine.
    app.extensions["password_gate"] = PasswordGate(running=2, waiting=2, wait_seconds=10)
    check = counting(0.3)
    posts = [ready_post(app, f"192.0.2.{i}", f"nobody{i}@example.com", "guess") for i in range(20)]
    answers: list[tuple[int, float, str]] = in_parallel(posts)  # type: ignore[assignment]
    assert check.most <= 2  # never more than the gate's two checks at once
    busy = [answer for answer in answers if answer[0] == 503]
    assert busy and all(seconds < 1.0 and retry == "1" for _, seconds, retry in busy)
    assert {status for status, _, _ in answers} == {401, 503}
    assert check.calls == 20 - len(busy)  # every unknown email admitted cost one check


def test_unknown_emails_cost_one_check_and_spend_the_budgets(
        app: Flask, rt: Runtime, counting: Callable[[float], CountingCheck]) -> None:
    add_agent(rt)
    check = counting(0)
    attacker = client_at(app, ATTACKER)
    unknown = [sign_in_agent(attacker, email="nobody@example.com", password="guess").status_code
               for _ in range(6)]
    assert unknown == [401] * 5 + [429] and check.calls == 5


def test_the_budgets_work_on_the_in_process_redis_too() -> None:
    limits = SignInLimits(fakeredis.FakeRedis(server=fakeredis.FakeServer()))
    spent = [limits.spend(EMAIL, "2001:db8::1:2") for _ in range(6)]
    assert spent[:5] == [None] * 5
    assert spent[5] is not None and spent[5].budget == "account_address" and spent[5].retry_after >= 1
    assert limits.spend(EMAIL, "2001:db8::9") is not None  # the same /64: the same budget
    limits.succeeded(EMAIL, "2001:db8::1:2")
    assert limits.spend(EMAIL, "2001:db8::1:2") is None
    assert client_key("2001:db8::1:2") == "2001:db8::/64" and client_key("::ffff:192.0.2.1") == "192.0.2.1"


def test_without_redis_sign_in_answers_503_and_checks_no_password(
        app: Flask, rt: Runtime, counting: Callable[[float], CountingCheck],
        monkeypatch: pytest.MonkeyPatch) -> None:
    add_agent(rt)
    check = counting(0)

    def unreachable(*_args: object) -> None:
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(SignInLimits, "spend", unreachable)
    answer = sign_in_agent(client_at(app, AGENT_HOME))
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "1" and check.calls == 0
    assert "Sign-in is busy right now" in answer.get_data(as_text=True)


def test_a_long_backoff_is_told_in_minutes(app: Flask, rt: Runtime) -> None:
    add_agent(rt)
    app.extensions["signin_limits"] = SignInLimits(rt.redis, SignInPolicy(per_account_address="1/hour"))
    attacker = client_at(app, ATTACKER)
    assert sign_in_agent(attacker, password="guess").status_code == 401
    refused = sign_in_agent(attacker, password="guess")
    assert refused.status_code == 429 and 3590 <= int(refused.headers["Retry-After"]) <= 3600
    assert "Try again in 60 minutes." in refused.get_data(as_text=True)


def test_the_gate_refuses_beyond_its_queue_at_once_and_frees_its_slots() -> None:
    gate, holding, release = PasswordGate(running=1, waiting=1, wait_seconds=0.2), threading.Event(), \
        threading.Event()

    def hold() -> None:
        with gate.slot():
            holding.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    began = time.monotonic()
    with pytest.raises(GateFull):  # the one waiting place: waits its 0.2 s, then gives up
        gate.run(lambda: None)
    assert 0.15 < time.monotonic() - began < 1
    release.set()
    holder.join(5)
    assert gate.run(lambda: "checked") == "checked"  # every slot came back
    full = PasswordGate(running=1, waiting=0, wait_seconds=5)
    with full.slot():
        began = time.monotonic()
        with pytest.raises(GateFull):  # no waiting place: refused without waiting
            full.run(lambda: None)
        assert time.monotonic() - began < 0.1


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(tmp_path, redis_url: str,  # type: ignore[no-untyped-def]
                                                                    redis) -> None:
    from app import create_app
    from core import runtime
    from tests.conftest import make_settings

    app = create_app(make_settings(tmp_path, redis_url=redis_url, trusted_proxies=1))
    try:
        add_agent(app.extensions["runtime"])
        proxy = client_at(app, "10.0.0.2")  # every request arrives from the proxy
        proxy.environ_base["HTTP_X_FORWARDED_FOR"] = f"{AGENT_HOME}, {ATTACKER}"  # the first is made up
        assert [sign_in_agent(proxy, password="guess").status_code for _ in range(6)] == [401] * 5 + [429]
        proxy.environ_base["HTTP_X_FORWARDED_FOR"] = AGENT_HOME
        assert sign_in_agent(proxy).status_code == 302  # the agent is another client, not the proxy
    finally:
        runtime.install(None)
        app.extensions["runtime"].engine.dispose()


GEVENT_SCRIPT = """
from gevent import monkey; monkey.patch_all()
import json, time, gevent
from werkzeug.security import check_password_hash, generate_password_hash
from tickets.password_gate import PasswordGate

def longest_pause(check):
    # the longest the loop left a 2 ms ticker waiting while 4 checks ran
    gaps, done = [0.0], []
    def ticker():
        last = time.perf_counter()
        while not done:
            gevent.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now
    tick = gevent.spawn(ticker)
    gevent.sleep(0.02)
    gevent.joinall([gevent.spawn(check) for _ in range(4)], raise_error=True)
    done.append(True)
    tick.join()
    return max(gaps)

hashed, gate = generate_password_hash("right"), PasswordGate(running=2, waiting=2, wait_seconds=30)
print(json.dumps({"gate": longest_pause(lambda: gate.run(check_password_hash, hashed, "wrong")),
                  "in_place": longest_pause(lambda: check_password_hash(hashed, "wrong"))}))
"""


def test_under_gevent_password_checks_do_not_stop_the_other_connections() -> None:
    """The Procfile's web worker is gevent: a check run in place would stall every
    connection in the process (webhook acknowledgements too) for its ~100 ms."""
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run([sys.executable, "-c", GEVENT_SCRIPT], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    pauses = json.loads(done.stdout)
    assert pauses["in_place"] > 0.09  # four real scrypt checks, one after another, loop stopped
    assert pauses["gate"] < pauses["in_place"] / 4, pauses  # never stopped for as long as one check
