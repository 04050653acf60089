"""A zip of invoices sent to the bot: progress, summary, review one by one, confirm all clean ones."""

from __future__ import annotations

import dataclasses
import io
import zipfile

from sqlmodel import Session, select

from erp.models import Invoice, Voucher
from tests.invoice_corpus.render import to_pdf, to_xml
from tests.test_bot_helpers import ACCOUNTANT, SALES, LocalChat, run, seed_company, user
from tests.test_bot_invoices import ctx_for, pool, truth  # noqa: F401 - pool is a fixture


def make_zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_zip_becomes_drafts_then_clean_ones_are_confirmed_at_once(engine, settings, pool):  # noqa: F811
    seed_company(engine)
    me = user(ACCOUNTANT)
    a = truth("24312000000000000101")
    b = truth("24312000000000000102", quantity=10, amount="80.00")
    # a line that does not add up to the printed total: a draft with a warning, left for review
    bad = truth("24312000000000000103")
    bad = dataclasses.replace(bad, lines=[dataclasses.replace(bad.lines[0], tax=bad.lines[0].tax + 1)])
    archive = make_zip(
        {
            "05/a.pdf": to_pdf(a),
            "05/b.xml": to_xml(b),
            "05/a-again.xml": to_xml(a),
            "05/bad.xml": to_xml(bad),
            "readme.txt": "这不是发票".encode(),
        }
    )

    async def scenario():
        async with LocalChat(ctx_for(engine, settings, pool)) as chat:
            mark = chat.api.mark()
            first = await chat.send_document(me, archive, "2024-05.zip", "application/zip")
            assert "收到「2024-05.zip」" in first[0].body
            summary = await chat.api.wait_for(
                lambda m: "导入完成" in m.body, chat_id=me["id"], after=mark, timeout=90
            )
            assert "共 5 个文件" in summary.body and "生成草稿 3" in summary.body
            assert "重复跳过 1" in summary.body and "失败 1" in summary.body and "readme.txt" in summary.body
            labels = [label for label, _ in summary.buttons]
            assert labels[0].startswith("🔍 逐张审核（3）") and labels[1] == "✅ 确认全部无警告的 2 张"
            # review: the first draft's card with the single-invoice buttons and a next button
            review = await chat.press(me, summary, "逐张审核")
            card = review[-1]
            assert "24312000000000000101" in card.body
            assert [label for label, _ in card.buttons][:3] == ["✅ 确认入账", "✏️ 改科目", "❌ 作废"]
            assert "下一张" in card.buttons[-1][0]
            # confirm every clean draft; a second tap posts nothing more
            done = await chat.press(me, summary, "确认全部无警告")
            assert "入账 2" in done[-1].body
            again = await chat.press(me, summary, "确认全部无警告")
            assert "入账 0" in again[-1].body and "此前已入账 2" in again[-1].body
            report = await chat.press(me, summary, "导入明细")
            assert report[-1].document_name and report[-1].document_name.endswith(".xlsx")
            # a salesperson may not import invoices
            refused = await chat.send_document(user(SALES), archive, "x.zip", "application/zip")
            assert "PERMISSION_DENIED" in refused[-1].body or "没有权限" in refused[-1].body

    run(scenario())
    batch = ["24312000000000000101", "24312000000000000102", "24312000000000000103"]
    with Session(engine) as s:
        rows = s.exec(select(Invoice).where(Invoice.number.in_(batch))).all()  # type: ignore[attr-defined]
        assert sorted((i.number, i.status) for i in rows) == [
            (batch[0], "posted"), (batch[1], "posted"), (batch[2], "draft")]  # fmt: skip
        posted = s.exec(
            select(Voucher).where(Voucher.status == "posted", Voucher.id.in_([i.voucher_id for i in rows]))  # type: ignore[attr-defined]
        ).all()
        assert len(posted) == 2
