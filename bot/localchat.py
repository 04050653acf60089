"""The real Application against the local Bot API stand-in: used by the console, tests and bench.

    chat = await LocalChat(ctx).start()
    replies = await chat.say(user, "库存 A001")        # messages the bot sent/edited for it
    await chat.press(user, replies[-1], "确认入账")      # a button, as a callback query
    await chat.restart()                                 # a new Application on the same database
    await chat.stop()

Updates go through ``getUpdates`` long polling like on Telegram; ``say`` returns once the
Application has finished processing that update (background work such as OCR may still run;
``chat.api.wait_for`` waits for its messages).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from telegram.ext import Application

from bot.app import build_application
from bot.context import AppContext
from bot.fakeapi import BOT_USER, FakeBotApi, SentMessage
from erp.models import ProcessedUpdate

LOCAL_TOKEN = "7000000001:LOCAL-console-token"


def last_update_id(engine: Engine) -> int:
    """The highest update id the local bot has handled in this book (0 if none)."""
    with engine.connect() as conn:
        value = conn.execute(
            select(func.max(ProcessedUpdate.update_id)).where(ProcessedUpdate.bot_id == BOT_USER["id"])
        ).scalar()
    return int(value or 0)


class TrackingApplication(Application):
    """An Application that says when each update is fully processed (all handler groups ran)."""

    async def process_update(self, update: object) -> None:
        try:
            await super().process_update(update)
        finally:
            tracker = getattr(self, "zf_tracker", None)
            if tracker is not None:
                await tracker.done(getattr(update, "update_id", None))


class _Tracker:
    def __init__(self) -> None:
        self.finished: set[int] = set()
        self.changed = asyncio.Condition()

    async def done(self, update_id: int | None) -> None:
        async with self.changed:
            if update_id is not None:
                self.finished.add(update_id)
            self.changed.notify_all()

    async def wait(self, update_id: int, timeout: float) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: update_id in self.finished), timeout)
        self.finished.discard(update_id)


class LocalChat:
    def __init__(
        self,
        ctx: AppContext | Callable[[], AppContext],
        *,
        persistence: bool = True,
        api: FakeBotApi | None = None,
    ) -> None:
        self._ctx_factory = ctx if callable(ctx) else (lambda: ctx)
        self.persistence = persistence
        self.api = api or FakeBotApi()
        self.app: Application | None = None
        self.tracker = _Tracker()

    @property
    def ctx(self) -> AppContext:
        from bot.context import KEY

        return self.app.bot_data[KEY]

    async def start(self) -> LocalChat:
        if self.api.port is None:
            await self.api.start()
        ctx = self._ctx_factory()
        self.api.continue_update_ids_after(last_update_id(ctx.engine))
        self.app = build_application(
            ctx,
            token=LOCAL_TOKEN,
            base_url=self.api.base_url,
            base_file_url=self.api.base_file_url,
            persistence=self.persistence,
            application_class=TrackingApplication,
        )
        self.app.zf_tracker = self.tracker  # type: ignore[attr-defined]
        await self.app.initialize()
        if self.app.post_init:
            await self.app.post_init(self.app)
        await self.app.start()
        await self.app.updater.start_polling(poll_interval=0.0, timeout=5, drop_pending_updates=False)
        return self

    async def stop_app(self) -> None:
        if self.app is None:
            return
        if self.app.updater.running:
            await self.api.pause_polling()
            await self.app.updater.stop()
            await self.api.pause_polling(False)
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        if self.app.post_shutdown:
            await self.app.post_shutdown(self.app)
        self.app = None

    async def restart(self) -> None:
        """Stop the Application and start a new one (new AppContext) against the same stand-in."""
        await self.stop_app()
        await self.start()

    async def stop(self) -> None:
        await self.stop_app()
        await self.api.stop()

    async def __aenter__(self) -> LocalChat:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- talking -------------------------------------------------------------

    async def _processed(self, update_id: int, mark: int, chat_id: int, timeout: float) -> list[SentMessage]:
        await self.tracker.wait(update_id, timeout)
        return self.api.since(mark, chat_id)

    async def say(self, user: dict, text: str, *, timeout: float = 15.0) -> list[SentMessage]:
        mark = self.api.mark()
        uid = await self.api.push_text(user, text)
        return await self._processed(uid, mark, user["id"], timeout)

    async def send_document(
        self, user: dict, content: bytes, file_name: str, mime_type: str = "application/pdf", *, timeout: float = 15.0,
        media_group_id: str | None = None,
    ) -> list[SentMessage]:  # fmt: skip
        mark = self.api.mark()
        uid = await self.api.push_document(user, content, file_name, mime_type, media_group_id=media_group_id)
        return await self._processed(uid, mark, user["id"], timeout)

    async def send_photo(self, user: dict, content: bytes, *, timeout: float = 15.0) -> list[SentMessage]:
        mark = self.api.mark()
        uid = await self.api.push_photo(user, content)
        return await self._processed(uid, mark, user["id"], timeout)

    async def press(
        self, user: dict, message: SentMessage, label_or_data: str, *, timeout: float = 15.0
    ) -> list[SentMessage]:
        """Tap a button of ``message`` by (part of) its label, or by its exact callback data."""
        data = next((d for _, d in message.buttons if d == label_or_data), None) or message.button(
            label_or_data
        )
        mark = self.api.mark()
        uid = await self.api.push_callback(user, message.message_id, data)
        return await self._processed(uid, mark, user["id"], timeout)

    async def replay(self, update_id: int, chat_id: int, *, timeout: float = 15.0) -> list[SentMessage]:
        mark = self.api.mark()
        await self.api.replay(update_id)
        return await self._processed(update_id, mark, chat_id, timeout)
