"""The ticket screen through Flask's test client: sign-in links and passwords,
CSRF, what each viewer may see, opening, answering and resolving tickets."""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous.timed import TimestampSigner
from redis import Redis
from rq import Queue
from sqlmodel import select
from werkzeug.security import generate_password_hash

from bot.models import Customer
from core.db import session_scope
from core.runtime import Runtime
from tickets import links, service
from tickets.models import Agent, OutboundMail, Ticket, TicketReply
from tickets.types import ticket_types


@pytest.fixture
def rt(app: Flask) -> Runtime:
    return app.extensions["runtime"]


def add_customer(rt: Runtime, psid: str, name: str = "Ana", locale: str = "en_US") -> int:
    with session_scope(rt.engine) as session:
        customer = Customer(page_id="1000000001", psid=psid, first_name=name, messenger_locale=locale)
        session.add(customer)
        session.flush()
        assert customer.id is not None
        return customer.id


def add_ticket(rt: Runtime, customer_id: int, title: str = "Card charged twice",
               type_id: str = "billing") -> int:
    with session_scope(rt.engine) as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        ticket, _ = service.open_ticket(
            session, customer=customer, ticket_type=ticket_types(rt.flows.current)[type_id], title=title,
            description="It happened on Monday.", source="messenger", locale="en",
            sender="support@example.com")
        assert ticket.id is not None
        return ticket.id


def add_agent(rt: Runtime, email: str = "eva@example.com", password: str = "correct horse battery") -> None:
    with session_scope(rt.engine) as session:
        # A cheap hash keeps the tests fast; `users create-agent` uses werkzeug's default (scrypt).
        hashed = generate_password_hash(password, method="pbkdf2:sha256:1000")
        session.add(Agent(email=email, name="Eva", password_hash=hashed))


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def link_path(rt: Runtime, customer_id: int, next_path: str = "/tickets") -> str:
    url = links.login_url(rt.settings.public_url, rt.settings.secret_key, customer_id, next_path=next_path)
    return url.removeprefix(rt.settings.public_url)


def sign_in_customer(client: FlaskClient, rt: Runtime, customer_id: int, next_path: str = "/tickets"):  # type: ignore[no-untyped-def]
    path = link_path(rt, customer_id, next_path)
    page = client.get(path)
    token = path.split("token=", 1)[1]
    return client.post("/login/link", data={"csrf_token": csrf(page.get_data(as_text=True)), "token": token})


def sign_in_agent(client: FlaskClient, email: str = "eva@example.com",
                  password: str = "correct horse battery"):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    return client.post("/login", data={"csrf_token": csrf(page.get_data(as_text=True)), "email": email,
                                       "password": password})


def test_a_login_link_signs_the_customer_in_once_and_lists_their_tickets_newest_first(
        client: FlaskClient, rt: Runtime) -> None:
    ana = add_customer(rt, "100")
    first, second = add_ticket(rt, ana, "First problem"), add_ticket(rt, ana, "Second problem")
    path = link_path(rt, ana)
    page = client.get(path)
    assert "Continue as Ana" in page.get_data(as_text=True)
    signed_in = client.post("/login/link", data={"csrf_token": csrf(page.get_data(as_text=True)),
                                                 "token": path.split("token=")[1]})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/tickets"
    listing = client.get("/tickets").get_data(as_text=True)
    assert listing.index("Second problem") < listing.index("First problem")
    assert f'id="ticket-{first}"' in listing and f'id="ticket-{second}"' in listing
    assert "Ana" in listing and "status-open" in listing and "(CET)" in listing

    client.post("/logout", data={"csrf_token": csrf(listing)})
    again = client.get(path)  # the same link, after logging out
    assert again.status_code == 410 and "already used" in again.get_data(as_text=True)


def test_fetching_a_link_does_not_spend_it_only_the_button_does(client: FlaskClient, rt: Runtime) -> None:
    ana = add_customer(rt, "101")
    path = link_path(rt, ana)
    for _ in range(3):  # link previews, mail scanners
        assert client.get(path).status_code == 200
    assert sign_in_customer(client, rt, ana).status_code == 302


def test_forged_expired_and_replayed_links_are_refused(client: FlaskClient, rt: Runtime,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    ana = add_customer(rt, "102")
    path = link_path(rt, ana)
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert client.get(forged).status_code == 400
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 2 * 3600)
    expired = link_path(rt, ana)
    monkeypatch.undo()
    answer = client.get(expired)
    assert answer.status_code == 410 and "expired" in answer.get_data(as_text=True)
    token = path.split("token=")[1]
    page = client.get(path).get_data(as_text=True)
    assert client.post("/login/link", data={"csrf_token": csrf(page), "token": token}).status_code == 302
    other = FlaskClient(client.application, client.response_wrapper, use_cookies=True)
    page = other.get("/login").get_data(as_text=True)
    replay = other.post("/login/link", data={"csrf_token": csrf(page), "token": token})
    assert replay.status_code == 410
    assert other.get("/tickets").status_code == 302  # still signed out


