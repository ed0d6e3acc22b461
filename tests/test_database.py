"""The reference database: migrations build exactly the schema, and `db init` is idempotent."""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tasks.db import get_engine, upgrade_database
from tasks.schema import metadata


def test_migrations_build_exactly_the_schema(db_url: str) -> None:
    with get_engine(db_url).connect() as conn, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes; alembic warns and skips them there.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diffs == []


def test_upgrade_twice_changes_nothing(db_url: str) -> None:
    engine = get_engine(db_url)
    tables_before = set(sa.inspect(engine).get_table_names())
    before, after = upgrade_database(db_url)
    assert before == after
    assert set(sa.inspect(engine).get_table_names()) == tables_before
    assert set(metadata.tables) <= tables_before


def test_the_migration_history_is_one_line() -> None:
    from alembic.script import ScriptDirectory

    from tasks.db import alembic_config

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"parallel migration heads {heads}: chain them (set down_revision)"


def test_every_migration_downgrades_to_empty_and_upgrades_again(sqlite_url: str) -> None:
    from alembic import command

    from tasks.db import alembic_config

    engine = get_engine(sqlite_url)
    config = alembic_config(sqlite_url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    before, after = upgrade_database(sqlite_url)
    assert before is None and after is not None
    assert set(metadata.tables) <= set(sa.inspect(engine).get_table_names())


def test_bulk_writes_checkpoint_in_the_background_and_restore_the_connection(sqlite_url: str) -> None:
    import os
    import threading
    import time

    from tasks.db import sqlite_bulk_writes

    engine = get_engine(sqlite_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("create table bulk_probe (id integer primary key, payload text)")
    path = engine.url.database
    assert path

    def checkpointers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "steward-sqlite-checkpointer"]

    def settings(conn: sa.Connection) -> dict[str, object]:
        names = ("cache_size", "temp_store", "wal_autocheckpoint")
        values = {name: conn.exec_driver_sql(f"pragma {name}").scalar() for name in names}
        conn.commit()
        return values

    with engine.connect() as conn:
        before = settings(conn)
        with sqlite_bulk_writes(conn):
            assert len(checkpointers()) == 1
            assert conn.exec_driver_sql("pragma temp_store").scalar() == 2  # memory
            conn.commit()
            size = os.path.getsize(path)
            for start in range(0, 20_000, 2_000):  # about 2,500 pages of WAL, past SQLite's 1,000
                with conn.begin():
                    conn.exec_driver_sql(
                        "insert into bulk_probe (payload) values (?)",
                        [("x" * 400,) for _ in range(start, start + 2_000)],
                    )
            # New pages reach the database file only through a checkpoint, and the writer's own waits
            # for 100,000 pages: the file grows because the background thread copies the WAL into it.
            deadline = time.monotonic() + 10
            while os.path.getsize(path) < size + 8_000_000 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert os.path.getsize(path) >= size + 8_000_000
        assert settings(conn) == before
        assert checkpointers() == []
        assert conn.exec_driver_sql("select count(*) from bulk_probe").scalar() == 20_000
