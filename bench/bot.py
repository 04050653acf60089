"""The chat bot under load: text queries through the whole stack, and latency while invoices are read.

    PYTHONPATH=. OMP_THREAD_LIMIT=1 python bench/bot.py [--queries 1000] [--photos 4]

The bot process runs exactly what ``python main.py bot`` runs (the PTB Application, long
polling, the staff gate that records every update id, the handlers, a SQLite book, the
invoice reader pool). Telegram is the local stand-in (bot/fakeapi.py) in a *separate
process*, as Telegram is not in the bot's process either; that process also plays the
users and times everything from "user sends" to "reply arrives".

1. floor: the stand-in alone, a sendMessage round trip over HTTP (no bot);
2. baseline: /help through the whole stack (gate + one reply, no business query);
3. throughput: N stock and receivable questions from 8 staff at once, until all answered —
   first with every answer computed from the book, then with ``handlers.answer_cache``
   (answers reused while the book's watermark is unchanged: the same 7 questions repeat);
4. latency idle, then latency while 4 photo invoices are read in the worker pool.
Targets: ≥ 200 queries/s; p95 < 150 ms during OCR.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from values import clock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

QUESTIONS = [
    "库存 A001",
    "A001还有多少",
    "红色T恤M码库存",
    "华为欠多少",
    "账龄",
    "stock of T-RED-L",
    "小米欠多少",
]
ACCOUNTANT = 1002
USERS = [7100 + i for i in range(8)]  # accountants who only ask questions


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# --- the stand-in process: Telegram and the users ------------------------------------------


def stand_in_main(conn) -> None:  # noqa: ANN001 - a multiprocessing Connection
    asyncio.run(_stand_in(conn))


async def _stand_in(conn) -> None:  # noqa: ANN001
    from bot.fakeapi import FakeBotApi

    api = await FakeBotApi().start()
    conn.send(api.port)
    loop = asyncio.get_running_loop()
    while True:
        cmd, *args = await loop.run_in_executor(None, conn.recv)
        if cmd == "stop":
            break
        conn.send(await globals()[f"_do_{cmd}"](api, *args))
    await api.stop()


async def _replies(api, mark: int, chats: set[int], count: int, timeout: float = 120) -> None:  # noqa: ANN001
    def enough() -> bool:
        return sum(1 for e in api.events[mark:] if e.kind == "send" and e.message.chat_id in chats) >= count

    async with api._events_changed:
        await asyncio.wait_for(api._events_changed.wait_for(enough), timeout)


async def _do_floor(api, n: int) -> float:  # noqa: ANN001
    import httpx

    async with httpx.AsyncClient(base_url=f"{api.base_url}TOKEN/") as client:
        start = time.perf_counter()
        for i in range(n):
            await client.post("sendMessage", data={"chat_id": "1", "text": f"ping {i}"})
        return n / (time.perf_counter() - start)


async def _do_burst(api, n: int, questions: list[str]) -> float:  # noqa: ANN001
    mark = api.mark()
    start = time.perf_counter()
    for i in range(n):
        uid = USERS[i % len(USERS)]
        await api.push_text(api.user(uid), questions[i % len(questions)])
    await _replies(api, mark, set(USERS), n)
    return n / (time.perf_counter() - start)


async def _one(api, user_id: int, text: str) -> float:  # noqa: ANN001
    mark = api.mark()
    start = time.perf_counter()
    await api.push_text(api.user(user_id), text)
    await _replies(api, mark, {user_id}, 1, timeout=60)
    return (time.perf_counter() - start) * 1000


async def _do_latency(api, n: int) -> list[float]:  # noqa: ANN001
    return [await _one(api, USERS[0], QUESTIONS[i % len(QUESTIONS)]) for i in range(n)]


async def _do_ocr(api, images: list[bytes]) -> tuple[list[float], float, int]:  # noqa: ANN001
    mark = api.mark()
    start = time.perf_counter()
    for img in images:
        await api.push_photo(api.user(ACCOUNTANT), img)

    def cards() -> int:
        return sum(
            1
            for m in api.since(mark, ACCOUNTANT)
            if any("确认入账" in label for label, _ in m.buttons) or "⚠️" in m.body
        )

    samples: list[float] = []
    i = 0
    while cards() < len(images) and time.perf_counter() - start < 600:
        samples.append(await _one(api, USERS[1], QUESTIONS[i % len(QUESTIONS)]))
        i += 1
        await asyncio.sleep(0.05)  # a busy office: a question every ~50 ms
    return samples, time.perf_counter() - start, cards()


# --- the bot process -------------------------------------------------------------------------


def make_book(tmp: Path):  # noqa: ANN201
    from erp.bootstrap import bootstrap
    from erp.db import create_schema, make_engine, transaction
    from erp.staff import add_staff
    from tests.test_bot_helpers import seed_company

    url = f"sqlite:///{tmp / 'book.db'}"
    engine = make_engine(url)
    create_schema(engine)
    with transaction(engine) as s:
        bootstrap(s)
    seed_company(engine)
    with transaction(engine) as s:
        for uid in USERS:
            add_staff(s, telegram_id=uid, name=f"会计{uid}", role="accountant")
    return url, engine


def photos(count: int) -> list[bytes]:
    import datetime as dt
    from decimal import Decimal

    from tests.factories import OUR_NAME, OUR_TAX_ID
    from tests.invoice_corpus.data import TruthInvoice, TruthLine
    from tests.invoice_corpus.render import to_photo_jpeg
    from values.taxid import make_uscc

    out = []
    for i in range(count):
        inv = TruthInvoice(
            key=f"bench{i}",
            invoice_type="special",
            number=f"2431200000000000{i + 1:04d}",
            issue_date=clock.today() - dt.timedelta(days=2),
            buyer_name=OUR_NAME,
            buyer_tax_id=OUR_TAX_ID,
            seller_name="深圳市华强北电子元器件经营部",
            seller_tax_id=make_uscc("91440300MA5EXAMPL"),
            lines=[
                TruthLine(
                    "*电子元件*电阻器",
                    "RC-0805",
                    "个",
                    "100",
                    "5",
                    Decimal("500.00"),
                    "13%",
                    Decimal("65.00"),
                )
            ],
            remarks=None,
            issuer="王磊",
        )
        out.append(to_photo_jpeg(inv, seed=i))
    return out


async def main(args: argparse.Namespace) -> int:
    from bot.app import build_application
    from bot.context import AppContext
    from erp.config import Settings
    from invoice_ocr.pool import InvoicePool
    from tests.factories import OUR_NAME, OUR_TAX_ID

    tmp = Path(tempfile.mkdtemp(prefix="zf-bench-"))
    url, engine = make_book(tmp)
    settings = Settings(
        DATABASE_URL=url,
        ZHANGFANG_COMPANY_NAME=OUR_NAME,
        ZHANGFANG_COMPANY_TAX_ID=OUR_TAX_ID,
        ZHANGFANG_STORAGE_DIR=str(tmp / "files"),
        ZHANGFANG_OCR_WORKERS="2",
        _env_file=None,
    )
    images = photos(args.photos)
    pool = InvoicePool.from_settings(settings)
    pool.read(b"%PDF-1.4 warm-up")  # start the workers before measuring

    parent, child = mp.get_context("spawn").Pipe()
    proc = mp.get_context("spawn").Process(target=stand_in_main, args=(child,), daemon=True)
    proc.start()
    loop = asyncio.get_running_loop()

    async def ask(*cmd: object) -> object:
        parent.send(cmd)
        return await loop.run_in_executor(None, parent.recv)

    port = await loop.run_in_executor(None, parent.recv)
    from handlers.answer_cache import AnswerCache

    ctx = AppContext(settings=settings, engine=engine, ocr_pool=pool)
    app = build_application(
        ctx,
        token="7000000001:BENCH",
        base_url=f"http://127.0.0.1:{port}/bot",
        base_file_url=f"http://127.0.0.1:{port}/file/bot",
    )
    await app.initialize()
    await app.post_init(app)
    await app.start()
    await app.updater.start_polling(poll_interval=0.0, timeout=5)
    try:
        floor = await ask("floor", 500)
        await ask("burst", 100, ["/help"])  # warm up
        base = await ask("burst", args.queries, ["/help"])
        ctx.extras["answer_cache"] = AnswerCache(ttl=0)  # every answer computed from the book
        cold = await ask("burst", args.queries, QUESTIONS)
        ctx.extras["answer_cache"] = AnswerCache()  # answers reused while the book is unchanged
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        qps = await ask("burst", args.queries, QUESTIONS)
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(30)
        idle = await ask("latency", 200)
        busy, ocr_seconds, cards = await ask("ocr", images)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        parent.send(("stop",))
        proc.join(5)
        pool.close()

    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} (other work on the box skews all figures)"
    )
    print(f"floor: stand-in alone, sendMessage round trips    {floor:7.0f} /s")
    print(f"baseline: /help through the whole stack            {base:7.0f} /s")
    print(
        f"text queries, 8 staff at once, no answer cache     {cold:7.0f} /s   ({cold / base:.2f}× baseline)"
    )
    print(
        f"text queries, 8 staff at once, answer cache        {qps:7.0f} /s   target ≥ 200   "
        f"({qps / base:.2f}× baseline, {qps / cold:.1f}× uncached)"
    )
    print(
        f"latency idle:        p50 {statistics.median(idle):6.1f} ms   p95 {pct(idle, 95):6.1f} ms   (n={len(idle)})"
    )
    if busy:
        print(
            f"latency during OCR:  p50 {statistics.median(busy):6.1f} ms   p95 {pct(busy, 95):6.1f} ms   "
            f"(n={len(busy)}; {len(images)} photos read in {ocr_seconds:.1f} s, {cards} cards)   target p95 < 150"
        )
        print(f"p95 during OCR / p95 idle: {pct(busy, 95) / pct(idle, 95):.2f}×")
    ok = qps >= 200 and bool(busy) and pct(busy, 95) < 150 and cards == len(images)
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--photos", type=int, default=4)
    parser.add_argument(
        "--profile", action="store_true", help="profile the bot process during the cached burst"
    )
    parser.add_argument("--sort", default="tottime", help="profile order: tottime or cumulative")
    sys.exit(asyncio.run(main(parser.parse_args())))
