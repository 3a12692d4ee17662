"""Signing out, `users deactivate` and `users set-password` end the person's
sessions everywhere: a copy of the session cookie (another browser, a stolen
cookie) is refused on its next request."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.runtime import Runtime
from tests.unit.test_tickets_web import add_agent, add_customer, csrf, sign_in_agent, sign_in_customer

EMAIL, RIGHT, NEW = "eva@example.com", "correct horse battery", "a brand new passphrase"


@pytest.fixture
def rt(app: Flask) -> Runtime:
    return app.extensions["runtime"]


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
