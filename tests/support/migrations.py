"""Helpers of the migration tests: a realistic row for every table of the baseline
revision (written with the baseline's columns, so it stays valid whatever the
models become), the models-versus-database comparison, and the `flask db` command."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection, Engine

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).parent / "flask")


def at(day: int, hour: int = 9, minute: int = 30) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


KEY = "104732887766001:m_AbCdEf123"
RAW_MAIL = (b"From: Ana <ana@example.com>\r\nSubject: Re: [#1] Factura duplicada\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nGracias, \xc2\xa1ya est\xc3\xa1!\r\n\x00")

BASELINE_ROWS: dict[str, list[dict[str, Any]]] = {
    "customer": [{
        "id": 1, "page_id": "104732887766001", "psid": "2489123456789012", "first_name": "Ana",
        "messenger_locale": "es_ES", "profile_checked": True, "last_inbound_at": at(1, 9, 31),
        "created_at": at(1), "state": {"flow": "billing", "step": 2, "locale": "es",
                                       "answers": {"title": "Factura duplicada"}},
    }],
    "message": [{
        "id": 1, "customer_id": 1, "direction": "in", "author": "customer", "kind": "text",
        "text": "Me cobraron dos veces 😕", "payload": None, "mid": "m_AbCdEf123",
        "created_at": at(1, 9, 31),
    }],
    "handled_event": [{"key": KEY, "customer_id": 1, "kind": "message", "handled_at": at(1, 9, 31)}],
    "outbox": [{
        "id": 1, "customer_id": 1, "event_key": KEY, "seq": 0, "kind": "send",
        "body": {"recipient": {"id": "2489123456789012"}, "messaging_type": "RESPONSE",
                 "message": {"text": "¿Sobre qué es tu consulta?"}},
        "status": "sent", "error": None, "result": "m_reply_1", "created_at": at(1, 9, 31),
        "done_at": at(1, 9, 32),
    }],
    "ticket": [{
        "id": 1, "customer_id": 1, "title": "Factura duplicada", "type_id": "billing",
        "description": "Me cobraron dos veces la factura de febrero.\nAdjunto el resumen.",
        "status": "answered", "created_by": "Ana", "source": "messenger", "locale": "es",
        "transcript": "Ana: Me cobraron dos veces 😕\nBot: ¿Sobre qué es tu consulta?",
        "source_key": KEY, "created_at": at(1, 9, 40), "updated_at": at(2), "resolved_at": None,
    }],
    "ticket_reply": [{
        "id": 1, "ticket_id": 1, "author_kind": "agent", "author": "Luis <luis@desk.example>",
        "body": "Ya lo reembolsamos, llega en 3 días.", "source": "email",
        "email_message_id": "<CAF=reply.1@mail.example>", "messenger": "sent",
        "delivered_in": "104732887766001:reply:1", "created_at": at(2),
    }],
    "ticket_mail": [{
        "id": 1, "ticket_id": 1, "kind": "new_ticket", "reply_id": None,
        "to_addr": "billing@desk.example", "message_id": "<t1.n1@desk.example>", "status": "sent",
        "attempts": 1, "last_error": None, "claimed_at": at(1, 9, 40), "sent_at": at(1, 9, 41),
        "created_at": at(1, 9, 40),
    }, {
        "id": 2, "ticket_id": 1, "kind": "customer_message", "reply_id": 1,
        "to_addr": "billing@desk.example", "message_id": "<t1.n2@desk.example>", "status": "pending",
        "attempts": 2, "last_error": "SMTP 451 try again later", "claimed_at": None,
        "sent_at": None, "created_at": at(2, 10),
    }],
    "ticket_inbound_email": [{
        "id": 1, "message_id": "<stray.1@mail.example>", "sender": "ana@example.com",
        "subject": "Re: [#1] Factura duplicada", "reason": "unmatched", "raw": RAW_MAIL,
        "received_at": at(3),
    }],
    "agent": [{
        "id": 1, "email": "luis@desk.example", "name": "Luis", "role": "admin", "active": True,
        "password_hash": "scrypt:32768:8:1$salt$" + "ab" * 32, "created_at": at(1, 8),
    }],
}


def schema_differences(connection: Connection, metadata: MetaData) -> list[Any]:
    """What `db revision --autogenerate` would write: the models against the database."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, metadata)


def flask_db(engine: Engine, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`flask --app app db ARGS` as the release step runs it, on `engine`'s database."""
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(PYTHONPATH=str(ROOT), FLOWS_PATH=str(ROOT / "config" / "flows.yaml"),
               DATABASE_URL=engine.url.render_as_string(hide_password=False))
    return subprocess.run([FLASK, "--app", "app", "db", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)
