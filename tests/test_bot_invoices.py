"""Invoices through the chat, end to end: real Application, local Bot API, real invoice reader.

Invoices are generated in code (tests/invoice_corpus) and read by ``invoice_ocr`` in its
worker pool, shared by the tests of this module.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from erp.models import Invoice, Settlement, StockMove, Voucher
from erp.stock import on_hand
from tests.invoice_corpus.data import TruthInvoice, TruthLine
from tests.invoice_corpus.render import to_pdf, to_photo_jpeg, to_xml
from tests.test_bot_helpers import (
    ACCOUNTANT,
    MANAGER,
    LocalChat,
    company_settings,
    make_ctx,
    run,
    seed_company,
    user,
)
from values import clock
from values.taxid import make_uscc

SUPPLIER = "深圳市华强北电子元器件经营部"


def truth(number: str = "24312000000000000077", quantity: int = 100, amount: str = "500.00") -> TruthInvoice:
    tax = (Decimal(amount) * Decimal("0.13")).quantize(Decimal("0.01"))
    return TruthInvoice(
        key=number,
        invoice_type="special",
        number=number,
        issue_date=clock.today() - dt.timedelta(days=3),
        buyer_name="上海账房示范贸易有限公司",
        buyer_tax_id="91310000MA1FL8XQ37",
        seller_name=SUPPLIER,
        seller_tax_id=make_uscc("91440300MA5EXAMPL"),
        lines=[
            TruthLine(
                "*电子元件*电阻器",
                "RC-0805",
                "个",
                str(quantity),
                str(Decimal(amount) / quantity),
                Decimal(amount),
                "13%",
                tax,
            )
        ],
        remarks=None,
        issuer="王磊",
    )


@pytest.fixture(scope="module")
def pool():
    from invoice_ocr.pool import InvoicePool

    p = InvoicePool(workers=2)
    yield p
    p.close()


def ctx_for(engine, settings, pool, **changes):
    cfg = company_settings(settings)
    if changes:
        cfg = cfg.model_copy(update=changes)
    c = make_ctx(engine, cfg)
    c.ocr_pool = pool
    return c


def invoices(engine) -> list[Invoice]:
    with Session(engine, expire_on_commit=False) as s:
        return list(s.exec(select(Invoice).where(Invoice.direction == "purchase")).all())


def posted_vouchers_for(engine, invoice_id: int) -> list[Voucher]:
    with Session(engine, expire_on_commit=False) as s:
        return list(
            s.exec(
                select(Voucher).where(
                    Voucher.source_type == "invoice",
                    Voucher.source_id == invoice_id,
                    Voucher.status == "posted",
                )
            ).all()
        )


async def upload_card(chat: LocalChat, who: dict, content: bytes, name: str, mime: str = "application/pdf"):
    mark = chat.api.mark()
    replies = await chat.send_document(who, content, name, mime)
    assert "正在识别" in replies[0].body
    return await chat.api.wait_for(
        lambda m: bool(m.buttons) or "⚠️" in m.body, chat_id=who["id"], after=mark, timeout=60
    )


def test_pdf_upload_confirm_posts_voucher_then_duplicates_are_refused(engine, settings, pool):
    ids = seed_company(engine)
    me = user(ACCOUNTANT)
    inv = truth()

    async def scenario():
        async with LocalChat(ctx_for(engine, settings, pool)) as chat:
            card = await upload_card(chat, me, to_pdf(inv), "fapiao.pdf")
            body = card.body
            assert "发票号码：24312000000000000077" in body and SUPPLIER in body
            assert "价税合计：¥565.00" in body
            assert "1405 库存商品" in body and "22210101" in body and "贷 565.00" in body
            assert [label for label, _ in card.buttons] == ["✅ 确认入账", "✏️ 改科目", "❌ 作废"]
            done = await chat.press(me, card, "确认入账")
            assert "✅ 已入账：凭证 记-" in done[-1].body and done[-1].buttons == []
            number = done[-1].body.split("凭证 ")[1].split("（")[0]
            # the same file again: refused at once, with a pointer to the voucher
            again = await upload_card(chat, me, to_pdf(inv), "again.pdf")
            assert "重复" in again.body and number in again.body and not again.buttons
            # the same invoice as another file (XML): refused as a duplicate invoice
            xml = await upload_card(chat, me, to_xml(inv), "fapiao.xml", "application/xml")
            assert "重复发票" in xml.body and number in xml.body
            r = await chat.say(me, f"/voucher {number}")
            assert "已记账" in r[-1].body and "1405 库存商品" in r[-1].body

    run(scenario())
    [invoice] = invoices(engine)
    assert invoice.status == "posted"
    assert len(posted_vouchers_for(engine, invoice.id)) == 1
    with Session(engine) as s:
        assert on_hand(s, ids["a001"]) == Decimal("130")


def test_double_tapped_and_replayed_confirm_posts_once(engine, settings, pool):
    ids = seed_company(engine)
    me = user(ACCOUNTANT)

    async def scenario():
        async with LocalChat(ctx_for(engine, settings, pool)) as chat:
            card = await upload_card(chat, me, to_pdf(truth()), "a.pdf")
            data = card.button("确认入账")
            mark = chat.api.mark()
            first = await chat.api.push_callback(me, card.message_id, data)
            second = await chat.api.push_callback(me, card.message_id, data)
            await chat.tracker.wait(first, 15)
            await chat.tracker.wait(second, 15)
            # the card was edited twice: posted, then "already posted" for the second tap
            assert [e.kind for e in chat.api.events[mark:]] == ["edit", "edit"]
            assert "该发票已入账" in card.body and "没有重复记账" in card.body
            # Telegram delivers the first tap again: dropped, nothing new said
            assert await chat.replay(first, ACCOUNTANT) == []

    run(scenario())
    [invoice] = invoices(engine)
    assert len(posted_vouchers_for(engine, invoice.id)) == 1
    with Session(engine) as s:
        moves = s.exec(select(StockMove).where(StockMove.source_type == "invoice")).all()
        assert len(moves) == 1
        assert on_hand(s, ids["a001"]) == Decimal("130")


def test_restart_in_the_middle_of_a_confirmation(engine, settings, pool):
    seed_company(engine)
    me = user(ACCOUNTANT)

    async def scenario():
        chat = LocalChat(lambda: ctx_for(engine, settings, pool))
        await chat.start()
        try:
            card = await upload_card(chat, me, to_pdf(truth()), "a.pdf")
            # the bot process restarts: new Application, new context, same database
            await chat.restart()
            done = await chat.press(me, card, "确认入账")
            assert "✅ 已入账：凭证 记-" in done[-1].body
            # a /receive conversation half-way survives a restart as well (state in the database)
            r = await chat.say(me, "/receive")
            assert "哪个客户" in r[-1].body
            await chat.restart()
            r = await chat.say(me, "华为")
            assert "多少钱" in r[-1].body
            r = await chat.say(me, "3000")
            assert "收款确认" in r[-1].body and "¥3,000.00" in r[-1].body
            ok = r[-1]
            await chat.restart()
            done = await chat.press(me, ok, "确认收款")
            assert "已收款入账" in done[-1].body
        finally:
            await chat.stop()

    run(scenario())
    [invoice] = invoices(engine)
    assert invoice.status == "posted"
    with Session(engine) as s:
        [settlement] = s.exec(select(Settlement)).all()
        assert settlement.amount == Decimal("3000.00")


def test_above_threshold_goes_to_a_manager_who_approves(engine, settings, pool):
    seed_company(engine)
    me, boss = user(ACCOUNTANT), user(MANAGER)

    async def scenario():
        async with LocalChat(ctx_for(engine, settings, pool, approval_threshold=Decimal("100.00"))) as chat:
            card = await upload_card(chat, me, to_pdf(truth()), "big.pdf")
            data = card.button("确认入账")
            r = await chat.press(me, card, "确认入账")
            assert "已提交经理审批" in r[-1].body
            ask = await chat.api.wait_for("提交审批", chat_id=MANAGER)
            assert "价税合计：¥565.00" in ask.body
            # a second tap does not ask the manager twice
            await chat.tracker.wait(await chat.api.push_callback(me, card.message_id, data), 15)
            assert sum("提交审批" in e.message.body for e in chat.api.events) == 1
            # the accountant cannot approve
            r = await chat.press(me, ask, "批准入账")
            assert invoices(engine)[0].status == "draft"
            r = await chat.press(boss, ask, "批准入账")
            assert "已批准并入账：凭证 记-" in r[-1].body
            told = await chat.api.wait_for("已批准发票", chat_id=ACCOUNTANT)
            assert "记-" in told.body

    run(scenario())
    [invoice] = invoices(engine)
    assert invoice.status == "posted"
    assert len(posted_vouchers_for(engine, invoice.id)) == 1


def test_change_account_and_void(engine, settings, pool):
    seed_company(engine)
    me = user(ACCOUNTANT)

    async def scenario():
        async with LocalChat(ctx_for(engine, settings, pool)) as chat:
            card = await upload_card(chat, me, to_pdf(truth()), "a.pdf")
            r = await chat.press(me, card, "改科目")
            assert [lbl for lbl, _ in r[-1].buttons][0].startswith("第1行 借 1405")
            r = await chat.press(me, r[-1], "第1行")
            r = await chat.press(me, r[-1], "560203")
            assert "560203 管理费用-办公费" in r[-1].body and "确认入账" in r[-1].buttons[0][0]
            assert "发票号码" in r[-1].body  # the invoice part is kept
            r = await chat.press(me, r[-1], "作废")
            assert "已作废" in r[-1].body and not r[-1].buttons
            # voided: the same file may be sent again
            card2 = await upload_card(chat, me, to_pdf(truth()), "a.pdf")
            assert "确认入账" in card2.buttons[0][0]

    run(scenario())
    statuses = sorted(i.status for i in invoices(engine))
    assert statuses == ["draft", "void"]


def test_unreadable_file_is_reported(engine, settings, pool):
    seed_company(engine)
    me = user(ACCOUNTANT)

    async def scenario():
        async with LocalChat(ctx_for(engine, settings, pool)) as chat:
            mark = chat.api.mark()
            await chat.send_document(me, b"just some text, not an invoice", "notes.txt", "text/plain")
            msg = await chat.api.wait_for("无法识别", chat_id=ACCOUNTANT, after=mark, timeout=30)
            assert "UNREADABLE_INVOICE" in msg.body

    run(scenario())
    assert invoices(engine) == []


def test_photo_upload_is_read_with_a_hint(engine, settings, pool):
    seed_company(engine)
    me = user(ACCOUNTANT)

    async def scenario():
        async with LocalChat(ctx_for(engine, settings, pool)) as chat:
            mark = chat.api.mark()
            await chat.send_photo(me, to_photo_jpeg(truth(number="24312000000000000088"), seed=3))
            card = await chat.api.wait_for(
                lambda m: bool(m.buttons), chat_id=ACCOUNTANT, after=mark, timeout=90
            )
            assert "24312000000000000088" in card.body and "以「文件」方式发送" in card.body
            done = await chat.press(me, card, "确认入账")
            assert "已入账" in done[-1].body

    run(scenario())
    [invoice] = invoices(engine)
    assert invoice.status == "posted" and invoice.total == Decimal("565.00")


def test_receipt_double_tap_records_one_receipt(engine, settings, pool):
    seed_company(engine)
    me = user(ACCOUNTANT)

    async def scenario():
        async with LocalChat(ctx_for(engine, settings, pool)) as chat:
            r = await chat.say(me, "华为欠多少")
            assert "应收余额：¥12,720.00" in r[-1].body
            r = await chat.say(me, "收到华为 5000")
            card = r[-1]
            assert "深圳华为技术有限公司" in card.body and "¥5,000.00" in card.body
            first = await chat.api.push_callback(me, card.message_id, card.button("确认收款"))
            second = await chat.api.push_callback(me, card.message_id, card.button("确认收款"))
            await asyncio.gather(chat.tracker.wait(first, 15), chat.tracker.wait(second, 15))
            assert "已收款入账" in card.body or "没有重复记账" in card.body
            r = await chat.say(me, "华为欠多少")
            assert "应收余额：¥7,720.00" in r[-1].body

    run(scenario())
    with Session(engine) as s:
        assert len(s.exec(select(Settlement)).all()) == 1


def test_several_files_sent_together_get_a_summary(engine, settings, pool):
    seed_company(engine)
    me = user(ACCOUNTANT)

    async def scenario():
        async with LocalChat(ctx_for(engine, settings, pool)) as chat:
            mark = chat.api.mark()
            for i, number in enumerate(["24312000000000000101", "24312000000000000102"]):
                await chat.send_document(
                    me, to_pdf(truth(number=number)), f"f{i}.pdf", media_group_id="album-1"
                )
            await chat.send_document(me, b"not an invoice", "f2.pdf", media_group_id="album-1")
            summary = await chat.api.wait_for("共 3 个文件", chat_id=ACCOUNTANT, after=mark, timeout=60)
            assert "待确认 2" in summary.body and "失败 1" in summary.body

    run(scenario())
    assert len(invoices(engine)) == 2


def test_a_cancelled_receipt_stays_cancelled(engine, settings, pool):
    # 'cancelled' is nine characters: the status column must hold it on PostgreSQL too
    seed_company(engine)
    me = user(ACCOUNTANT)

    async def scenario():
        async with LocalChat(ctx_for(engine, settings, pool)) as chat:
            r = await chat.say(me, "收到华为 5000")
            card = r[-1]
            ok = card.button("确认收款")
            await chat.press(me, card, "取消")
            confirm = await chat.api.push_callback(me, card.message_id, ok)  # a late tap on ✅
            await chat.tracker.wait(confirm, 15)
            assert "已取消" in chat.api.messages[card.message_id].body
            r = await chat.say(me, "华为欠多少")
            assert "应收余额：¥12,720.00" in r[-1].body

    run(scenario())
    with Session(engine) as s:
        assert s.exec(select(Settlement)).all() == []
