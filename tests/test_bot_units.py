"""Pure parts of the bot (intents, pages), the stand-in's Telegram limits, the console, and log redaction."""

from __future__ import annotations

import asyncio
import io
import logging
from decimal import Decimal

import httpx
import pytest

from bot.fakeapi import FakeBotApi
from handlers.common import PAGE_TEXT, split_pages
from handlers.intents import Intent, is_greeting, parse
from tests.test_bot_helpers import ACCOUNTANT, LocalChat, company_settings, make_ctx, run, seed_company


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("库存 A001", Intent("stock", "A001")),
        ("A001还有多少", Intent("stock", "A001")),
        ("红色T恤M码库存", Intent("stock", "红色T恤M码")),
        ("stock of A001", Intent("stock", "A001")),
        ("华为欠多少", Intent("receivable", "华为")),
        ("华为还欠我们多少钱？", Intent("receivable", "华为")),
        ("how much does Huawei owe?", Intent("receivable", "Huawei")),
        ("应收账款", Intent("ar_summary")),
        ("账龄", Intent("aging")),
        ("平均回款周期", Intent("collection")),
        ("收到华为 5000", Intent("receipt", "华为", Decimal("5000"))),
        ("收到华为货款5,000.50元", Intent("receipt", "华为", Decimal("5000.50"))),
        ("received 1200 from Xiaomi", Intent("receipt", "Xiaomi", Decimal("1200"))),
        ("低库存", Intent("lowstock")),
        ("怎么开红字发票", None),
        ("库存盘点怎么做", None),  # a how-to question goes to the knowledge base, not a stock lookup
        ("账龄怎么算", None),
        ("应收账款为什么和发票对不上", None),
        ("你好", None),
        ("/stock A001", None),
    ],
)
def test_intents(text, expected):
    assert parse(text) == expected


def test_split_pages_keeps_lines_and_limits():
    text = "\n".join(f"第{i}行 " + "x" * 60 for i in range(400))
    pages = split_pages(text)
    assert len(pages) > 1
    assert all(len(p) <= PAGE_TEXT for p in pages)
    assert "\n".join(pages) == text
    long_line = "y" * (PAGE_TEXT * 2 + 5)
    assert "".join(split_pages(long_line)) == long_line


def test_stand_in_enforces_telegram_limits():
    async def scenario():
        api = await FakeBotApi().start()
        try:
            async with httpx.AsyncClient(base_url=f"{api.base_url}TOKEN/") as client:
                r = (await client.post("sendMessage", data={"chat_id": "1", "text": "x" * 4097})).json()
                assert not r["ok"] and "too long" in r["description"]
                markup = '{"inline_keyboard": [[{"text": "a", "callback_data": "' + "d" * 65 + '"}]]}'
                r = (
                    await client.post(
                        "sendMessage", data={"chat_id": "1", "text": "hi", "reply_markup": markup}
                    )
                ).json()
                assert r["description"] == "Bad Request: BUTTON_DATA_INVALID"
                sent = (await client.post("sendMessage", data={"chat_id": "1", "text": "hi"})).json()[
                    "result"
                ]
                again = {"chat_id": "1", "message_id": str(sent["message_id"]), "text": "hi"}
                r = (await client.post("editMessageText", data=again)).json()
                assert "not modified" in r["description"]
                # a text that looks like a number stays text
                r = (await client.post("sendMessage", data={"chat_id": "1", "text": "5000"})).json()
                assert r["result"]["text"] == "5000"
        finally:
            await api.stop()

    run(scenario())


def test_console_runs_the_same_handlers(engine, settings, tmp_path):
    from bot.console import Console, choose_staff

    seed_company(engine)
    ctx = make_ctx(engine, company_settings(settings))
    lines = iter(["库存 A001", "收到华为 100", "1", "/as 4242", "/as 1004", "华为欠多少", "/quit"])
    out: list[str] = []

    def read(prompt: str) -> str:
        return next(lines)

    console = Console(ctx, choose_staff(ctx, ACCOUNTANT), write=out.append, read=read, picture_dir=tmp_path)
    assert run(console.run()) == 0
    text = "\n".join(out)
    assert "现有库存：30个" in text
    assert "[1] ✅ 确认收款" in text
    assert "已收款入账" in text and "记-" in text
    assert "找不到这个员工" in text
    assert "现在您是 赵仓管" in text and "没有权限" in text


