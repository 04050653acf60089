"""Invoice in: a photo, an image file, a PDF, OFD or XML -> a draft voucher -> ✅ 确认入账.

The bot answers at once ("正在识别…") and edits that message as it goes; reading runs in
the worker pool (``bot.ocr``) as a background task, one file at a time per chat. The
draft (invoice + voucher) is saved in the database; buttons carry the invoice id:

- ``inv:ok:<id>`` confirm (posts, or sends it to a manager above the approval threshold)
- ``inv:acc:<id>`` / ``inv:ln:<id>:<line>`` / ``inv:set:<id>:<line>:<account>`` / ``inv:back:<id>`` 改科目
- ``inv:void:<id>`` 作废
- ``apv:ok:<id>`` / ``apv:no:<id>`` a manager's decision

Confirming twice (a double tap, a replayed update, a restarted bot) posts once: the
services are compare-and-set on the invoice and voucher rows.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path

from sqlmodel import Session, select
from telegram import Message, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.context import AppContext
from bot.ocr import read_invoice
from erp.chart import full_name
from erp.db import transaction
from erp.errors import ErpError
from erp.files import store_file
from erp.invoices import (
    UnsureLine,
    approve_invoice,
    change_line_account,
    choose_line_product,
    confirm_invoice,
    draft_from_invoice,
    find_duplicate,
    save_draft,
    unsure_lines,
    void_invoice,
)
from erp.models import Invoice, InvoiceLine, Party, Product, Staff, Voucher
from erp.staff import active_staff, can
from erp.vouchers import lines_of, state_name
from handlers.common import (
    COMMAND_GROUP,
    Buttons,
    app_context,
    detached,
    edit,
    explain,
    final,
    notify,
    parse_callback,
    reply,
    require_role,
)
from values.money import fmt

log = logging.getLogger(__name__)

VOUCHER_MARK = "📒 拟生成凭证"
PHOTO_HINT = "💡 提示：照片经 Telegram 压缩，以「文件」方式发送原图识别更准确。"
# 改科目: a short list per side of the entry
DEBIT_CHOICES = ("1405", "1403", "1601", "560203", "560202", "560101", "560205", "560207", "560208")
CREDIT_CHOICES = ("5001", "5051", "5301")
FIXED_LINES = ("1122", "2202", "22210101", "22210102")
TYPE_NAMES = {"special": "专票", "normal": "普票"}


# --- texts ---------------------------------------------------------------------


def invoice_text(invoice: Invoice, lines: list[InvoiceLine], warnings: list[str]) -> str:
    word = "采购" if invoice.direction == "purchase" else "销售"
    red = "红字" if invoice.is_red else ""
    out = [
        f"🧾 {word}{red}发票（{TYPE_NAMES.get(invoice.invoice_type, invoice.invoice_type)}）",
        f"发票号码：{invoice.number}" + (f"  代码：{invoice.code}" if invoice.code else ""),
        f"开票日期：{invoice.issue_date}",
        f"销售方：{invoice.seller_name or ''} {invoice.seller_tax_id or ''}".rstrip(),
        f"购买方：{invoice.buyer_name or ''} {invoice.buyer_tax_id or ''}".rstrip(),
        "明细：",
    ]
    for ln in lines[:20]:
        qty = f" {ln.quantity.normalize():f}{ln.unit or ''}" if ln.quantity is not None else ""
        spec = f" {ln.spec}" if ln.spec else ""
        out.append(
            f"  {ln.line_no}. {ln.name}{spec}{qty} 金额 {fmt(ln.amount)} 税率 {ln.tax_rate or '-'} 税额 {fmt(ln.tax)}"
        )
    if len(lines) > 20:
        out.append(f"  …共 {len(lines)} 行")
    out.append(f"合计：金额 ¥{fmt(invoice.total_amount)}  税额 ¥{fmt(invoice.total_tax)}")
    out.append(f"价税合计：¥{fmt(invoice.total)}")
    if warnings:
        out.append("⚠️ 请注意：")
        out += [f"  • {w}" for w in warnings[:10]]
    return "\n".join(out)


def voucher_part(session: Session, voucher: Voucher) -> str:
    out = [f"{VOUCHER_MARK} {voucher.number}（{state_name(voucher.status)}）", f"摘要：{voucher.summary}"]
    parties: dict[int, str] = {}
    for ln in lines_of(session, voucher.id):
        if ln.party_id and ln.party_id not in parties:
            p = session.get(Party, ln.party_id)
            parties[ln.party_id] = (p.short_name or p.name) if p else ""
        who = f"（{parties[ln.party_id]}）" if ln.party_id else ""
        side = f"借 {fmt(ln.debit)}" if ln.debit else f"贷 {fmt(ln.credit)}"
        out.append(f"  {ln.line_no}. {ln.account_code} {full_name(session, ln.account_code)}{who}  {side}")
    return "\n".join(out)


def card(session: Session, invoice: Invoice, warnings: list[str]) -> str:
    lines = list(
        session.exec(
            select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id).order_by(InvoiceLine.line_no)
        )
    )
    voucher = session.get(Voucher, invoice.voucher_id)
    return invoice_text(invoice, lines, warnings) + "\n\n" + voucher_part(session, voucher)


def with_new_voucher(old_text: str, session: Session, voucher: Voucher) -> str:
    """The card with its voucher part redrawn (the invoice part, with its warnings, is kept)."""
    head = old_text.split(VOUCHER_MARK)[0].rstrip()
    return head + "\n\n" + voucher_part(session, voucher)


def draft_buttons(invoice_id: int, unsure: list[UnsureLine] | None = None) -> Buttons:
    """The card's buttons; a line whose product is unsure first gets one button per candidate."""
    rows: Buttons = []
    for u in (unsure or [])[:3]:
        picks = [
            (f"第{u.line_no}行 → {label[:18]}", f"inv:prd:{invoice_id}:{u.line_no}:{pid}")
            for pid, label, _ in u.candidates[:3]
        ]
        rows.append(picks[:2])
        rows.append([*picks[2:], (f"第{u.line_no}行 → 🆕 新商品", f"inv:prd:{invoice_id}:{u.line_no}:new")])
    return [
        *rows,
        [("✅ 确认入账", f"inv:ok:{invoice_id}")],
        [("✏️ 改科目", f"inv:acc:{invoice_id}"), ("❌ 作废", f"inv:void:{invoice_id}")],
    ]


