"""Schema migrations on SQLite and PostgreSQL: an install holding rows in every table
upgrades through each revision after the baseline and keeps them; the models never
differ from what the migrations build; a database built before migrations is
adopted; several `db upgrade`s at once take turns."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, inspect, select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from core import schema
from core.db import make_engine
from features import import_models
from tests.support.migrations import BASELINE_ROWS, flask_db, schema_differences

pytestmark = pytest.mark.e2e
import_models()


def _revisions_after_baseline() -> list[str]:
    """Every revision from the one after the baseline up to head, oldest first."""
    walked = [script.revision for script in schema.script().walk_revisions("base", "heads")]
    return list(reversed(walked))[1:]


def _insert_baseline_rows(engine: Engine) -> None:
    tables = MetaData()
    with engine.begin() as connection:
        tables.reflect(connection)
        for name, rows in BASELINE_ROWS.items():
            connection.execute(tables.tables[name].insert(), rows)


def _read_at_head(engine: Engine) -> dict[str, list[dict[str, object]]]:
    """Every row of every table, read through the models' columns at head."""
    read: dict[str, list[dict[str, object]]] = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            rows = connection.execute(select(table).order_by(*table.primary_key.columns))
            read[table.name] = [dict(row._mapping) for row in rows]
    return read


def test_an_install_with_rows_in_every_table_upgrades_from_the_baseline_and_keeps_them(
        engine: Engine) -> None:
    assert set(BASELINE_ROWS) == schema.BASELINE_TABLES  # a row in every table
    schema.upgrade(engine, schema.BASELINE)
    _insert_baseline_rows(engine)
    for revision in _revisions_after_baseline():
        schema.upgrade(engine, revision)
    schema.upgrade(engine)
    schema.check(engine)  # at head: web and worker start
    read = _read_at_head(engine)
    for name, rows in BASELINE_ROWS.items():
        assert len(read[name]) == len(rows), name
        for wrote, got in zip(rows, read[name], strict=True):
            kept = {column: got[column] for column in wrote if column in got}
            assert kept == {column: wrote[column] for column in kept}, name


def test_the_models_are_what_the_migrations_build(engine: Engine) -> None:
    schema.upgrade(engine)
    with engine.connect() as connection:
        differences = schema_differences(connection, SQLModel.metadata)
    assert not differences, (
        "the models differ from migrations/ (write a revision: flask --app app db revision "
        "-m '...' --autogenerate):\n" + "\n".join(map(str, differences)))


def test_a_column_added_to_a_model_without_a_revision_is_caught(engine: Engine) -> None:
    schema.upgrade(engine)
    changed = MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["outbox"].append_column(Column("attempts_left", String(8), nullable=True))
    with engine.connect() as connection:
        differences = schema_differences(connection, changed)
    assert [(d[0], d[2], d[3].name) for d in differences] == [("add_column", "outbox", "attempts_left")]


def test_a_database_built_before_migrations_is_stamped_at_the_baseline_then_upgraded(
        engine: Engine, tmp_path: Path) -> None:
    schema.upgrade(engine, schema.BASELINE)
    _insert_baseline_rows(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))  # as create_schema left it

    upgraded = flask_db(engine, tmp_path, "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "stamped at 0001_baseline" in upgraded.stderr
    current = flask_db(engine, tmp_path, "current")
    assert current.stdout.strip() == f"{', '.join(schema.code_heads())} (head)"
    assert {name: len(rows) for name, rows in _read_at_head(engine).items()
            if name in BASELINE_ROWS} == {name: len(rows) for name, rows in BASELINE_ROWS.items()}


def test_a_database_with_only_some_baseline_tables_is_refused_in_one_line(
        engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as connection:
        SQLModel.metadata.tables["customer"].create(connection)

    upgraded = flask_db(engine, tmp_path, "upgrade")
    assert upgraded.returncode == 1
    assert upgraded.stderr.strip().splitlines()[-1].startswith(
        "Error: database has tables but no alembic_version, and lacks agent, handled_event")
    assert "Traceback" not in upgraded.stderr
    assert set(inspect(engine).get_table_names()) == {"customer"}  # nothing half done


def test_an_upgrade_failing_part_way_leaves_the_database_as_it_was(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    schema.upgrade(engine, schema.BASELINE)
    _insert_baseline_rows(engine)
    def upgrade_then_fail(config, revision):  # type: ignore[no-untyped-def]
        schema.command.downgrade(config, "base")  # drops every table, as a broken revision might
        assert not inspect(config.attributes["connection"]).has_table("customer")
        raise RuntimeError("the connection dropped")

    monkeypatch.setattr(schema.command, "upgrade", upgrade_then_fail)
    with pytest.raises(RuntimeError):
        schema.upgrade(engine)
    assert schema.database_heads(engine) == (schema.BASELINE,)
    assert {name: len(rows) for name, rows in BASELINE_ROWS.items()} == {
        name: len(_read_baseline(engine, name)) for name in BASELINE_ROWS}


def _read_baseline(engine: Engine, name: str) -> list[object]:
    with engine.connect() as connection:
        return list(connection.execute(text(f"SELECT * FROM {name}")))


def _upgrade_at_once(url: str, barrier) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(url, pool_size=1)
    barrier.wait()
    schema.upgrade(engine)


def test_several_upgrades_at_once_take_turns(engine: Engine) -> None:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(3)
    url = engine.url.render_as_string(hide_password=False)
    processes = [context.Process(target=_upgrade_at_once, args=(url, barrier)) for _ in range(3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0, 0, 0]
    assert schema.database_heads(engine) == schema.code_heads()

