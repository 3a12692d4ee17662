"""`db upgrade` run by several processes at once (two deploys, a release step and
a preview) on a fresh SQLite file: they take turns, every one succeeds, and the
schema ends at head once."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from sqlalchemy import inspect, text

from core import schema
from core.db import make_engine

BOOTING = 4


def _upgrade(url: str, barrier) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    barrier.wait()  # every process looks at the empty file at the same moment
    schema.upgrade(engine)


def test_processes_upgrading_a_fresh_sqlite_file_together_all_succeed(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for attempt in range(3):
        url = f"sqlite:///{tmp_path / f'desk-{attempt}.db'}"
        barrier = context.Barrier(BOOTING)
        processes = [context.Process(target=_upgrade, args=(url, barrier)) for _ in range(BOOTING)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=60)
        assert [process.exitcode for process in processes] == [0] * BOOTING
        engine = make_engine(url)
        assert schema.BASELINE_TABLES <= set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        assert [row[0] for row in versions] == list(schema.code_heads())
