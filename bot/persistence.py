"""PTB persistence in the company database (table ``bot_state``), not a pickle file.

Per-chat and per-user data and conversation states are stored as JSON, so a
restarted bot resumes each chat where it was. ``bot_data`` is not persisted: it
holds the AppContext built at start-up. Business state (invoices, pending
receipts) never lives here; it is in its own tables and buttons carry its ids.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select
from telegram.ext import BasePersistence, PersistenceInput

from erp.db import reading, transaction
from erp.models import BotState
from values import clock

USER, CHAT, CONVERSATION = "user_data", "chat_data", "conversation"


class DbPersistence(BasePersistence):
    def __init__(self, engine: Engine, *, update_interval: float = 1.0) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=True, user_data=True, callback_data=False),
            update_interval=update_interval,
        )
        self.engine = engine
        self._written: dict[tuple[str, str], str] = {}  # what the table holds, to skip no-op writes

    # --- storage -----------------------------------------------------------

    def _load(self, kind: str) -> dict[str, Any]:
        with reading(self.engine) as s:
            rows = s.exec(select(BotState.key, BotState.data).where(BotState.kind == kind)).all()
        out = {}
        for key, data in rows:
            self._written[(kind, key)] = data
            out[key] = json.loads(data)
        return out

    def _store(self, kind: str, key: str, value: Any) -> None:
        data = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        if self._written.get((kind, key)) == data:
            return
        with transaction(self.engine) as s:
            row = s.get(BotState, (kind, key))
            if row is None:
                row = BotState(kind=kind, key=key, data=data)
            else:
                row.data, row.updated_at = data, clock.now()
            s.add(row)
        self._written[(kind, key)] = data

    def _drop(self, kind: str, key: str) -> None:
        with transaction(self.engine) as s:
            row = s.get(BotState, (kind, key))
            if row is not None:
                s.delete(row)
        self._written.pop((kind, key), None)

    # --- BasePersistence ---------------------------------------------------

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return defaultdict(dict, {int(k): v for k, v in self._load(USER).items()})

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return defaultdict(dict, {int(k): v for k, v in self._load(CHAT).items()})

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def get_conversations(self, name: str) -> dict:
        out = {}
        for key, state in self._load(CONVERSATION).items():
            conv, _, raw = key.partition(":")
            if conv == name:
                out[tuple(json.loads(raw))] = state
        return out

    async def update_conversation(self, name: str, key: tuple, new_state: object | None) -> None:
        ckey = f"{name}:{json.dumps(list(key))}"
        if new_state is None:
            self._drop(CONVERSATION, ckey)
        else:
            self._store(CONVERSATION, ckey, new_state)

    async def update_user_data(self, user_id: int, data: dict) -> None:
        self._store(USER, str(user_id), data)

    async def update_chat_data(self, chat_id: int, data: dict) -> None:
        self._store(CHAT, str(chat_id), data)

    async def update_bot_data(self, data: dict) -> None:
        return None

    async def update_callback_data(self, data: object) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        self._drop(CHAT, str(chat_id))

    async def drop_user_data(self, user_id: int) -> None:
        self._drop(USER, str(user_id))

    async def refresh_user_data(self, user_id: int, user_data: dict) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict) -> None:
        return None

    async def flush(self) -> None:
        return None
