"""Agent sign-in under attack, against the real Redis the budgets live in:
guessing backs off without locking the agent out, parallel guesses cannot
overdraw a budget, password checks are bounded per process, and signing out,
deactivating or a new password makes copied session cookies useless."""

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
from tests.unit.test_tickets_web import add_agent, add_customer, csrf, sign_in_agent, sign_in_customer
from tickets import auth
from tickets.password_gate import PasswordGate
from tickets.signin_limits import SignInLimits, SignInPolicy, client_key

EMAIL, RIGHT, NEW = "eva@example.com", "correct horse battery", "a brand new passphrase"
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
    # The default gate (2 running, 2 waiting), with a wait long enough for a loaded test machine.
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


def copied_cookie(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of this client's session cookie."""
    cookie = client.get_cookie("sd_session")
    assert cookie is not None
    other = app.test_client()
    other.set_cookie("sd_session", cookie.value)
    assert other.get("/tickets").status_code == 200
    return other


def signed_out(client: FlaskClient) -> bool:
    page = client.get("/tickets")
    return page.status_code == 302 and page.headers["Location"] == "/login"


def log_out(client: FlaskClient) -> None:
    page = client.get("/tickets").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf(page)}).headers["Location"] == "/login"


def test_a_copied_agent_cookie_is_refused_after_logout(app: Flask, rt: Runtime) -> None:
    add_agent(rt)
    client = app.test_client()
    sign_in_agent(client)
    copy = copied_cookie(app, client)
    log_out(client)
    assert signed_out(copy)
    assert sign_in_agent(client).status_code == 302  # signing in again works
    assert signed_out(copy)  # the old copy stays out


def test_a_copied_agent_cookie_is_refused_after_deactivate(app: Flask, rt: Runtime) -> None:
    add_agent(rt)
    client = app.test_client()
    sign_in_agent(client)
    copy = copied_cookie(app, client)
    result = app.test_cli_runner().invoke(args=["users", "deactivate", EMAIL])
    assert result.exit_code == 0, result.output
    assert signed_out(copy)
    assert signed_out(client)
    assert sign_in_agent(client).status_code == 401
    listed = app.test_cli_runner().invoke(args=["users", "list"]).output
    assert f"{EMAIL}\tagent\tdeactivated\tEva" in listed


def test_a_copied_agent_cookie_is_refused_after_set_password(app: Flask, rt: Runtime) -> None:
    add_agent(rt)
    client = app.test_client()
    sign_in_agent(client)
    copy = copied_cookie(app, client)
    result = app.test_cli_runner().invoke(args=["users", "set-password", EMAIL, "--password", NEW])
    assert result.exit_code == 0, result.output
    assert signed_out(copy)
    assert sign_in_agent(client, password=RIGHT).status_code == 401
    assert sign_in_agent(client, password=NEW).status_code == 302


def test_users_commands_refuse_unknown_accounts_and_short_passwords(app: Flask, rt: Runtime) -> None:
    add_agent(rt)
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["users", "deactivate", "nobody@example.com"])
    assert unknown.exit_code == 1 and "no account for nobody@example.com" in unknown.output
    short = runner.invoke(args=["users", "set-password", EMAIL, "--password", "short"])
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    assert sign_in_agent(app.test_client()).status_code == 302  # nothing changed


def test_a_copied_customer_cookie_is_refused_after_logout(app: Flask, rt: Runtime) -> None:
    ana = add_customer(rt, "120")
    client = app.test_client()
    sign_in_customer(client, rt, ana)
    copy = copied_cookie(app, client)
    log_out(client)
    assert signed_out(copy)


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
