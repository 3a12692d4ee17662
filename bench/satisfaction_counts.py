"""What `satisfaction.stats.rating_counts` (read by `/metrics` at every scrape) costs
with many ratings: 100,000 tickets (half asked, most of those rated) and 100,000 chat
ratings over 10,000 customers, on SQLite (a temporary file) or PostgreSQL (`--url`).
Not run in CI; the figure goes to docs/RELIABILITY.md.

    .venv/bin/python -m bench.satisfaction_counts [--rows 100000] [--url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

import bot.models  # noqa: F401  (tables)
import tickets.models  # noqa: F401
from bot.models import Customer
from core.db import create_schema, make_engine
from satisfaction.models import ChatRating
from satisfaction.stats import rating_counts
from tickets.models import Ticket

CUSTOMERS = 10_000
CHUNK = 5000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--url", default=None)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(args.url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        create_schema(engine)
        _fill(engine, args.rows)
        timings = []
        for _ in range(args.runs):
            start = time.perf_counter()
            with engine.connect() as connection:
                counts = rating_counts(connection)
            timings.append((time.perf_counter() - start) * 1000)
        print(f"{engine.dialect.name}: {args.rows} tickets + {args.rows} chat ratings -> "  # noqa: T201
              f"{len(counts)} series; rating_counts p50 {statistics.median(timings):.1f} ms, "
              f"max {max(timings):.1f} ms over {args.runs} runs")


def _fill(engine, rows: int) -> None:  # type: ignore[no-untyped-def]
    rng, now = random.Random(7), datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(insert(Customer), [
            {"page_id": "1000000001", "psid": str(10_000 + i), "state": {}} for i in range(CUSTOMERS)])
        for start in range(0, rows, CHUNK):
            chunk = range(start, min(rows, start + CHUNK))
            connection.execute(insert(Ticket), [_ticket(rng, now, i) for i in chunk])
            connection.execute(insert(ChatRating), [
                {"customer_id": rng.randint(1, CUSTOMERS), "handover": 1, "handover_ms": i,
                 "status": rng.choice(("asked", "asked", "asked", "outside_window")),
                 "rating": rng.choice((None, 1, 2, 3, 4, 5, 5)), "returned_at": now}
                for i in chunk])


def _ticket(rng: random.Random, now: datetime, i: int) -> dict[str, object]:
    asked = rng.random() < 0.5
    return {"customer_id": rng.randint(1, CUSTOMERS), "title": f"t{i}", "type_id": "billing",
            "description": "d", "status": "resolved", "created_by": "Ana", "source": "messenger",
            "transcript": "", "created_at": now, "updated_at": now,
            "rating_status": "asked" if asked else None,
            "rating": rng.choice((None, 1, 2, 3, 4, 5)) if asked else None}


if __name__ == "__main__":
    main()