def test_token_never_reaches_the_logs(engine, settings):
    from bot.cli import setup_logging
    from bot.localchat import LOCAL_TOKEN

    stream = io.StringIO()
    cfg = company_settings(settings).model_copy(update={"telegram_bot_token": LOCAL_TOKEN})
    setup_logging(cfg, level=logging.DEBUG, stream=stream)
    seed_company(engine)
    try:

        async def scenario():
            async with LocalChat(make_ctx(engine, cfg)) as chat:
                await chat.say(chat.api.user(ACCOUNTANT), "库存 A001")
                await chat.say(chat.api.user(ACCOUNTANT), "/nosuch")

        run(scenario())
    finally:
        logging.getLogger().handlers.clear()
    logged = stream.getvalue()
    assert "Bot API URL" in logged or "getUpdates" in logged  # PTB did log its URLs at DEBUG
    assert LOCAL_TOKEN not in logged and "<TOKEN>" in logged


def test_error_handler_tells_the_user_in_plain_words(engine, settings, monkeypatch):
    import handlers.stock

    seed_company(engine)

    def broken(session, query):
        raise RuntimeError("database exploded")

    monkeypatch.setattr(handlers.stock, "stock_answer", broken)

    async def scenario():
        async with LocalChat(make_ctx(engine, company_settings(settings))) as chat:
            r = await chat.say(chat.api.user(ACCOUNTANT), "库存 A001")
            assert len(r) == 1 and "出错了" in r[0].body and "RuntimeError" in r[0].body
            assert "database exploded" not in r[0].body
            await asyncio.sleep(0)

    run(scenario())


def test_a_second_console_session_on_the_same_book_is_answered(engine, settings):
    """Fixed bug: the stand-in restarted update ids at 1, so a second session's updates were
    taken for redeliveries of the first session's and silently dropped."""
    seed_company(engine)
    cfg = company_settings(settings)

    async def session():
        async with LocalChat(make_ctx(engine, cfg)) as chat:
            r = await chat.say(chat.api.user(ACCOUNTANT), "库存 A001")
            return r[-1].body if r else ""

    assert "电阻器" in run(session())
    assert "电阻器" in run(session())


def test_webhook_mode_checks_the_secret_and_answers(engine, settings):
    import socket

    from bot.app import build_application
    from bot.cli import webhook_path

    seed_company(engine)
    token = "7000000001:WEBHOOK-TEST"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async def scenario():
        api = await FakeBotApi().start()
        app = build_application(
            make_ctx(engine, company_settings(settings)),
            token=token,
            base_url=api.base_url,
            base_file_url=api.base_file_url,
        )
        path = webhook_path(token)
        await app.initialize()
        await app.start()
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path=path,
            webhook_url=f"https://bot.example.com/{path}",
            secret_token="s3cret",
        )
        try:
            assert api.webhook == {"url": f"https://bot.example.com/{path}", "secret_token": "s3cret"}
            assert token not in path
            update = {
                "update_id": 900001,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": ACCOUNTANT, "type": "private"},
                    "from": {"id": ACCOUNTANT, "is_bot": False, "first_name": "李会计"},
                    "text": "库存 A001",
                },
            }
            async with httpx.AsyncClient() as client:
                url = f"http://127.0.0.1:{port}/{path}"
                bad = await client.post(
                    url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
                )
                assert bad.status_code == 403
                ok = await client.post(
                    url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
                )
                assert ok.status_code == 200
            reply = await api.wait_for("现有库存：30个", chat_id=ACCOUNTANT)
            assert "A001" in reply.body
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
            await api.stop()

    run(scenario())


@pytest.mark.parametrize(
    "text, greeting",
    [
        ("你好", True),
        ("您好！", True),
        ("在吗？", True),
        ("早上好呀 账房", True),
        ("Hello bot", True),
        ("你好，红冲怎么弄", False),  # a question after the hello goes to the knowledge base
        ("库存A001", False),
        ("hello world", False),
    ],
)
def test_a_greeting_alone_is_recognised(text: str, greeting: bool) -> None:
    assert is_greeting(text) is greeting
