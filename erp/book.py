"""Open the company's book: migrate, seed reference data, hand back an engine."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from erp.bootstrap import bootstrap
from erp.config import Settings
from erp.db import make_engine, transaction, upgrade


def open_book(settings: Settings, *, migrate: bool = True) -> Engine:
    """The engine for ``settings.database_url``, schema at head and reference data present."""
    if migrate:
        upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with transaction(engine) as session:
        bootstrap(session, settings)
    return engine
