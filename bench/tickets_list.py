"""The ticket list page with 100,000 tickets in SQLite (issue 4): how long
`GET /tickets` takes for an agent (all tickets, first and deep pages, a status
filter), for a customer (their own), and `GET /api/tickets`.

Tickets are bulk-inserted (10,000 customers, one of them with 300 tickets),
then each page is requested N times through Flask's test client after a
warm-up; p50 / p99 / max are printed with the query plans SQLite chose.
Not run in CI; the figures go to docs/PERFORMANCE.md.

    .venv/bin/python -m bench.tickets_list [--tickets 100000] [--requests 300]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from werkzeug.security import generate_password_hash

from bot.models import Customer
from config.settings import Settings
from core import runtime
from core.db import session_scope
from core.schema import upgrade_database
from tickets import links
from tickets.models import Agent, Ticket

ROOT = Path(__file__).resolve().parents[1]
STATUSES = ("open", "answered", "resolved")
TYPES = ("billing", "technical", "other")
CHUNK = 5000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(Path(tmp), args.tickets, args.requests)


def run(tmp: Path, tickets: int, requests: int) -> None:
    from app import create_app

    settings = Settings(database_url=f"sqlite:///{tmp / 'bench.db'}", instance_path=str(tmp),
                        flows_path=str(ROOT / "config" / "flows.yaml"), secret_key="bench",
                        admin_api_token="bench-admin-token")
    upgrade_database(settings.database_url)  # the Procfile's release step
    app = create_app(settings)
    rt = app.extensions["runtime"]
    started = time.perf_counter()
    heavy = fill(rt.engine, tickets)
    print(f"{tickets:,} tickets inserted in {time.perf_counter() - started:.1f} s; "
          f"load average {os.getloadavg()[0]:.1f}")
    agent, customer = app.test_client(), app.test_client()
    sign_in_agent(agent)
    sign_in_customer(customer, rt, heavy)
    deep = tickets // 2
    pages = [
        ("agent, page 1", agent, "/tickets"),
        (f"agent, older than #{deep:,}", agent, f"/tickets?before={deep}"),
        ("agent, status=answered", agent, "/tickets?status=answered"),
        ("agent, type=technical, page 2", agent, "/tickets?type=technical&before=" + str(tickets - 60)),
        ("customer (300 tickets), page 1", customer, "/tickets"),
        ("API, status=open", agent, "/api/tickets?status=open"),
    ]
    print(f"{'page':<34} {'p50':>8} {'p99':>8} {'max':>8}   ({requests} requests each)")
    for name, client, path in pages:
        headers = {"Authorization": "Bearer bench-admin-token"} if path.startswith("/api") else {}
        times = measure(client, path, requests, headers)
        print(f"{name:<34} {ms(times, 50):>8} {ms(times, 99):>8} {max(times) * 1000:>6.2f} ms")
    explain(rt.engine)
    runtime.install(None)


def fill(engine, count: int) -> int:  # type: ignore[no-untyped-def]
    """Bulk insert `count` tickets; returns the id of the customer with 300 of them."""
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        session.execute(insert(Customer), [
            {"page_id": "1", "psid": str(10_000 + i), "first_name": f"Customer {i}", "state": {},
             "profile_checked": True, "created_at": now} for i in range(10_000)])
        session.add(Agent(email="eva@example.com", name="Eva",
                          password_hash=generate_password_hash("benchmark pass", "pbkdf2:sha256:1000")))
    rows = []
    for i in range(count):
        customer = 1 if i % (count // 300 or 1) == 0 else 2 + i % 9_999
        rows.append({"customer_id": customer, "title": f"Problem number {i}", "type_id": TYPES[i % 3],
                     "description": "Something went wrong. " * 10, "status": STATUSES[(i // 7) % 3],
                     "created_by": f"Customer {customer - 1}", "source": "messenger", "locale": "en",
                     "transcript": "customer: hello\nbot: hi\n" * 20,
                     "created_at": now - timedelta(seconds=count - i), "updated_at": now})
        if len(rows) == CHUNK:
            _insert(engine, rows)
            rows = []
    _insert(engine, rows)
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
    return 1


def _insert(engine, rows: list[dict]) -> None:  # type: ignore[no-untyped-def]
    if rows:
        with session_scope(engine) as session:
            session.execute(insert(Ticket), rows)


def sign_in_agent(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"csrf_token": _csrf(page), "email": "eva@example.com",
                                "password": "benchmark pass"})


def sign_in_customer(client, rt, customer_id: int) -> None:  # type: ignore[no-untyped-def]
    url = links.login_url(rt.settings.public_url, rt.settings.secret_key, customer_id)
    page = client.get(url.removeprefix(rt.settings.public_url)).get_data(as_text=True)
    client.post("/login/link", data={"csrf_token": _csrf(page), "token": url.split("token=")[1]})


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def measure(client, path: str, requests: int, headers: dict[str, str]) -> list[float]:  # type: ignore[no-untyped-def]
    for _ in range(20):  # warm-up: templates compiled, caches filled
        assert client.get(path, headers=headers).status_code == 200, path
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200 and (b"ticket-" in response.data or b'"tickets"' in response.data)
    return times


def ms(times: list[float], percentile: int) -> str:
    cut = statistics.quantiles(times, n=100, method="inclusive")[percentile - 1]
    return f"{cut * 1000:.2f} ms"


def explain(engine) -> None:  # type: ignore[no-untyped-def]
    queries = {
        "all, newest first": "SELECT id FROM ticket WHERE id < 50000 ORDER BY id DESC LIMIT 20",
        "one customer": "SELECT id FROM ticket WHERE customer_id = 1 ORDER BY id DESC LIMIT 20",
        "by status": "SELECT id FROM ticket WHERE status = 'answered' ORDER BY id DESC LIMIT 20",
    }
    print("\nquery plans:")
    with engine.connect() as connection:
        for name, sql in queries.items():
            plan = "; ".join(row[-1] for row in connection.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
            print(f"  {name:<18} {plan}")


if __name__ == "__main__":
    main()
