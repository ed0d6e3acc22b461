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
