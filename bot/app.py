"""Build the Telegram ``Application``: the same one for Telegram, the console and the tests.

``build_application`` stores the ``AppContext`` in ``bot_data``, registers every module of
``HANDLER_MODULES`` (a module not written yet is skipped), installs the one error
handler, and at start-up sets the command menu and lets ``scheduler.jobs`` add its jobs.
"""

from __future__ import annotations

import html
import importlib
import logging
from typing import Any

from telegram import BotCommand, Update
from telegram.error import NetworkError
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.context import KEY, AppContext

log = logging.getLogger(__name__)

# order matters inside a handler group: the first matching handler answers
HANDLER_MODULES = [
    "handlers.auth",
    "handlers.staff",
    "handlers.bulk",  # before invoices: a zip is a batch, not one invoice
    "handlers.invoices",
    "handlers.stock",
    "handlers.receivables",
    "handlers.vouchers",
    "handlers.accounts",
    "handlers.reminders",
    "handlers.support",
    "handlers.text",
    "handlers.start",
]


def _import_optional(name: str) -> Any | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None  # that part of the product is not built yet
        raise


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log with context; tell the user in plain words (never a traceback, never silence)."""
    who = chat = None
    if isinstance(update, Update):
        who = update.effective_user.id if update.effective_user else None
        chat = update.effective_chat.id if update.effective_chat else None
        what = (
            f"callback {update.callback_query.data!r}"
            if update.callback_query
            else f"message {update.effective_message.text[:80]!r}"
            if update.effective_message and update.effective_message.text
            else "update"
        )
        log.error(
            "error handling update %s (user %s, chat %s, %s)",
            update.update_id,
            who,
            chat,
            what,
            exc_info=context.error,
        )
    elif isinstance(context.error, NetworkError):  # Telegram unreachable for a moment: PTB retries
        log.warning("network problem talking to the Bot API (retrying): %s", context.error)
    else:
        log.error("error outside an update: %r", update, exc_info=context.error)
    if chat is not None:
        try:
            await context.bot.send_message(
                chat,
                "😥 抱歉，处理这条消息时出错了，数据没有改动。请稍后再试；"
                f"如果一直出错，请把这句话转给管理员：{html.escape(type(context.error).__name__)}",
            )
        except Exception:  # noqa: BLE001 - the error path must not raise again
            log.warning("could not tell chat %s about the error", chat)


async def _post_init(application: Application) -> None:
    from handlers.start import COMMANDS

    await application.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])
    jobs = _import_optional("scheduler.jobs")
    if jobs is not None:
        jobs.schedule(application)


async def _post_shutdown(application: Application) -> None:
    from bot.ocr import shutdown

    ctx: AppContext | None = application.bot_data.get(KEY)
    if ctx is not None:
        shutdown(ctx)  # the reader pool this application started, if any


def build_application(
    ctx: AppContext,
    *,
    token: str,
    base_url: str | None = None,
    base_file_url: str | None = None,
    persistence: bool = True,
    application_class: type[Application] | None = None,
    updater: bool = True,
) -> Application:
    builder: ApplicationBuilder = Application.builder().token(token)
    if base_url:
        builder = builder.base_url(base_url)
    if base_file_url:
        builder = builder.base_file_url(base_file_url)
    if persistence:
        from bot.persistence import DbPersistence

        builder = builder.persistence(DbPersistence(ctx.engine))
    if application_class is not None:
        builder = builder.application_class(application_class)
    if not updater:
        builder = builder.updater(None)
    from bot.updates import ChatOrderedProcessor

    builder = (
        builder.concurrent_updates(ChatOrderedProcessor(32))
        .connect_timeout(10)
        .read_timeout(30)
        .write_timeout(30)
        .pool_timeout(10)
        .connection_pool_size(64)
        .get_updates_read_timeout(40)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    application = builder.build()
    application.bot_data[KEY] = ctx
    for name in HANDLER_MODULES:
        module = _import_optional(name)
        if module is not None:
            module.register(application)
    application.add_error_handler(on_error)
    return application
