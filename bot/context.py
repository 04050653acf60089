"""What every handler and job needs, built once at start-up and kept in ``application.bot_data``.

Conventions shared by the whole bot:
- ``bot/app.py`` builds the Application and calls ``register(application)`` of each module in
  ``HANDLER_MODULES`` (``handlers/<feature>.py``), and ``scheduler.jobs.schedule(application)``.
- A handler gets the context with ``app_context(context)``; it opens one transaction per
  business action with ``erp.db.transaction(ctx.engine)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from erp.config import Settings

KEY = "zhangfang"


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    ocr_pool: Any = None  # invoice_ocr.pool.OcrPool when the bot runs
    extras: dict[str, Any] = field(default_factory=dict)


def app_context(context: Any) -> AppContext:
    """From a PTB CallbackContext (or an Application): the shared AppContext."""
    bot_data = context.bot_data if hasattr(context, "bot_data") else context.application.bot_data
    return bot_data[KEY]