# --- files in --------------------------------------------------------------------


def _chat_lock(ctx: AppContext, chat_id: int) -> asyncio.Lock:
    locks = ctx.extras.setdefault("invoice_chat_locks", {})
    return locks.setdefault(chat_id, asyncio.Lock())


def _store(ctx: AppContext, data: bytes, name: str) -> str:
    """Keep the file where the importer keeps its files too (content-addressed)."""
    _, path = store_file(ctx.settings, data, Path(name).suffix[:8])
    return str(path)


@final
async def file_received(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    try:
        staff = require_role(context, "book_invoice")
    except ErpError as exc:
        await reply(update, context, explain(exc))
        return
    ctx = app_context(context)
    if message.photo:
        item, name, is_photo = message.photo[-1], f"photo_{message.message_id}.jpg", True
    else:
        item, name, is_photo = message.document, message.document.file_name or "file", False
    limit = ctx.settings.max_file_mb * 1024 * 1024
    if item.file_size and item.file_size > limit:
        await reply(
            update,
            context,
            f"文件太大（{item.file_size / 1024 / 1024:.1f} MB），上限 {ctx.settings.max_file_mb} MB。"
            "请压缩后再发，或发送发票的 PDF/OFD/XML 原件。",
        )
        return
    status = await message.reply_text(f"⏳ 正在识别「{name}」…")
    group = message.media_group_id
    if group:
        groups = ctx.extras.setdefault("invoice_groups", {})
        groups.setdefault(group, {"pending": 0, "results": []})["pending"] += 1
    context.application.create_task(
        _process(context, ctx, staff, status, item.file_id, name, is_photo, group),
        update=update,
        name=f"invoice-{message.chat_id}-{message.message_id}",
    )


async def _process(
    context: ContextTypes.DEFAULT_TYPE,
    ctx: AppContext,
    staff: Staff,
    status: Message,
    file_id: str,
    name: str,
    is_photo: bool,
    group: str | None,
) -> None:
    outcome = "失败"
    async with _chat_lock(ctx, status.chat_id):
        try:
            outcome = await _read_and_draft(context, ctx, staff, status, file_id, name, is_photo)
        except Exception:
            log.exception("invoice %s failed", name)
            await edit(status, f"❌ 「{name}」处理失败：内部错误，已记录。请稍后重试或把文件发给管理员。")
    if group:
        await _group_done(context, ctx, status.chat_id, group, name, outcome)


async def _read_and_draft(
    context: ContextTypes.DEFAULT_TYPE,
    ctx: AppContext,
    staff: Staff,
    status: Message,
    file_id: str,
    name: str,
    is_photo: bool,
) -> str:
    hint = f"\n\n{PHOTO_HINT}" if is_photo else ""
    tg_file = await context.bot.get_file(file_id)
    data = bytes(await tg_file.download_as_bytearray())
    sha = hashlib.sha256(data).hexdigest()
    with detached(ctx.engine) as s:
        dup = find_duplicate(s, file_sha256=sha)
        if dup is not None:
            voucher = s.get(Voucher, dup.voucher_id) if dup.voucher_id else None
            err = ErpError("DUPLICATE_FILE", number=dup.number, voucher=voucher.number if voucher else "草稿")
            await edit(status, f"「{name}」：{explain(err)}")
            return "重复"
    await edit(status, f"⏳ 正在识别「{name}」…（已收到 {len(data) / 1024:.0f} KB，识别中）")
    try:
        parsed = await asyncio.wait_for(read_invoice(ctx, data, name), ctx.settings.ocr_timeout_seconds + 15)
    except TimeoutError:
        err = ErpError(
            "UNREADABLE_INVOICE", why=f"识别超时（超过 {ctx.settings.ocr_timeout_seconds:.0f} 秒）"
        )
        await edit(status, f"「{name}」：{explain(err)}{hint}")
        return "失败"
    if parsed.get("error") or not parsed.get("number") and not parsed.get("lines"):
        err = ErpError("UNREADABLE_INVOICE", why=parsed.get("error") or "没有找到发票内容")
        await edit(status, f"「{name}」：{explain(err)}{hint}")
        return "失败"
    path = _store(ctx, data, name)
    try:
        with transaction(ctx.engine) as s:
            draft = draft_from_invoice(s, parsed, ctx.settings)
            invoice = save_draft(s, draft, actor_id=staff.id, file_sha256=sha, file_path=path)
            text = card(s, invoice, [w for w in draft.messages if not w.startswith("重复发票")])
            invoice_id = invoice.id
            unsure = unsure_lines(s, invoice)
    except ErpError as exc:
        await edit(status, f"「{name}」：{explain(exc)}{hint}")
        return "重复" if exc.code.startswith("DUPLICATE") else "失败"
    await edit(status, text + hint, draft_buttons(invoice_id, unsure))
    return "待确认"


async def _group_done(
    context: ContextTypes.DEFAULT_TYPE, ctx: AppContext, chat_id: int, group: str, name: str, outcome: str
) -> None:
    groups = ctx.extras.get("invoice_groups", {})
    info = groups.get(group)
    if info is None:
        return
    info["pending"] -= 1
    info["results"].append((name, outcome))
    if info["pending"] > 0:
        return
    await asyncio.sleep(1.0)  # files of one album arrive as separate updates; let stragglers register
    if info["pending"] > 0:
        return
    groups.pop(group, None)
    results = info["results"]
    if len(results) < 2:
        return
    counts: dict[str, int] = {}
    for _, o in results:
        counts[o] = counts.get(o, 0) + 1
    summary = "，".join(f"{k} {v}" for k, v in counts.items())
    lines = [f"📎 共 {len(results)} 个文件：{summary}"] + [f"• {n}：{o}" for n, o in results]
    await context.bot.send_message(chat_id, "\n".join(lines))


# --- buttons ---------------------------------------------------------------------


def _creator_telegram_id(session: Session, invoice: Invoice) -> int | None:
    st = session.get(Staff, invoice.created_by) if invoice.created_by else None
    return st.telegram_id if st else None


@final
async def invoice_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    parts = parse_callback(query.data, "inv") or []
    ctx = app_context(context)
    try:
        staff = require_role(context, "book_invoice")
        action, invoice_id = parts[0], int(parts[1])
        if action == "ok":
            await _confirm(update, context, ctx, staff, invoice_id)
        elif action == "void":
            with transaction(ctx.engine) as s:
                invoice = s.get(Invoice, invoice_id)
                if invoice is None:
                    raise ErpError("NOT_FOUND", what="发票", key=invoice_id)
                was = invoice.status
                if was in ("posted", "posting"):
                    raise ErpError(
                        "VOUCHER_STATE",
                        number=invoice.number,
                        state="已入账",
                        action="在这里作废（请用冲销）",
                    )
                void_invoice(s, invoice_id, ctx.settings, actor_id=staff.id, reason="发票卡片作废")
            await query.answer()
            note = "❌ 已作废，未入账。" if was != "void" else "❌ 该发票已作废。"
            await edit(query, query.message.text.split(VOUCHER_MARK)[0].rstrip() + "\n\n" + note)
        elif action == "prd":
            await _choose_product(update, ctx, staff, invoice_id, int(parts[2]), parts[3])
        elif action in ("acc", "ln", "set", "back"):
            await _change_account(update, context, ctx, staff, action, invoice_id, parts[2:])
        else:
            await query.answer()
    except ErpError as exc:
        await query.answer(exc.message()[:190], show_alert=True)


async def _choose_product(
    update: Update, ctx: AppContext, staff: Staff, invoice_id: int, line_no: int, pick: str
) -> None:
    """inv:prd:<invoice>:<line>:<product id|new> settles an unsure product match, then redraws the buttons."""
    query = update.callback_query
    with transaction(ctx.engine) as s:
        line = choose_line_product(
            s, invoice_id, line_no, None if pick == "new" else int(pick), actor_id=staff.id
        )
        product = s.get(Product, line.product_id)
        unsure = unsure_lines(s, s.get(Invoice, invoice_id))
    await query.answer(f"第{line_no}行：{product.sku} {product.name}")
    text = (query.message.text or "").rstrip() + f"\n✔️ 第{line_no}行对应商品：{product.sku} {product.name}"
    await edit(query, text, draft_buttons(invoice_id, unsure))


async def _confirm(
    update: Update, context: ContextTypes.DEFAULT_TYPE, ctx: AppContext, staff: Staff, invoice_id: int
) -> None:
    query = update.callback_query
    with transaction(ctx.engine) as s:
        invoice = s.get(Invoice, invoice_id)
        if invoice is None:
            raise ErpError("NOT_FOUND", what="发票", key=invoice_id)
        voucher = s.get(Voucher, invoice.voucher_id)
        first_request = voucher.approval_requested_at is None
        result = confirm_invoice(s, invoice_id, ctx.settings, actor_id=staff.id)
        number = result.voucher.number
        text = query.message.text or ""
        head = text.split(VOUCHER_MARK)[0].rstrip()
        manager_card = card(s, result.invoice, []) if result.outcome == "needs_approval" else ""
    await query.answer()
    if result.outcome == "posted":
        await edit(query, f"{head}\n\n✅ 已入账：凭证 {number}（{staff.name}）")
    elif result.outcome == "already_posted":
        await edit(query, f"{head}\n\n✅ 该发票已入账（凭证 {number}），没有重复记账。")
    else:
        await edit(
            query,
            f"{head}\n\n⏳ 金额超过审批额度 ¥{fmt(ctx.settings.approval_threshold)}，已提交经理审批（凭证 {number}）。"
            "审批后会通知您。",
        )
        if first_request:
            await _ask_managers(context, ctx, staff, invoice_id, manager_card)


async def _ask_managers(
    context: ContextTypes.DEFAULT_TYPE, ctx: AppContext, staff: Staff, invoice_id: int, text: str
) -> None:
    with detached(ctx.engine) as s:
        approvers = [st for st in active_staff(s) if can(st, "approve") and st.id != staff.id]
    managers = [st for st in approvers if st.role == "manager"] or approvers
    buttons = [[("✅ 批准入账", f"apv:ok:{invoice_id}"), ("❌ 驳回", f"apv:no:{invoice_id}")]]
    for m in managers:
        await notify(context, m.telegram_id, f"🔔 {staff.name} 提交审批：\n\n{text}", buttons)


@final
async def approval_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    parts = parse_callback(query.data, "apv") or []
    ctx = app_context(context)
    try:
        manager = require_role(context, "approve")
        invoice_id = int(parts[1])
        with transaction(ctx.engine) as s:
            invoice = s.get(Invoice, invoice_id)
            if invoice is None:
                raise ErpError("NOT_FOUND", what="发票", key=invoice_id)
            creator = _creator_telegram_id(s, invoice)
            head = (query.message.text or "").split(VOUCHER_MARK)[0].rstrip()
            if invoice.status == "void":
                outcome, number = "void", ""
            elif parts[0] == "ok":
                result = approve_invoice(s, invoice_id, ctx.settings, manager_id=manager.id)
                outcome, number = result.outcome, result.voucher.number
            else:
                if invoice.status in ("posted", "posting"):
                    outcome, number = "already_posted", s.get(Voucher, invoice.voucher_id).number
                else:
                    void_invoice(
                        s, invoice_id, ctx.settings, actor_id=manager.id, reason=f"{manager.name} 驳回"
                    )
                    outcome, number = "rejected", ""
        await query.answer()
        if outcome == "posted":
            await edit(query, f"{head}\n\n✅ 已批准并入账：凭证 {number}")
            if creator and creator != manager.telegram_id:
                await notify(
                    context, creator, f"✅ {manager.name} 已批准发票 {invoice.number}，已入账：凭证 {number}"
                )
        elif outcome == "rejected":
            await edit(query, f"{head}\n\n❌ 已驳回，未入账。")
            if creator and creator != manager.telegram_id:
                await notify(
                    context,
                    creator,
                    f"❌ {manager.name} 驳回了发票 {invoice.number}，未入账。如需入账请核对后重新提交。",
                )
        elif outcome == "already_posted":
            await edit(query, f"{head}\n\n✅ 该发票已入账（凭证 {number}），没有重复记账。")
        else:
            await edit(query, f"{head}\n\n该发票已作废。")
    except ErpError as exc:
        await query.answer(exc.message()[:190], show_alert=True)


async def _change_account(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    ctx: AppContext,
    staff: Staff,
    action: str,
    invoice_id: int,
    rest: list[str],
) -> None:
    query = update.callback_query
    text = query.message.text or ""
    with transaction(ctx.engine) as s:
        invoice = s.get(Invoice, invoice_id)
        if invoice is None:
            raise ErpError("NOT_FOUND", what="发票", key=invoice_id)
        voucher = s.get(Voucher, invoice.voucher_id)
        if voucher.status not in ("draft", "approved") or invoice.status != "draft":
            raise ErpError(
                "VOUCHER_STATE", number=voucher.number, state=state_name(voucher.status), action="改科目"
            )
        rows = lines_of(s, voucher.id)
        if action == "acc":
            buttons: Buttons = [
                [(f"第{r.line_no}行 {'借' if r.debit else '贷'} {r.account_code} {full_name(s, r.account_code)}"[:40],
                  f"inv:ln:{invoice_id}:{r.line_no}")]
                for r in rows
                if r.account_code not in FIXED_LINES
            ]  # fmt: skip
            buttons.append([("↩️ 返回", f"inv:back:{invoice_id}")])
            new_text = text
        elif action == "ln":
            line_no = int(rest[0])
            row = next((r for r in rows if r.line_no == line_no), None)
            if row is None:
                raise ErpError("NOT_FOUND", what="分录行", key=line_no)
            choices = DEBIT_CHOICES if row.debit else CREDIT_CHOICES
            buttons = [
                [(f"{code} {full_name(s, code)}"[:40], f"inv:set:{invoice_id}:{line_no}:{code}")]
                for code in choices
                if code != row.account_code
            ]
            buttons.append([("↩️ 返回", f"inv:acc:{invoice_id}")])
            new_text = text
        elif action == "set":
            voucher = change_line_account(s, invoice_id, int(rest[0]), rest[1], actor_id=staff.id)
            new_text = with_new_voucher(text, s, voucher)
            buttons = draft_buttons(invoice_id)
        else:  # back
            new_text, buttons = text, draft_buttons(invoice_id)
    await query.answer()
    await edit(query, new_text, buttons)


def register(application: Application) -> None:
    files = filters.PHOTO | filters.Document.ALL
    application.add_handler(MessageHandler(files, file_received), group=COMMAND_GROUP)
    application.add_handler(CallbackQueryHandler(invoice_button, pattern=r"^inv:"), group=COMMAND_GROUP)
    application.add_handler(CallbackQueryHandler(approval_button, pattern=r"^apv:"), group=COMMAND_GROUP)


__all__ = ["card", "register"]
