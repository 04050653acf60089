"""Fixtures: every test gets a fresh database.

SQLite (default): a template file with the schema and reference data is built
once per run and copied for each test. PostgreSQL (TEST_DATABASE_URL set, as in
CI): the schema is created once, and every table is truncated and re-seeded
before each test. Tests that use a database are marked ``db`` automatically;
under PostgreSQL only those run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from erp.bootstrap import bootstrap
from erp.config import Settings
from erp.db import create_schema, make_engine

PG_URL = os.environ.get("TEST_DATABASE_URL")
DB_FIXTURES = {"engine", "session", "db_url"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    create_schema(engine)
    with Session(engine) as s:
        bootstrap(s)
        s.commit()
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_engine() -> Iterator[Engine | None]:
    if not PG_URL:
        yield None
        return
    engine = make_engine(PG_URL)
    import erp.models  # noqa: F401

    SQLModel.metadata.drop_all(engine)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def db_url(tmp_path: Path, _sqlite_template: Path, _pg_engine: Engine | None) -> str:
    """URL of a fresh, seeded database for this test."""
    if _pg_engine is not None:
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with _pg_engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        with Session(_pg_engine) as s:
            bootstrap(s)
            s.commit()
        return PG_URL  # type: ignore[return-value]
    path = tmp_path / "book.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(db_url: str, _pg_engine: Engine | None) -> Iterator[Engine]:
    if _pg_engine is not None:
        yield _pg_engine
        return
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session for arranging and asserting; services are called with it and it is committed by the test."""
    with Session(engine, expire_on_commit=False) as s:
        yield s
        s.rollback()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        DATABASE_URL=db_url,
        TELEGRAM_BOT_TOKEN=None,
        ZHANGFANG_STORAGE_DIR=tmp_path / "files",
        ZHANGFANG_ADMIN_IDS="",
        _env_file=None,
    )
