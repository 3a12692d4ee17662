"""The same pipeline on PostgreSQL: the database tests' run against the server
on the machine (DESK_TEST_POSTGRES_URL), in a database of their own."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from bot.models import HandledEvent, Message, Outbox
from messenger.standin import Standin
from tests.e2e.conftest import StartService
from tests.support.servers import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def test_a_conversation_on_postgresql_is_stored_once(
        start_service: StartService, standin: tuple[Standin, str], postgres_url: str) -> None:
    fake, _ = standin
    service = start_service(workers=2, database_url=postgres_url)
    fake.add_user("900", first_name="Marta", locale="es_ES")
    for words in ("hola", "factura", "reiniciar"):
        fake.customer_says("900", words)
    sent = fake.wait_for_sent("900", 3, timeout=30)
    assert "Marta" in sent[0]["message"]["text"]
    engine = service.app.extensions["runtime"].engine  # type: ignore[union-attr]
    wait_until(lambda: _nothing_pending(engine))  # the worker records Meta's answers
    with Session(engine) as session:
        inbound = session.exec(select(Message).where(Message.direction == "in")).all()
        handled = session.exec(select(func.count()).select_from(HandledEvent).where(
            HandledEvent.kind != "echo")).one()
        pending = session.exec(select(Outbox).where(Outbox.status == "pending")).all()
    assert [m.text for m in inbound] == ["hola", "factura", "reiniciar"]
    assert handled == 3 and pending == []


def _nothing_pending(engine) -> bool:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return session.exec(select(Outbox).where(Outbox.status == "pending")).first() is None