def test_a_customer_never_sees_another_customers_ticket(client: FlaskClient, rt: Runtime) -> None:
    ana, bob = add_customer(rt, "103", "Ana"), add_customer(rt, "104", "Bob")
    bobs = add_ticket(rt, bob, "Bob private problem")
    sign_in_customer(client, rt, ana)
    assert "Bob private problem" not in client.get("/tickets").get_data(as_text=True)
    for answer in (client.get(f"/tickets/{bobs}"), client.get(f"/tickets/{bobs + 1000}")):
        assert answer.status_code == 404 and "private" not in answer.get_data(as_text=True)
    page = client.get("/tickets").get_data(as_text=True)
    assert client.post(f"/tickets/{bobs}/resolve", data={"csrf_token": csrf(page)}).status_code == 404
    with session_scope(rt.engine) as session:
        assert session.get(Ticket, bobs).status == "open"  # type: ignore[union-attr]


def test_pages_need_a_sign_in_and_forms_need_the_csrf_token(client: FlaskClient, rt: Runtime) -> None:
    ana = add_customer(rt, "105")
    ticket = add_ticket(rt, ana)
    assert client.get("/tickets").headers["Location"] == "/login"
    assert client.get(f"/tickets/{ticket}").status_code == 302
    sign_in_customer(client, rt, ana)
    assert client.post(f"/tickets/{ticket}/resolve").status_code == 400
    unsigned = {"title": "x", "type": "billing", "description": "y"}
    assert client.post("/tickets/new", data=unsigned).status_code == 400
    with session_scope(rt.engine) as session:
        assert session.get(Ticket, ticket).status == "open"  # type: ignore[union-attr]
        assert len(session.exec(select(Ticket)).all()) == 1


def test_new_ticket_form_opens_one_ticket_and_queues_its_email(client: FlaskClient, rt: Runtime,
                                                              redis: Redis) -> None:
    ana = add_customer(rt, "106", locale="es_LA")
    sign_in_customer(client, rt, ana)
    form = client.get("/tickets/new").get_data(as_text=True)
    assert "Nuevo ticket" in form and "Abrir ticket" in form and "Otra consulta" in form
    nonce = re.search(r'name="nonce" type="hidden" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    data = {"csrf_token": csrf(form), "nonce": nonce, "title": "No puedo entrar", "type": "technical",
            "description": "La app se cierra al abrirla."}
    created = client.post("/tickets/new", data=data)
    assert created.status_code == 302
    assert client.post("/tickets/new", data=data).headers["Location"] == created.headers["Location"]
    ticket_page = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "No puedo entrar" in ticket_page and "Técnico" in ticket_page and "Abierto" in ticket_page
    with session_scope(rt.engine) as session:
        mails = session.exec(select(OutboundMail)).all()
    assert [(m.kind, m.to_addr) for m in mails] == [("new_ticket", "tech@example.com")]
    assert Queue("mail", connection=redis).count == 1
    assert client.post("/tickets/new", data={**data, "nonce": "other", "type": "nope"}).status_code == 400


def test_resolve_on_the_web_tells_the_mailbox_and_a_new_message_reopens(
        client: FlaskClient, rt: Runtime) -> None:
    ana = add_customer(rt, "107")
    ticket = add_ticket(rt, ana)
    sign_in_customer(client, rt, ana)
    page = client.get(f"/tickets/{ticket}").get_data(as_text=True)
    assert client.post(f"/tickets/{ticket}/resolve", data={"csrf_token": csrf(page)}).status_code == 302
    page = client.get(f"/tickets/{ticket}").get_data(as_text=True)
    assert 'id="ticket-status">Resolved' in page and 'id="resolve"' not in page
    client.post(f"/tickets/{ticket}/messages", data={"csrf_token": csrf(page), "body": "It happened again"})
    with session_scope(rt.engine) as session:
        assert session.get(Ticket, ticket).status == "open"  # type: ignore[union-attr]
        kinds = [m.kind for m in session.exec(select(OutboundMail).order_by(OutboundMail.id)).all()]  # type: ignore[arg-type]
    assert kinds == ["new_ticket", "resolved", "customer_message"]


