"""Database access: the one engine factory, the SQL-file loader and schema migration."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, TextClause, create_engine, event, text
from sqlalchemy.engine import make_url

from steward import PROJECT_ROOT
from steward.settings import get_settings

SQL_DIR = PROJECT_ROOT / "sql"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


class SqlFileNotFound(LookupError):
    pass


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


LARGE_PAGE_CACHE_KIB = 262_144
"""SQLite page cache for work that probes indexes all over a big file (bulk inserts, joins, erasures)."""


@contextmanager
def sqlite_page_cache(conn: Connection, kib: int = LARGE_PAGE_CACHE_KIB) -> Iterator[None]:
    """Give `conn` a page cache of `kib` KiB for the block (SQLite; nothing elsewhere), then its own back.

    SQLite's default (2 MB) is right for most work, and for streaming reads a large cache is worse (a
    fresh buffer for every page read, twice as slow): so a large cache is asked for where it pays."""
    if conn.dialect.name != "sqlite":
        yield
        return
    previous = conn.exec_driver_sql("pragma cache_size").scalar()
    conn.exec_driver_sql(f"pragma cache_size = -{int(kib)}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"pragma cache_size = {int(previous or -2000)}")


BULK_WAL_AUTOCHECKPOINT_PAGES = 100_000
"""The writer's own checkpoint during bulk writes, should the background one fall behind: every 100,000
WAL pages (400 MB) instead of SQLite's 1,000."""

BULK_PAGE_CACHE_KIB = 131_072
"""The page cache of `sqlite_bulk_writes` (128 MiB). Measured on the retention sweep at 1,000,000 accounts
(a 4.2 GB database, whole sweep in one process): 128 MiB applied in 179 s with a peak of 927 MB, 192 MiB
in 179 s with 973 MB, 256 MiB in 156 to 169 s (three runs) with 1,061 MB, past the sweep's 1 GB budget.
Keeping the cache warm across transactions matters more than its size (the OS caches the file too)."""

CHECKPOINT_INTERVAL_SECONDS = 0.5
"""How often the background checkpointer of `sqlite_bulk_writes` copies the WAL into the database."""


