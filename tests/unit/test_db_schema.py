"""Schema creation when the web and worker processes boot together on a fresh file."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from sqlalchemy import inspect

import bot.models  # noqa: F401  (the models create_schema creates)
import tickets.models  # noqa: F401
from core.db import create_schema, make_engine

BOOTING = 4


def _boot(url: str, barrier) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    barrier.wait()  # every process looks at the empty file at the same moment
    create_schema(engine)


def test_processes_booting_together_on_a_fresh_sqlite_file_all_start(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for attempt in range(3):
        url = f"sqlite:///{tmp_path / f'desk-{attempt}.db'}"
        barrier = context.Barrier(BOOTING)
        processes = [context.Process(target=_boot, args=(url, barrier)) for _ in range(BOOTING)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=60)
        assert [process.exitcode for process in processes] == [0] * BOOTING
        tables = set(inspect(make_engine(url)).get_table_names())
        assert {"customer", "handled_event"} <= tables