def test_an_agent_signs_in_with_a_password_sees_all_tickets_and_replies(
        client: FlaskClient, rt: Runtime, redis: Redis) -> None:
    add_agent(rt)
    ana, bob = add_customer(rt, "108", "Ana"), add_customer(rt, "109", "Bob")
    add_ticket(rt, ana, "Ana problem")
    bobs = add_ticket(rt, bob, "Bob problem")
    assert sign_in_agent(client, password="wrong password").status_code == 401
    assert sign_in_agent(client).status_code == 302
    listing = client.get("/tickets").get_data(as_text=True)
    assert "Ana problem" in listing and "Bob problem" in listing and "All tickets" in listing
    assert client.get("/tickets/new").status_code == 403
    page = client.get(f"/tickets/{bobs}").get_data(as_text=True)
    client.post(f"/tickets/{bobs}/messages", data={"csrf_token": csrf(page), "body": "We refunded it."})
    with session_scope(rt.engine) as session:
        reply = session.exec(select(TicketReply)).one()
        assert (reply.author, reply.messenger) == ("Eva", "queued")
        assert session.get(Ticket, bobs).status == "answered"  # type: ignore[union-attr]
    queued = redis.zrange("sd:mb:1000000001:109", 0, -1)
    assert len(queued) == 1 and b'"ticket_reply"' in queued[0]


def test_repeated_wrong_passwords_back_off_this_address_with_retry_after(client: FlaskClient,
                                                                         rt: Runtime) -> None:
    add_agent(rt)
    for _ in range(5):
        assert sign_in_agent(client, password="guess").status_code == 401
    refused = sign_in_agent(client)  # even the right one, from here, for now
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Try again in" in refused.get_data(as_text=True)
    elsewhere = client.application.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    assert sign_in_agent(elsewhere).status_code == 302  # the agent's own place is not locked


def test_security_headers_cookie_flags_and_spanish(client: FlaskClient, rt: Runtime) -> None:
    ana = add_customer(rt, "110", locale="es_ES")
    signed_in = sign_in_customer(client, rt, ana)
    cookie = signed_in.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/tickets")
    headers = page.headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY" and headers["Referrer-Policy"] == "no-referrer"
    text = page.get_data(as_text=True)
    assert "Cerrar sesión" in text and "Mis tickets" in text
    assert "Logout" in client.get("/tickets?lang=en").get_data(as_text=True)


def test_the_screen_speaks_the_browser_s_language_and_links_the_others(client: FlaskClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "pt-PT,pt;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert "Acesso da equipe" in page and "Senha" in page and '<html lang="pt-BR">' in page
    assert ">English</a>" in page and ">Español</a>" in page and ">Português (Brasil)</a>" not in page
    french = client.get("/login", headers={"Accept-Language": "fr-FR,fr"}).get_data(as_text=True)
    assert "Staff sign-in" in french  # no catalog for French: English
    chosen = client.get("/login?lang=es", headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)
    assert "Acceso del equipo" in chosen and ">Português (Brasil)</a>" in chosen


def test_secure_cookie_when_served_over_https(tmp_path, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    from app import create_app
    from core import runtime
    from tests.conftest import make_settings

    app = create_app(make_settings(tmp_path, redis_url=redis_url, public_url="https://desk.example.com"))
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is True
    finally:
        runtime.install(None)
        app.extensions["runtime"].engine.dispose()


def test_the_list_pages_with_newer_and_older_links(client: FlaskClient, rt: Runtime) -> None:
    add_agent(rt)
    ana = add_customer(rt, "111")
    ids = [add_ticket(rt, ana, f"Problem {i}") for i in range(45)]
    sign_in_agent(client)
    first = client.get("/tickets").get_data(as_text=True)
    assert f'id="ticket-{ids[-1]}"' in first and f'id="ticket-{ids[-21]}"' not in first
    older = re.search(r'id="older" href="([^"]+)"', first).group(1)  # type: ignore[union-attr]
    second = client.get(older).get_data(as_text=True)
    assert f'id="ticket-{ids[-21]}"' in second and 'id="newer"' in second
    last = client.get(re.search(r'id="older" href="([^"]+)"', second).group(1))  # type: ignore[union-attr]
    text = last.get_data(as_text=True)
    assert f'id="ticket-{ids[0]}"' in text and 'id="older"' not in text
    newer = re.search(r'id="newer" href="([^"]+)"', text).group(1)  # type: ignore[union-attr]
    assert shown(client.get(newer).get_data(as_text=True)) == shown(second) == ids[-21:-41:-1]


def shown(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="ticket-(\d+)"', page)]
