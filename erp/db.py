"""The one place that makes engines and sessions.

Services take a keyword-only ``session`` and never commit; the caller opens one
transaction per business action with ``transaction(engine)`` so two writes of
one voucher are one commit or none.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel, create_engine

from erp.config import ROOT


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if path and path != ":memory:":
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One business action: commit on success, roll back everything on any error."""
    with Session(engine, expire_on_commit=False) as session:
        if engine.dialect.name == "sqlite":
            # Take the write lock now: a deferred transaction that reads and then
            # writes fails with "database is locked" if another writer got there first.
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A read-only unit of work. Closing (not rolling back) keeps the loaded rows usable
    after the block: a rollback would expire them and a later attribute access would fail."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


def create_schema(engine: Engine) -> None:
    """Create all tables from the models (tests); production uses Alembic (``upgrade``)."""
    import erp.models  # noqa: F401  - registers the tables

    SQLModel.metadata.create_all(engine)


def upgrade(url: str) -> None:
    """Apply Alembic migrations up to head."""
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "head")


def cents_sum(expr: ColumnElement) -> ColumnElement:
    """SUM of a money column as whole cents: exact on SQLite (REAL storage) and PostgreSQL."""
    return func.coalesce(func.sum(func.round(expr * 100)), 0)


def qty_sum(expr: ColumnElement) -> ColumnElement:
    """SUM of a quantity column in ten-thousandths, exact on both databases."""
    return func.coalesce(func.sum(func.round(expr * 10000)), 0)
