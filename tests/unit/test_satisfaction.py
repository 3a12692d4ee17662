"""Satisfaction ratings turn by turn through the real pipeline (`handle_event`) against the
Graph stand-in; the `satisfaction:` section of the flows file; the counts `/metrics`
reads; the rating on the staff's ticket page."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlmodel import select
from werkzeug.security import generate_password_hash

from bot.flows import FlowsError, load_flows
from bot.flows.cli import flows_cli
from bot.models import Customer, Message
from bot.processing import handle_event
from config.settings import Settings
from core.db import session_scope
from core.mailbox import Queued
from core.runtime import Runtime
from messenger.events import parse_payload
from messenger.standin import Standin, serve_standin
from satisfaction.answers import COMMENT_MAX
from satisfaction.events import RESOLVED_EVENT
from satisfaction.models import ChatRating
from satisfaction.stats import RatingCount, rating_counts, recent_chat_ratings
from tests.conftest import make_settings
from tests.support import payloads as p
from tests.support.servers import wait_until
from tickets import links
from tickets.models import Agent, Ticket

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = (ROOT / "config" / "flows.yaml").read_text()
HOUR = 3600.0


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() - self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def standin(clock: Clock) -> Iterator[tuple[Standin, str]]:
    fake = Standin(page_id=p.PAGE_ID, app_id=p.APP_ID, app_secret=p.APP_SECRET,
                   access_token=p.ACCESS_TOKEN, clock=clock)
    server, url = serve_standin(fake)
    yield fake, url
    fake.close()
    server.shutdown()


@pytest.fixture
def settings(tmp_path: Path, redis: Redis, redis_url: str, standin: tuple[Standin, str]) -> Settings:
    flows = tmp_path / "flows.yaml"  # a copy the admin edits (live reload)
    flows.write_text(SHIPPED)
    return make_settings(tmp_path, redis_url=redis_url, graph_api_url=standin[1],
                         flows_path=str(flows))


class Desk:
    def __init__(self, rt: Runtime, fake: Standin, clock: Clock) -> None:
        self.rt, self.fake, self.clock = rt, fake, clock

    def says(self, psid: str, text: str | None = None, *, quick_reply: str | None = None,
             hours_later: float = 0) -> list[dict[str, Any]]:
        before = len(self.fake.sent(psid))
        self.clock.offset = -hours_later * HOUR
        self.fake.customer_says(psid, text, quick_reply=quick_reply)
        _, events = parse_payload(self.fake.webhooks[-1])
        for incoming in events:
            body = json.loads(incoming.body)
            handle_event(self.rt, Queued(f"{incoming.page_id}:{incoming.psid}", incoming.key,
                                         body["channel"], body["kind"], body["event"]))
        self.clock.offset = 0
        return self.fake.sent(psid)[before:]

    def resolved_ticket(self, psid: str, locale: str = "en_US") -> tuple[int, dict[str, Any]]:
        """A ticket opened and resolved on Messenger: its number and the bot's answer."""
        self.fake.add_user(psid, first_name="Ana", locale=locale)
        self.says(psid, "Email Support", quick_reply="flow:email_support")
        self.says(psid, "Card charged twice")
        self.says(psid, "Billing", quick_reply="ticket:type:billing")
        self.says(psid, "I paid 49 EUR twice on 2 March.")
        number = self.ticket(psid).id
        return number or 0, self.says(psid, "Resolve", quick_reply=f"ticket:resolve:{number}")[-1]

    def ticket(self, psid: str) -> Ticket:
        with session_scope(self.rt.engine) as session:
            return session.exec(select(Ticket).join(Customer).where(Customer.psid == psid)).one()


@pytest.fixture
def desk(app: Flask, standin: tuple[Standin, str], clock: Clock) -> Desk:
    return Desk(app.extensions["runtime"], standin[0], clock)


def text(body: dict[str, Any]) -> str:
    message = body["message"]
    return message.get("text") or message["attachment"]["payload"]["text"]


def chips(body: dict[str, Any]) -> list[str]:
    return [q["title"] for q in body["message"].get("quick_replies", [])]


def test_a_long_comment_is_kept_to_its_bound_and_whole_in_the_transcript(desk: Desk) -> None:
    number, asked = desk.resolved_ticket("30")
    desk.says("30", "⭐⭐", quick_reply=f"rate:ticket:{number}:2")
    long = "The agent never read my message. " * 100
    assert "Thanks for your feedback" in text(desk.says("30", long)[-1])
    ticket = desk.ticket("30")
    assert ticket.rating == 2 and ticket.rating_comment == long.strip()[:COMMENT_MAX]
    with session_scope(desk.rt.engine) as session:
        assert session.exec(select(Message).where(Message.text == long)).first() is not None