class _Checkpointer(threading.Thread):
    """Copies committed WAL frames into the database file from its own connection, every
    `interval` seconds, so the writer never stops to do it (a passive checkpoint never blocks a writer,
    and the sqlite3 module releases the GIL while it runs)."""

    def __init__(self, path: str, interval: float = CHECKPOINT_INTERVAL_SECONDS) -> None:
        super().__init__(name="steward-sqlite-checkpointer", daemon=True)
        self.path = path
        self.interval = interval
        self.stopping = threading.Event()
        self.checkpoints = 0

    def run(self) -> None:
        db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        try:
            while not self.stopping.wait(self.interval):
                try:
                    db.execute("pragma wal_checkpoint(passive)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error:  # busy with another checkpoint: the next round catches up
                    continue
        finally:
            db.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join()


@contextmanager
def background_checkpoints(engine: Engine) -> Iterator[None]:
    """While the block runs, a thread of this process checkpoints the WAL of `engine`'s SQLite file every
    `CHECKPOINT_INTERVAL_SECONDS`, on its own connection (nothing elsewhere, or for a database in memory).

    For bulk writers that raise their own `wal_autocheckpoint` to `BULK_WAL_AUTOCHECKPOINT_PAGES`, here
    (`sqlite_bulk_writes`) or in worker processes (the content scan's): the copying and its fsync then
    happen beside the writers instead of inside whichever commit crosses 1,000 WAL pages."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    checkpointer = _Checkpointer(database)
    checkpointer.start()
    try:
        yield
    finally:
        checkpointer.stop()


@contextmanager
def sqlite_bulk_writes(conn: Connection, kib: int = BULK_PAGE_CACHE_KIB) -> Iterator[None]:
    """Set `conn` up for a long run of write transactions (SQLite; nothing elsewhere), then restore it.

    Hold one connection across the transactions: its page cache (`kib`) stays warm between them (SQLite
    keeps it while no other connection writes). Besides: statement journals in memory (a
    multi-row DELETE under foreign keys otherwise spills its journal to a temporary file), and the
    WAL checkpointed by a background thread on its own connection instead of by the writer at every
    commit past 1,000 pages: checkpoints then run on the other core (the writer checkpoints itself only
    past `BULK_WAL_AUTOCHECKPOINT_PAGES`, should that thread fall behind). Measured on the retention sweep at
    1,000,000 accounts (issue 5)."""
    database = conn.engine.url.database
    if conn.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    temp_store = conn.exec_driver_sql("pragma temp_store").scalar()
    autocheckpoint = conn.exec_driver_sql("pragma wal_autocheckpoint").scalar()
    conn.exec_driver_sql("pragma temp_store = memory")
    conn.exec_driver_sql(f"pragma wal_autocheckpoint = {BULK_WAL_AUTOCHECKPOINT_PAGES}")
    conn.commit()  # the pragma reads began a transaction (SQLAlchemy autobegin)
    try:
        with background_checkpoints(conn.engine), sqlite_page_cache(conn, kib):
            conn.commit()
            yield
    finally:
        if conn.in_transaction():
            conn.rollback()
        conn.exec_driver_sql(f"pragma wal_autocheckpoint = {int(autocheckpoint or 1000)}")
        conn.exec_driver_sql(f"pragma temp_store = {int(temp_store or 0)}")
        conn.exec_driver_sql("pragma wal_checkpoint(passive)")
        conn.commit()


_ENGINES: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url` (default: the configured database), created once per process."""
    url = url or get_settings().database_url
    engine = _ENGINES.get(url)
    if engine is not None:
        return engine
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    _ENGINES[url] = engine
    return engine


def dispose_engines() -> None:
    """Close every pooled connection and forget the engines (after a fork, or between tests)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


def dialect_name(bind: Engine | Connection) -> str:
    return bind.dialect.name


@cache
def _read_sql(name: str, dialect: str) -> str:
    specific = SQL_DIR / f"{name}.{dialect}.sql"
    generic = SQL_DIR / f"{name}.sql"
    for path in (specific, generic):
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise SqlFileNotFound(f"no SQL file sql/{name}.sql (nor sql/{name}.{dialect}.sql)")


def sql(name: str, bind: Engine | Connection) -> TextClause:
    """The statement in sql/<name>.sql, or sql/<name>.<dialect>.sql where the dialects differ."""
    return text(_read_sql(name, dialect_name(bind)))


def run_sql(conn: Connection, name: str, params: Mapping[str, Any] | None = None) -> Any:
    """Execute sql/<name>.sql with bound parameters only."""
    return conn.execute(sql(name, conn), dict(params or {}))


@contextmanager
def begin(url: str | None = None) -> Iterator[Connection]:
    """A connection inside one transaction, committed on success, rolled back on error."""
    with get_engine(url).begin() as conn:
        yield conn


def alembic_config(url: str | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", (url or get_settings().database_url).replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade_database(url: str | None = None) -> tuple[str | None, str | None]:
    """Bring the schema to the newest migration; idempotent. Returns (revision before, after)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    def current(conn: Connection) -> str | None:
        # Parallel branches (one revision per concern, chained later) leave several heads.
        heads = sorted(MigrationContext.configure(conn).get_current_heads())
        return ",".join(heads) or None

    engine = get_engine(url)
    with engine.connect() as conn:
        before = current(conn)
    config = alembic_config(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "heads")
    with engine.connect() as conn:
        after = current(conn)
    return before, after


def table_counts(conn: Connection, tables: list[str]) -> dict[str, int]:
    """Row counts of named tables (names come from the schema metadata, never from input)."""
    from sqlalchemy import func, select

    from tasks.schema import metadata

    counts: dict[str, int] = {}
    for name in tables:
        table = metadata.tables[name]
        counts[name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
    return counts
