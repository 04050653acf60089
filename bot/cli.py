"""``python main.py bot`` (Telegram) and ``python main.py chat`` (the same bot in a terminal).

Environment: TELEGRAM_BOT_TOKEN; TELEGRAM_BASE_URL / TELEGRAM_BASE_FILE_URL for a
self-hosted Bot API server; TELEGRAM_WEBHOOK_URL (+ TELEGRAM_WEBHOOK_SECRET) for webhook
mode; ZHANGFANG_ADMIN_IDS for the first admins. The token never reaches the logs.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
from typing import TextIO

from bot.context import AppContext
from erp.config import Settings, get_settings


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then blanks out secrets (PTB and httpx put the token in URLs)."""

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "<TOKEN>")
        return text


def setup_logging(settings: Settings, *, level: int = logging.INFO, stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    secrets = [settings.telegram_bot_token or "", settings.webhook_secret or ""]
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL, and Bot API URLs contain the token
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def webhook_path(token: str) -> str:
    """A URL path that is stable for a bot but does not reveal its token."""
    return "telegram-" + hashlib.sha256(token.encode()).hexdigest()[:16]


def make_context(settings: Settings, *, migrate: bool = True) -> AppContext:
    from erp.book import open_book

    engine = open_book(settings, migrate=migrate)
    return AppContext(settings=settings, engine=engine)


def _maybe_demo(ctx: AppContext, seed: int) -> None:
    """An empty book gets the demo company (when the demo generator is installed)."""
    try:
        from erp import demo
    except ImportError:
        return
    if demo.is_empty(ctx.engine):
        print("数据库为空，正在生成示例公司…", file=sys.stderr)
        demo.generate_demo(ctx.engine, ctx.settings, seed=seed)


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.console import run_console

    settings = get_settings()
    if args.db:
        settings = settings.model_copy(update={"database_url": args.db})
    setup_logging(settings, level=logging.WARNING)
    ctx = make_context(settings)
    if not args.no_demo:
        _maybe_demo(ctx, args.seed)
    return run_console(ctx, args.as_id)


def cmd_bot(args: argparse.Namespace) -> int:
    from telegram import Update

    from bot.app import build_application
    from invoice_ocr.pool import InvoicePool

    settings = get_settings()
    if not settings.telegram_bot_token:
        print("需要设置 TELEGRAM_BOT_TOKEN（或用 `python main.py chat` 在终端里试用）", file=sys.stderr)
        return 2
    setup_logging(settings, level=logging.DEBUG if args.verbose else logging.INFO)
    log = logging.getLogger("zhangfang.bot")
    ctx = make_context(settings)
    ctx.ocr_pool = InvoicePool.from_settings(settings)
    application = build_application(
        ctx,
        token=settings.telegram_bot_token,
        base_url=settings.telegram_base_url,
        base_file_url=settings.telegram_base_file_url,
    )
    webhook_url = args.webhook_url or settings.webhook_url
    try:
        if webhook_url:
            path = webhook_path(settings.telegram_bot_token)
            log.info("webhook mode on %s:%s, path /%s", args.listen, args.port, path)
            application.run_webhook(
                listen=args.listen,
                port=args.port,
                url_path=path,
                webhook_url=webhook_url.rstrip("/") + "/" + path,
                secret_token=settings.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            log.info(
                "long polling%s", f" via {settings.telegram_base_url}" if settings.telegram_base_url else ""
            )
            application.run_polling(allowed_updates=Update.ALL_TYPES)
    finally:
        ctx.ocr_pool.close()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("chat", help="在终端里和账房对话（与 Telegram 上同一套处理逻辑）")
    p.add_argument(
        "--as", dest="as_id", type=int, default=None, metavar="TELEGRAM_ID", help="以哪位员工身份对话"
    )
    p.add_argument("--db", default=None, help="数据库 URL（默认 DATABASE_URL）")
    p.add_argument("--no-demo", action="store_true", help="数据库为空时不生成示例公司")
    p.add_argument("--seed", type=int, default=7, help="示例公司的随机种子")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("bot", help="运行 Telegram 机器人（长轮询，或设置 TELEGRAM_WEBHOOK_URL 用 webhook）")
    p.add_argument("--webhook-url", default=None, help="webhook 的公网地址（默认 TELEGRAM_WEBHOOK_URL）")
    p.add_argument("--listen", default="0.0.0.0", help="webhook 监听地址")
    p.add_argument("--port", type=int, default=8443, help="webhook 监听端口")
    p.add_argument("--verbose", action="store_true", help="调试日志（令牌仍会被隐藏）")
    p.set_defaults(func=cmd_bot)