def test_a_keyword_instead_of_a_comment_is_answered_and_an_old_prompt_takes_nothing(
        desk: Desk) -> None:
    number, _ = desk.resolved_ticket("31")
    desk.says("31", "⭐⭐⭐⭐⭐", quick_reply=f"rate:ticket:{number}:5")
    answer = desk.says("31", "refunds")
    assert "ask for a refund within 30 days" in text(answer[0])
    assert (desk.ticket("31").rating, desk.ticket("31").rating_comment) == (5, None)

    number, _ = desk.resolved_ticket("32")
    late = desk.says("32", "4", hours_later=2)  # hours after the question: not an answer
    assert "Sorry, I didn't get that" in text(late[-1]) and desk.ticket("32").rating is None
    assert "already resolved" in text(desk.says("32", "Resolve", quick_reply=f"ticket:resolve:{number}")[-1])


def test_not_asked_while_a_person_has_the_chat_or_a_ticket_is_being_opened(desk: Desk) -> None:
    for psid, busy_with in (("36", ("agent", None)), ("37", ("Email Support", "flow:email_support"))):
        number, _ = desk.resolved_ticket(psid)
        with session_scope(desk.rt.engine) as session:  # as if never asked: resolved on the web
            ticket = session.get(Ticket, number)
            assert ticket is not None
            ticket.rating_status = None
            session.add(ticket)
        desk.says(psid, busy_with[0], quick_reply=busy_with[1])
        before = len(desk.fake.sent(psid))
        event = {"sender": {"id": psid}, "recipient": {"id": p.PAGE_ID},
                 "timestamp": int(time.time() * 1000), RESOLVED_EVENT: {"ticket_id": number}}
        handle_event(desk.rt, Queued(f"{p.PAGE_ID}:{psid}", f"resolved-{number}", "messaging",
                                     RESOLVED_EVENT, event))
        assert desk.fake.sent(psid)[before:] == []
        assert desk.ticket(psid).rating_status == "busy"


def test_a_rating_for_a_question_never_asked_is_not_stored(desk: Desk) -> None:
    desk.fake.add_user("33")
    desk.says("33", "hi")
    answer = desk.says("33", "⭐", quick_reply="rate:ticket:1:1")  # no ticket 1 of theirs
    assert "Sorry, I didn't get that" in text(answer[-1])


def test_spanish_words_and_switched_off_per_language(desk: Desk, settings: Settings) -> None:
    _, asked = desk.resolved_ticket("34", locale="es_ES")
    assert "¿Cómo valorarías la ayuda" in text(asked) and "El ticket" in text(asked)
    Path(settings.flows_path).write_text(
        SHIPPED.replace("  enabled: true\n", "  enabled: {en: true, es: false}\n"))
    wait_until(lambda: not desk.rt.flows.current.satisfaction.enabled_for("es"), timeout=5)
    _, resolved = desk.resolved_ticket("35", locale="es_ES")
    assert "valorarías" not in text(resolved) and "Facturación" in chips(resolved)
    assert desk.ticket("35").rating_status is None


# --- The flows file ---------------------------------------------------------------


def test_the_shipped_flows_ask_in_english_spanish_and_portuguese() -> None:
    config = load_flows(ROOT / "config" / "flows.yaml").satisfaction
    assert config.enabled_for("en") and config.enabled_for("es") and config.ask_comment
    assert set(config.question) == set(config.thanks) == set(config.choices) == {"en", "es", "pt_BR"}
    assert all(len(titles) == 5 for titles in config.choices.values())


def test_words_left_out_come_from_the_catalogs_in_every_shipped_language() -> None:
    from bot.flows.satisfaction_config import SatisfactionConfig

    defaults = SatisfactionConfig()
    assert defaults.question["pt_BR"].startswith("Como você avalia a ajuda")
    assert defaults.skip_button == {"en": "Skip", "es": "Omitir", "pt_BR": "Pular"}
    assert set(defaults.choices) == {"en", "es", "pt_BR"}


