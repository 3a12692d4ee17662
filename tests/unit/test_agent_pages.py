"""Agents bound to some Pages (an agency's client team): they see those Pages' tickets,
their Instagram accounts' included, and nothing of the other Pages: not in the list, not
by id, not their files, replies, ratings or unmatched mail. `flask users create-agent
--page`, `users set-pages` (at the agent's next click) and `users list`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlmodel import select

from bot.models import Customer
from core import runtime
from core.db import session_scope
from core.runtime import Runtime
from satisfaction.models import ChatRating
from tests.conftest import ROOT, make_settings
from tests.unit.test_portal_web import PAGES, agency  # noqa: F401  (the fixture: Pages ...01 and ...02)
from tests.unit.test_tickets_web import add_agent, csrf, sign_in_agent
from tickets import service
from tickets.models import Ticket, TicketReply
from tickets.types import ticket_types

SPAIN, MEXICO, SPAIN_IG = "1000000001", "1000000002", "17840000000000001"
PASSWORD = "correct horse battery"


def open_ticket(rt: Runtime, account_id: str, psid: str, title: str, page_id: str) -> int:
    channel = "instagram" if account_id == SPAIN_IG else "messenger"
    with session_scope(rt.engine) as session:
        customer = Customer(page_id=account_id, psid=psid, first_name=title.split()[0],
                            channel=channel)
        session.add(customer)
        session.flush()
        ticket, _ = service.open_ticket(
            session, customer=customer, ticket_type=ticket_types(rt.flows.current)["billing"],
            title=title, description="Details", source="messenger", locale="en",
            sender="support@example.com", page_id=page_id)
        assert ticket.id is not None
        return ticket.id


@pytest.fixture
def desk(agency: Flask) -> dict[str, int]:  # noqa: F811
    rt = agency.extensions["runtime"]
    return {"ana": open_ticket(rt, SPAIN, "1", "Ana on Messenger", SPAIN),
            "ines": open_ticket(rt, SPAIN_IG, "ig2", "Ines on Instagram", SPAIN),
            "mario": open_ticket(rt, MEXICO, "3", "Mario in Mexico", MEXICO)}


def cli(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["users", *args])
    return result.exit_code, result.output


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    assert sign_in_agent(client, email=email, password=PASSWORD).status_code == 302
    return client


def listed(client: FlaskClient) -> set[int]:
    return {int(n) for n in re.findall(r'id="ticket-(\d+)"', client.get("/tickets").get_data(as_text=True))}


def test_an_agent_bound_to_a_page_sees_its_tickets_and_its_instagram_ones_only(
        agency: Flask, desk: dict[str, int]) -> None:  # noqa: F811
    made = cli(agency, "create-agent", "spain@agency.example", "--name", "Lucia",
               "--page", SPAIN, "--password", PASSWORD)
    assert made == (0, f"agent spain@agency.example created; sees Pages {SPAIN}\n")
    add_agent(agency.extensions["runtime"], email="all@agency.example", password=PASSWORD)
    spain, everyone = signed_in(agency, "spain@agency.example"), signed_in(agency, "all@agency.example")

    assert listed(spain) == {desk["ana"], desk["ines"]}
    assert listed(everyone) == set(desk.values())
    mario = desk["mario"]
    assert spain.get(f"/tickets/{desk['ines']}").status_code == 200
    assert spain.get(f"/tickets/{mario}").status_code == 404
    assert spain.get(f"/tickets/{mario}/attachments/1").status_code == 404
    form = csrf(spain.get(f"/tickets/{desk['ana']}").get_data(as_text=True))
    assert spain.post(f"/tickets/{mario}/messages",
                      data={"csrf_token": form, "body": "Hola Mario"}).status_code == 404
    assert spain.post(f"/tickets/{mario}/resolve", data={"csrf_token": form}).status_code == 404
    with session_scope(agency.extensions["runtime"].engine) as session:
        assert session.exec(select(TicketReply)).all() == []
        assert session.get(Ticket, mario).status == "open"  # type: ignore[union-attr]
    assert "Mario in Mexico" in everyone.get(f"/tickets/{mario}").get_data(as_text=True)


def test_set_pages_applies_at_the_agent_s_next_click_and_all_gives_every_page_back(
        agency: Flask, desk: dict[str, int]) -> None:  # noqa: F811
    add_agent(agency.extensions["runtime"], email="eva@agency.example", password=PASSWORD)
    eva = signed_in(agency, "eva@agency.example")
    assert eva.get(f"/tickets/{desk['mario']}").status_code == 200

    assert cli(agency, "set-pages", "Eva@Agency.example", "--page", MEXICO) == (
        0, f"eva@agency.example sees Pages {MEXICO}\n")
    assert eva.get(f"/tickets/{desk['ana']}").status_code == 404  # the same session
    assert listed(eva) == {desk["mario"]}
    assert f"eva@agency.example\tagent\tactive\tEva\tPages {MEXICO}" in cli(agency, "list")[1]

    assert cli(agency, "set-pages", "eva@agency.example", "--all")[0] == 0
    assert listed(eva) == set(desk.values())
    assert "\tEva\tevery Page" in cli(agency, "list")[1]


def test_a_bound_agent_gets_no_unmatched_mail_other_pages_ratings_or_chat_links(
        agency: Flask, desk: dict[str, int]) -> None:  # noqa: F811
    rt = agency.extensions["runtime"]
    with session_scope(rt.engine) as session:
        customers = {c.first_name: c.id for c in session.exec(select(Customer))}
        for n, name in enumerate(("Ana", "Ines", "Mario")):
            session.add(ChatRating(customer_id=customers[name], handover=1, handover_ms=n,
                                   status="asked", rating=5 - n))
    cli(agency, "create-agent", "spain@agency.example", "--name", "Lucia", "--page", SPAIN,
        "--password", PASSWORD)
    cli(agency, "create-agent", "boss@agency.example", "--name", "Boss", "--admin",
        "--password", PASSWORD)
    spain, boss = signed_in(agency, "spain@agency.example"), signed_in(agency, "boss@agency.example")

    ratings = spain.get("/tickets/ratings").get_data(as_text=True)
    assert "Ana" in ratings and "Ines" in ratings and "Mario" not in ratings
    assert "Mario" in boss.get("/tickets/ratings").get_data(as_text=True)
    assert spain.get("/tickets/unmatched").status_code == 403
    assert boss.get("/tickets/unmatched").status_code == 200
    chat = spain.get("/tickets/chat").get_data(as_text=True)
    assert "Shop Spain on Messenger" in chat and "Shop Spain on Instagram" in chat
    assert "Shop Mexico" not in chat
    assert "Shop Mexico on Messenger" in boss.get("/tickets/chat").get_data(as_text=True)


def test_the_cli_names_the_pages_it_accepts(agency: Flask) -> None:  # noqa: F811
    code, output = cli(agency, "create-agent", "x@agency.example", "--name", "X", "--page", "999",
                       "--password", PASSWORD)
    assert code == 2 and "999 is not a Page of" in output
    assert f"{SPAIN} (Shop Spain), {MEXICO} (Shop Mexico)" in output
    code, output = cli(agency, "create-agent", "x@agency.example", "--name", "X", "--page", SPAIN_IG,
                       "--password", PASSWORD)
    assert code == 2 and f"the Instagram account of Page {SPAIN} (Shop Spain)" in output
    code, output = cli(agency, "create-agent", "x@agency.example", "--name", "X", "--admin",
                       "--page", SPAIN, "--password", PASSWORD)
    assert code == 2 and "an admin sees every Page" in output
    assert cli(agency, "list")[1].startswith("no staff accounts")  # none of them was made

    cli(agency, "create-agent", "boss@agency.example", "--name", "Boss", "--admin", "--password", PASSWORD)
    assert cli(agency, "set-pages", "boss@agency.example")[0] == 2  # neither --page nor --all
    assert cli(agency, "set-pages", "boss@agency.example", "--page", SPAIN) == (
        1, "Error: boss@agency.example is an admin: admins see every Page\n")
    assert cli(agency, "set-pages", "nobody@agency.example", "--all")[0] == 1


def test_with_one_page_there_is_no_page_to_bind(app: Flask) -> None:
    code, output = cli(app, "create-agent", "x@example.com", "--name", "X", "--page", "123",
                       "--password", PASSWORD)
    assert code == 2 and "no pages file" in output


@pytest.fixture
def mexico_flows(tmp_path: Path, redis: Redis, redis_url: str,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """Two Pages; Mexico's own flows file has a `shipping` ticket type, Spain's has none."""
    from app import create_app

    monkeypatch.setenv("SHOP_ES_TOKEN", "EAAes-token")
    monkeypatch.setenv("SHOP_MX_TOKEN", "EAAmx-token")
    flows = tmp_path / "flows-mx.yaml"
    flows.write_text((ROOT / "config" / "flows.yaml").read_text().replace(
        "    other:\n      title: {en: Other query,",
        "    shipping:\n      title: {en: Shipping, es: Envíos, pt_BR: Entregas}\n"
        "      mailbox: envios@mx.example\n"
        "    other:\n      title: {en: Other query,"))
    pages = tmp_path / "pages.yaml"
    pages.write_text(PAGES.replace("    token_env: SHOP_MX_TOKEN\n",
                                   f"    token_env: SHOP_MX_TOKEN\n    flows: {flows}\n"))
    flask_app = create_app(make_settings(tmp_path, redis_url=redis_url, pages_path=str(pages)))
    yield flask_app
    runtime.install(None)
    flask_app.extensions["runtime"].engine.dispose()


def type_options(client: FlaskClient) -> list[str]:
    return re.findall(r'<option value="(\w+)"', client.get("/tickets").get_data(as_text=True))


def test_the_list_offers_and_names_each_visible_page_s_ticket_types(mexico_flows: Flask) -> None:
    rt = mexico_flows.extensions["runtime"]
    with session_scope(rt.engine) as session:
        mario = Customer(page_id=MEXICO, psid="3", first_name="Mario")
        session.add(mario)
        session.flush()
        service.open_ticket(session, customer=mario, title="Where is my parcel",
                            ticket_type=ticket_types(rt.flows_for(MEXICO).current)["shipping"],
                            description="Details", source="messenger", locale="en",
                            sender="support@example.com", page_id=MEXICO)
    add_agent(rt, email="all@agency.example", password=PASSWORD)
    cli(mexico_flows, "create-agent", "spain@agency.example", "--name", "Lucia", "--page", SPAIN,
        "--password", PASSWORD)
    everyone = signed_in(mexico_flows, "all@agency.example")
    assert "shipping" in type_options(everyone)
    assert "<td>Shipping</td>" in everyone.get("/tickets").get_data(as_text=True)
    spain = type_options(signed_in(mexico_flows, "spain@agency.example"))
    assert "billing" in spain and "shipping" not in spain
