"""The staff view of inbound mail that proves no ticket: `/tickets/unmatched`."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from bot.models import Customer
from core.db import session_scope
from core.runtime import Runtime
from tickets import links
from tickets.models import Agent, InboundEmail


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def keep_forgery(rt: Runtime) -> None:
    with session_scope(rt.engine) as session:
        session.add(InboundEmail(message_id="<f1@x.example>", sender="billing@example.com",
                                 subject="Re: [#1] <b>Refund</b>", reason="unmatched", raw=b"...",
                                 raw_sha256="0" * 64))


def test_agents_see_unmatched_mail_customers_and_strangers_do_not(app: Flask, client: FlaskClient) -> None:
    rt: Runtime = app.extensions["runtime"]
    keep_forgery(rt)
    assert client.get("/tickets/unmatched").headers["Location"] == "/login"

    with session_scope(rt.engine) as session:
        hashed = generate_password_hash("correct horse battery", method="pbkdf2:sha256:1000")
        session.add(Agent(email="eva@example.com", name="Eva", password_hash=hashed))
        customer = Customer(page_id="1000000001", psid="300", first_name="Ana")
        session.add(customer)
        session.flush()
        customer_id = customer.id
    assert customer_id is not None
    customer_client = app.test_client()
    path = links.login_url(rt.settings.public_url, rt.settings.secret_key, customer_id,
                           next_path="/tickets").removeprefix(rt.settings.public_url)
    page = customer_client.get(path).get_data(as_text=True)
    customer_client.post("/login/link", data={"csrf_token": csrf(page), "token": path.split("token=", 1)[1]})
    assert customer_client.get("/tickets/unmatched").status_code == 403

    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"csrf_token": csrf(page), "email": "eva@example.com",
                                "password": "correct horse battery"})
    listing = client.get("/tickets/unmatched")
    html = listing.get_data(as_text=True)
    assert listing.status_code == 200 and 'id="unmatched"' in html
    assert "billing@example.com" in html and "Re: [#1] &lt;b&gt;Refund&lt;/b&gt;" in html