def test_a_bad_satisfaction_section_names_each_line(tmp_path: Path) -> None:
    section = """satisfaction:
  enabled: maybe
  question: {en: "How was it?", pt_BR: "Como foi?"}
  choices:
    en: [Bad, Poor, OK, Good]
    es: [Mala, Regular, Bien, Muy bien, "Excelente, de verdad, gracias"]
    pt_BR: [Ruim, Fraca, Boa, Muito boa, Ótima]
  skip_button: {en: Skip, es: Omitir, pt_BR: Pular, fr: Passer}
  colour: blue
"""
    start = SHIPPED.index("satisfaction:\n")
    end = SHIPPED.index("\n# --- Email Support: ticket types")
    path = tmp_path / "flows.yaml"
    path.write_text(SHIPPED[:start] + section + SHIPPED[end:])
    first = SHIPPED[:start].count("\n") + 1
    with pytest.raises(FlowsError) as caught:
        load_flows(path)
    found = [(problem.line - first + 1, problem.message.split(":")[0])
             for problem in caught.value.problems]
    assert found == [(2, "satisfaction.enabled"), (3, "satisfaction.question"),
                     (5, "satisfaction.choices.en"), (6, "satisfaction.choices.es[4]"),
                     (8, "satisfaction.skip_button.fr"), (9, "satisfaction.colour")], found
    result = Flask(__name__).test_cli_runner().invoke(flows_cli, ["check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:{first + 4}: satisfaction.choices.en: 4 choices; list exactly 5" in result.output
    assert f'{path}:{first + 2}: satisfaction.question: missing the "es" translation' in result.output


# --- What /metrics and the staff read ---------------------------------------------


def test_counts_by_kind_page_status_and_score(desk: Desk) -> None:
    number, _ = desk.resolved_ticket("40")
    desk.says("40", "⭐⭐⭐⭐", quick_reply=f"rate:ticket:{number}:4")
    desk.resolved_ticket("41")
    with session_scope(desk.rt.engine) as session:
        customer = session.exec(select(Customer).where(Customer.psid == "41")).one()
        assert customer.id is not None
        session.add(ChatRating(customer_id=customer.id, handover=1, handover_ms=1,
                               status="asked", rating=5))
        session.add(ChatRating(customer_id=customer.id, handover=2, handover_ms=2,
                               status="outside_window"))
    with desk.rt.engine.connect() as connection:
        counts = set(rating_counts(connection))
    assert counts == {RatingCount("ticket", p.PAGE_ID, "asked", 4, 1),
                      RatingCount("ticket", p.PAGE_ID, "asked", None, 1),
                      RatingCount("chat", p.PAGE_ID, "asked", 5, 1),
                      RatingCount("chat", p.PAGE_ID, "outside_window", None, 1)}
    with session_scope(desk.rt.engine) as session:
        assert [(r.customer, r.rating) for r in recent_chat_ratings(session)] == [
            ("Ana", None), ("Ana", 5)]


def test_staff_see_the_rating_on_the_ticket_page(desk: Desk, client: FlaskClient) -> None:
    number, _ = desk.resolved_ticket("50")
    desk.says("50", "⭐⭐⭐", quick_reply=f"rate:ticket:{number}:3")
    desk.says("50", "Slow <b>but</b> fine")
    with session_scope(desk.rt.engine) as session:
        session.add(Agent(email="eva@example.com", name="Eva",
                          password_hash=generate_password_hash("pw-123456", method="pbkdf2:sha256:1000")))
    login = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"csrf_token": _csrf(login), "email": "eva@example.com",
                                "password": "pw-123456"})
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert "Customer rating" in page and "★★★☆☆ 3/5" in page
    assert "Slow &lt;b&gt;but&lt;/b&gt; fine" in page
    assert 'id="nav-ratings"' in page
    with session_scope(desk.rt.engine) as session:
        customer = session.exec(select(Customer).where(Customer.psid == "50")).one()
        assert customer.id is not None
        session.add(ChatRating(customer_id=customer.id, handover=1, handover_ms=7, status="asked",
                               rating=4, comment="Sam was great"))
    listing = client.get("/tickets/ratings").get_data(as_text=True)
    assert "★★★★☆ 4/5" in listing and "Sam was great" in listing and "Ana" in listing


def test_chat_ratings_are_for_staff_only(desk: Desk, client: FlaskClient) -> None:
    assert client.get("/tickets/ratings").status_code in (302, 401)  # sign in first
    number, _ = desk.resolved_ticket("51")
    url = links.login_url(desk.rt.settings.public_url, desk.rt.settings.secret_key,
                          desk.ticket("51").customer_id, next_path="/tickets")
    path = url.removeprefix(desk.rt.settings.public_url)
    page = client.get(path).get_data(as_text=True)
    client.post("/login/link", data={"csrf_token": _csrf(page), "token": path.split("token=", 1)[1]})
    assert client.get("/tickets/ratings").status_code == 403
    assert "Customer rating" not in client.get(f"/tickets/{number}").get_data(as_text=True)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert found, html
    return found.group(1)
