"""Shared fixtures: a fresh migrated database per test, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import steward  # noqa: F401  (sets the Prefect environment first)
from steward.settings import reset_settings_cache
from tasks.db import dispose_engines, get_engine, upgrade_database

POSTGRES_URL = os.environ.get(
    "STEWARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _postgres_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


_PG_PROBLEM: str | None = _postgres_available()


def _with_search_path(url: str, schema: str) -> str:
    parsed = sa.engine.make_url(url)
    return parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated, empty database, first SQLite then PostgreSQL; STEWARD_DATABASE_URL points at it.

    On PostgreSQL each test gets its own schema, dropped afterwards. In CI an unreachable PostgreSQL
    fails the test; elsewhere it is skipped with the reason.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'steward.db'}"
        schema = None
    else:
        if _PG_PROBLEM is not None:
            message = f"PostgreSQL at {POSTGRES_URL} is not reachable ({_PG_PROBLEM})"
            if IN_CI:
                pytest.fail(message)
            pytest.skip(message)
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(sa.text(f'create schema "{schema}"'))
        admin.dispose()
        url = _with_search_path(POSTGRES_URL, schema)
    monkeypatch.setenv("STEWARD_DATABASE_URL", url)
    monkeypatch.setenv("STEWARD_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("STEWARD_SECRET_KEY", "test-secret-key")
    reset_settings_cache()
    dispose_engines()
    upgrade_database(url)
    try:
        yield url
    finally:
        dispose_engines()
        reset_settings_cache()
        if schema is not None:
            admin = sa.create_engine(POSTGRES_URL)
            with admin.begin() as conn:
                conn.execute(sa.text(f'drop schema "{schema}" cascade'))
            admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated SQLite database only, for tests whose subject is not the database engine."""
    url = f"sqlite:///{tmp_path / 'steward.db'}"
    monkeypatch.setenv("STEWARD_DATABASE_URL", url)
    monkeypatch.setenv("STEWARD_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("STEWARD_SECRET_KEY", "test-secret-key")
    reset_settings_cache()
    dispose_engines()
    upgrade_database(url)
    yield url
    dispose_engines()
    reset_settings_cache()


@pytest.fixture
def engine(db_url: str) -> sa.Engine:
    return get_engine(db_url)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One Prefect test server for the whole session (6-10 s to start), for tests that run flows."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
