"""A month of invoices at once: a zip sent to the bot becomes draft vouchers.

The zip goes through the same importer as ``python main.py invoice import``
(caps, zip-bomb and path checks, duplicates skipped, one transaction per file),
with the files read in the OCR worker pool and a progress message edited as it
goes. The summary offers: review the drafts one by one (the single-invoice card
with ✅ / ✏️ / ❌), confirm every draft that carries no warning, and the batch
report as an Excel file. The batch lives in ``pending_action`` (kind ``bulk``),
so its buttons keep working after a restart.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from pathlib import Path

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.ocr import read_invoice
from erp.db import transaction
from erp.errors import ErpError
from erp.importer import ImportReport, Outcome, book_one, collect_bytes
from erp.invoices import confirm_invoice
from erp.models import Invoice, PendingAction
from handlers.common import (
    COMMAND_GROUP,
    app_context,
    detached,
    edit,
    explain,
    final,
    keyboard,
    parse_callback,
    reply,
    require_role,
)
from handlers.invoices import _ask_managers, card, draft_buttons

log = logging.getLogger(__name__)

PROGRESS_EVERY = 2.0  # seconds between edits of the progress message (Telegram limits edits)
READ_CONCURRENCY = 2


def _bar(done: int, total: int) -> str:
    filled = int(10 * done / total) if total else 10
    return "▓" * filled + "░" * (10 - filled)


def summary_buttons(batch_id: int, report: ImportReport) -> list[list[tuple[str, str]]]:
    drafted = [o for o in report.outcomes if o.status == "drafted"]
    clean = [o for o in drafted if not o.warnings]
    rows: list[list[tuple[str, str]]] = []
    if drafted:
        rows.append([(f"🔍 逐张审核（{len(drafted)}）", f"bulk:rev:{batch_id}:0")])
    if clean:
        rows.append([(f"✅ 确认全部无警告的 {len(clean)} 张", f"bulk:all:{batch_id}")])
    rows.append([("📄 导入明细（Excel）", f"bulk:xls:{batch_id}")])
    return rows


@final
async def zip_received(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    try:
        staff = require_role(context, "book_invoice")
    except ErpError as exc:
        await reply(update, context, explain(exc))
        return
    ctx = app_context(context)
    doc = message.document
    cap = ctx.settings.zip_max_total_mb * 1024 * 1024
    if doc.file_size and doc.file_size > cap:
        await reply(
            update,
            context,
            f"压缩包太大（{doc.file_size / 1024 / 1024:.0f} MB），上限 {ctx.settings.zip_max_total_mb} MB。",
        )
        return
    status = await message.reply_text(f"📦 收到「{doc.file_name}」，正在解压…")
    context.application.create_task(
        _import(context, staff.id, status, doc.file_id, doc.file_name or "invoices.zip"),
        update=update,
        name=f"bulk-{message.chat_id}-{message.message_id}",
    )


async def _import(context: ContextTypes.DEFAULT_TYPE, actor_id: int, status, file_id: str, name: str) -> None:
    ctx = app_context(context)
    try:
        tg_file = await context.bot.get_file(file_id)
        data = bytes(await tg_file.download_as_bytearray())
        items = await asyncio.to_thread(collect_bytes, data, name, ctx.settings)
        total = len(items)
        if not total:
            await edit(status, f"「{name}」里没有文件。")
            return
        report = ImportReport()
        done = 0
        last_edit = 0.0
        sem = asyncio.Semaphore(READ_CONCURRENCY)

        async def read(item):
            if item.data is None:
                return {"source": item.source, "ok": False, "error": item.error}
            async with sem:
                try:
                    return await read_invoice(ctx, item.data, item.source.rsplit("!", 1)[-1])
                except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
                    log.exception("reading %s failed", item.source)
                    return {"source": item.source, "ok": False, "error": f"识别失败：{type(exc).__name__}"}

        # read concurrently, book in order: the outcome list follows the zip's order
        reads = [asyncio.ensure_future(read(it)) for it in items]
        for item, pending in zip(items, reads, strict=True):
            parsed = await pending
            outcome = await asyncio.to_thread(
                book_one, ctx.engine, ctx.settings, item, parsed, post=False, actor_id=actor_id
            )
            report.outcomes.append(outcome)
            done += 1
            if time.monotonic() - last_edit > PROGRESS_EVERY or done == total:
                last_edit = time.monotonic()
                await edit(
                    status,
                    f"📦 「{name}」 {_bar(done, total)} {done}/{total}\n最近：{outcome.source.rsplit('!', 1)[-1]}",
                )
        batch_id = _save_batch(ctx, status.chat_id, actor_id, name, report)
        await edit(
            status, f"📦 「{name}」导入完成\n{report.summary_text()}", summary_buttons(batch_id, report)
        )
    except Exception:
        log.exception("bulk import of %s failed", name)
        await edit(
            status,
            f"❌ 「{name}」导入中断：内部错误，已记录。已生成的草稿保留，重新发送同一压缩包会跳过它们。",
        )


def _save_batch(ctx, chat_id: int, actor_id: int, name: str, report: ImportReport) -> int:
    payload = {"name": name, "outcomes": [o.__dict__ for o in report.outcomes]}
    with transaction(ctx.engine) as s:
        action = PendingAction(
            kind="bulk", chat_id=chat_id, staff_id=actor_id, payload=json.dumps(payload, ensure_ascii=False)
        )
        s.add(action)
        s.flush()
        return action.id


def _load_batch(ctx, batch_id: int) -> tuple[str, list[Outcome]]:
    with detached(ctx.engine) as s:
        action = s.get(PendingAction, batch_id)
        if action is None or action.kind != "bulk":
            raise ErpError("NOT_FOUND", what="导入批次", key=batch_id)
        payload = json.loads(action.payload)
    return payload["name"], [Outcome(**o) for o in payload["outcomes"]]


@final
async def bulk_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    parts = parse_callback(query.data, "bulk") or []
    ctx = app_context(context)
    try:
        staff = require_role(context, "book_invoice")
        action, batch_id = parts[0], int(parts[1])
        name, outcomes = _load_batch(ctx, batch_id)
        drafted = [o for o in outcomes if o.status == "drafted" and o.invoice_id]
        if action == "rev":
            await query.answer()
            await _review(update, context, ctx, batch_id, drafted, int(parts[2]))
        elif action == "all":
            await query.answer("正在入账…")
            await _confirm_clean(update, context, ctx, staff, name, [o for o in drafted if not o.warnings])
        elif action == "xls":
            await query.answer()
            path = ImportReport(outcomes).write(
                Path(ctx.settings.storage_dir) / "reports" / f"import-{batch_id}.xlsx"
            )
            await context.bot.send_document(
                query.message.chat_id,
                io.BytesIO(path.read_bytes()),
                filename=f"导入明细-{Path(name).stem}.xlsx",
            )
        else:
            await query.answer()
    except ErpError as exc:
        await query.answer(exc.message()[:190], show_alert=True)


async def _review(update, context, ctx, batch_id: int, drafted: list[Outcome], index: int) -> None:
    chat_id = update.effective_chat.id
    if index >= len(drafted):
        await context.bot.send_message(chat_id, "✅ 本批草稿已全部看过。")
        return
    o = drafted[index]
    with detached(ctx.engine) as s:
        invoice = s.get(Invoice, o.invoice_id)
        text = card(s, invoice, [*o.warnings, *o.notes])
        status = invoice.status
    buttons = draft_buttons(invoice.id) if status == "draft" else []
    if status != "draft":
        text += f"\n\n（当前状态：{'已入账' if status == 'posted' else '已作废'}）"
    buttons = [*buttons, [(f"下一张 ▶（{index + 1}/{len(drafted)}）", f"bulk:rev:{batch_id}:{index + 1}")]]
    await context.bot.send_message(chat_id, text, reply_markup=keyboard(buttons))


async def _confirm_clean(update, context, ctx, staff, name: str, clean: list[Outcome]) -> None:
    posted = already = waiting = failed = 0
    problems: list[str] = []
    for o in clean:
        try:
            with transaction(ctx.engine) as s:
                result = confirm_invoice(s, o.invoice_id, ctx.settings, actor_id=staff.id)
                text = card(s, result.invoice, []) if result.outcome == "needs_approval" else ""
        except ErpError as exc:
            failed += 1
            problems.append(f"{o.number}：{exc.message()}")
            continue
        if result.outcome == "posted":
            posted += 1
        elif result.outcome == "already_posted":
            already += 1
        else:
            waiting += 1
            await _ask_managers(context, ctx, staff, o.invoice_id, text)
    lines = [
        f"📦 「{name}」：无警告的 {len(clean)} 张中，入账 {posted}，此前已入账 {already}，待经理审批 {waiting}，失败 {failed}"
    ]
    lines += [f"• {p}" for p in problems]
    await context.bot.send_message(update.effective_chat.id, "\n".join(lines))


def register(application: Application) -> None:
    zips = filters.Document.ZIP | filters.Document.FileExtension("zip")
    application.add_handler(MessageHandler(zips, zip_received), group=COMMAND_GROUP)
    application.add_handler(CallbackQueryHandler(bulk_button, pattern=r"^bulk:"), group=COMMAND_GROUP)
