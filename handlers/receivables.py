"""Receivables: "华为欠多少", "应收账款", "账龄", "平均回款周期", /ar, /aging (chart), and receipts.

Receipts ("收到华为 5000", /receive): the bot proposes (a ``pending_action`` row) and
✅ posts it through ``erp.receivables.settle`` with the action's id as idempotency key,
so a double tap or a replayed update records one receipt. Sales staff see only their
own customers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from decimal import Decimal

from sqlmodel import Session, select
from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from erp.db import transaction
from erp.errors import ErpError
from erp.models import Party, PendingAction, Settlement, Staff, Voucher
from erp.parties import find_parties
from erp.receivables import (
    BUCKETS,
    aging,
    allocate_oldest_first,
    collection_period_by_region,
    open_items,
    receivable_summary,
    settle,
    top_debtors,
)
from erp.staff import can
from handlers.answer_cache import cache_of
from handlers.charts import aging_chart
from handlers.common import (
    COMMAND_GROUP,
    Buttons,
    app_context,
    claim,
    detached,
    edit,
    final,
    parse_callback,
    pending_action,
    reply,
    reply_error,
    require_role,
    today,
)
from values.money import MoneyError, fmt, money

MAX_ITEMS = 30


# --- who may see whom ----------------------------------------------------------


def visible_party_ids(session: Session, staff: Staff) -> list[int] | None:
    """None = every customer; a sales person sees the customers they look after."""
    if can(staff, "view_all_receivables"):
        return None
    return list(session.exec(select(Party.id).where(Party.sales_rep_id == staff.id)).all())


def _visibility(staff: Staff) -> object:
    """What part of the receivables this person sees: part of a cached answer's key."""
    return "all" if can(staff, "view_all_receivables") else ("own", staff.id)


def find_customers(session: Session, query: str, staff: Staff) -> list[Party]:
    allowed = visible_party_ids(session, staff)
    matches = find_parties(session, query, kind="customer", limit=8)
    parties = [m.item for m in matches if allowed is None or m.item.id in allowed]
    if len(parties) > 1 and matches[0].score >= 95 and matches[0].item in parties:
        second = next((m for m in matches[1:] if m.item in parties), None)
        if second is None or matches[0].score - second.score >= 10:
            return [matches[0].item]
    return parties


def party_name(p: Party) -> str:
    return p.short_name or p.name


# --- texts ---------------------------------------------------------------------


def party_receivable_text(session: Session, party: Party, as_of: dt.date) -> str:
    summary = receivable_summary(session, party, as_of=as_of)
    items = summary["items"]
    lines = [f"💰 {party.name}", f"应收余额：¥{fmt(summary['balance'])}，其中逾期 ¥{fmt(summary['overdue'])}"]
    if not items:
        lines.append("没有未结发票。")
        return "\n".join(lines)
    lines.append(f"未结发票（{len(items)} 张）：")
    for it in items[:MAX_ITEMS]:
        days = it.days_overdue(as_of)
        state = f"逾期 {days} 天" if days > 0 else f"{-days} 天后到期" if days < 0 else "今天到期"
        lines.append(f"• {it.number} 开票 {it.issue_date} 到期 {it.due_date} 未收 ¥{fmt(it.open)}（{state}）")
    if len(items) > MAX_ITEMS:
        lines.append(f"…另有 {len(items) - MAX_ITEMS} 张")
    lines.append("账龄：" + "，".join(f"{b} ¥{fmt(v)}" for b, v in summary["aging"].buckets.items() if v))
    return "\n".join(lines)


def aging_text(session: Session, as_of: dt.date, party_ids: list[int] | None) -> str:
    ag = aging(session, as_of=as_of)
    buckets = ag.buckets
    if party_ids is not None:
        buckets = {
            b: sum((ag.by_party.get(pid, {}).get(b, Decimal(0)) for pid in party_ids), Decimal(0))
            for b in BUCKETS
        }
    total = sum(buckets.values(), Decimal(0))
    lines = [f"📊 应收账龄（截至 {as_of}）", f"合计 ¥{fmt(total)}"]
    for b, v in buckets.items():
        share = f"{v / total * 100:.1f}%" if total else "0%"
        lines.append(f"• {b}：¥{fmt(v)}（{share}）")
    return "\n".join(lines)


def ar_summary_text(session: Session, as_of: dt.date, party_ids: list[int] | None) -> str:
    lines = [aging_text(session, as_of, party_ids), "", "欠款最多的客户："]
    debtors = [(p, a) for p, a in top_debtors(session, limit=50) if party_ids is None or p.id in party_ids][
        :10
    ]
    if not debtors:
        lines.append("（无）")
    for i, (p, amount) in enumerate(debtors, 1):
        lines.append(f"{i}. {p.name}：¥{fmt(amount)}")
    lines.append("\n查某个客户：发送「华为欠多少」或 /ar 客户名")
    return "\n".join(lines)


def collection_text(session: Session) -> str:
    data = collection_period_by_region(session)
    if not data:
        return "还没有收款记录，无法计算平均回款周期。"
    lines = ["⏱ 平均回款周期（按金额加权，开票到收款）："]
    for region, (days, count) in sorted(data.items(), key=lambda kv: kv[1][0]):
        lines.append(f"• {region}：{days} 天（{count} 笔）")
    return "\n".join(lines)


# --- questions -----------------------------------------------------------------


async def answer_receivable(update: Update, context: ContextTypes.DEFAULT_TYPE, query: str) -> None:
    try:
        staff = require_role(context, "view_receivables")
        ctx = app_context(context)
        day = today(context)

        def compute(s: Session) -> tuple[str, Buttons | None]:
            parties = find_customers(s, query, staff)
            if not parties:
                return f"没有找到您可查看的客户「{query}」。", None
            if len(parties) == 1:
                return party_receivable_text(s, parties[0], day), None
            buttons = [[(p.name[:40], f"ar:p:{p.id}")] for p in parties]
            return f"有 {len(parties)} 个客户匹配「{query}」，请选择：", buttons

        key = ("ar", query.strip().upper(), _visibility(staff), day)
        text, buttons = cache_of(ctx).answer(ctx.engine, key, compute)
        await reply(update, context, text, buttons)
    except ErpError as exc:
        await reply_error(update, context, exc)


async def answer_ar_summary(
    update: Update, context: ContextTypes.DEFAULT_TYPE, aging_only: bool = False
) -> None:
    try:
        staff = require_role(context, "view_receivables")
        ctx = app_context(context)
        day = today(context)
        fn = aging_text if aging_only else ar_summary_text
        key = ("aging" if aging_only else "ar_summary", _visibility(staff), day)
        text = cache_of(ctx).answer(ctx.engine, key, lambda s: fn(s, day, visible_party_ids(s, staff)))
        buttons = [[("📈 账龄图表", "ar:chart")]] if aging_only else None
        await reply(update, context, text, buttons)
    except ErpError as exc:
        await reply_error(update, context, exc)


async def answer_collection(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    try:
        require_role(context, "view_all_receivables")
        ctx = app_context(context)
        text = cache_of(ctx).answer(ctx.engine, ("collection", today(context)), collection_text)
        await reply(update, context, text)
    except ErpError as exc:
        await reply_error(update, context, exc)


async def send_aging_chart(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    staff = require_role(context, "view_receivables")
    as_of = today(context)
    with detached(app_context(context).engine) as s:
        ids = visible_party_ids(s, staff)
        ag = aging(s, as_of=as_of)
        buckets = ag.buckets
        if ids is not None:
            buckets = {
                b: sum((ag.by_party.get(p, {}).get(b, Decimal(0)) for p in ids), Decimal(0)) for b in BUCKETS
            }
        debtors = [(party_name(p), a) for p, a in top_debtors(s, limit=50) if ids is None or p.id in ids][:8]
        caption = aging_text(s, as_of, ids)
    png = await asyncio.to_thread(aging_chart, buckets, debtors, f"应收账龄 {as_of}")
    await context.bot.send_photo(update.effective_chat.id, png, caption=caption[:1024])


@final
async def ar_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = " ".join(context.args or []).strip()
    if query:
        await answer_receivable(update, context, query)
    else:
        await answer_ar_summary(update, context)


@final
async def aging_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    try:
        await send_aging_chart(update, context)
    except ErpError as exc:
        await reply_error(update, context, exc)


@final
async def ar_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    parts = parse_callback(query.data, "ar") or []
    try:
        staff = require_role(context, "view_receivables")
        await query.answer()
        if parts[0] == "chart":
            await send_aging_chart(update, context)
            return
        with detached(app_context(context).engine) as s:
            party = s.get(Party, int(parts[1]))
            ids = visible_party_ids(s, staff)
            if party is None or (ids is not None and party.id not in ids):
                raise ErpError("NOT_FOUND", what="客户", key=parts[1])
            text = party_receivable_text(s, party, today(context))
        await edit(query, text)
    except ErpError as exc:
        await reply_error(update, context, exc)


# --- receipts ------------------------------------------------------------------


def receipt_proposal(session: Session, party: Party, amount: Decimal, on: dt.date) -> str:
    items = open_items(session, party_id=party.id)
    allocations, rest = allocate_oldest_first(items, amount)
    lines = [
        "🧾 收款确认",
        f"客户：{party.name}",
        f"金额：¥{fmt(amount)}",
        f"日期：{on}",
        "借：1002 银行存款；贷：1122 应收账款",
    ]
    if allocations:
        lines.append("将冲销（先到期先冲）：")
        lines += [f"• {it.number} ¥{fmt(take)}" for it, take in allocations[:MAX_ITEMS]]
    if rest > 0:
        lines.append(f"其中 ¥{fmt(rest)} 超过未结金额，记入 2203 预收账款")
    return "\n".join(lines)


def open_receipt(
    session: Session, *, chat_id: int, staff: Staff, party: Party, amount: Decimal, on: dt.date
) -> PendingAction:
    action = PendingAction(
        kind="receipt",
        chat_id=chat_id,
        staff_id=staff.id,
        payload=json.dumps({"party_id": party.id, "amount": str(amount), "date": on.isoformat()}),
    )
    session.add(action)
    session.flush()
    return action


def receipt_buttons(action_id: int) -> Buttons:
    return [[("✅ 确认收款", f"rcv:ok:{action_id}"), ("❌ 取消", f"rcv:no:{action_id}")]]


async def propose_receipt(
    update: Update, context: ContextTypes.DEFAULT_TYPE, who: str, amount_text: object
) -> None:
    ctx = app_context(context)
    try:
        staff = require_role(context, "receive")
        try:
            amount = money(amount_text)
        except (MoneyError, ValueError):
            raise ErpError("INVALID_AMOUNT", value=amount_text) from None
        if amount <= 0:
            raise ErpError("INVALID_AMOUNT", value=amount_text)
        with transaction(ctx.engine) as s:
            parties = find_customers(s, who, staff)
            if not parties:
                raise ErpError("NOT_FOUND", what="客户", key=who)
            if len(parties) > 1:
                action = PendingAction(
                    kind="receipt",
                    chat_id=update.effective_chat.id,
                    staff_id=staff.id,
                    payload=json.dumps(
                        {"party_id": None, "amount": str(amount), "date": today(context).isoformat()}
                    ),
                )
                s.add(action)
                s.flush()
                text = f"有 {len(parties)} 个客户匹配「{who}」，收款 ¥{fmt(amount)} 记给哪一个？"
                buttons = [[(p.name[:40], f"rcv:pty:{action.id}:{p.id}")] for p in parties]
                buttons.append([("❌ 取消", f"rcv:no:{action.id}")])
            else:
                action = open_receipt(
                    s,
                    chat_id=update.effective_chat.id,
                    staff=staff,
                    party=parties[0],
                    amount=amount,
                    on=today(context),
                )
                text = receipt_proposal(s, parties[0], amount, today(context))
                buttons = receipt_buttons(action.id)
        await reply(update, context, text, buttons)
    except ErpError as exc:
        await reply_error(update, context, exc)


@final
async def receipt_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """rcv:ok:<id> posts, rcv:no:<id> cancels, rcv:pty:<id>:<party> picks the customer."""
    query = update.callback_query
    parts = parse_callback(query.data, "rcv") or []
    ctx = app_context(context)
    try:
        staff = require_role(context, "receive")
        action_id = int(parts[1])
        with transaction(ctx.engine) as s:
            action = pending_action(s, action_id, "receipt", "收款申请")
            info = json.loads(action.payload)
            if parts[0] == "pty":
                party = s.get(Party, int(parts[2]))
                if party is None or action.status != "open":
                    raise ErpError("NOT_FOUND", what="收款申请", key=action_id)
                info["party_id"] = party.id
                action.payload = json.dumps(info)
                s.add(action)
                text = receipt_proposal(
                    s, party, Decimal(info["amount"]), dt.date.fromisoformat(info["date"])
                )
                buttons = receipt_buttons(action.id)
            else:
                new_status = "done" if parts[0] == "ok" else "cancelled"
                claimed = claim(s, action, new_status)
                buttons = None
                if not claimed:
                    text = already_decided(s, action)
                elif new_status == "cancelled":
                    text = "已取消这笔收款，未记账。"
                else:
                    party = s.get(Party, info["party_id"])
                    settlement = settle(
                        s,
                        party=party,
                        amount=info["amount"],
                        date=dt.date.fromisoformat(info["date"]),
                        settings=ctx.settings,
                        actor_id=staff.id,
                        idempotency_key=f"pending:{action.id}",
                    )
                    voucher = s.get(Voucher, settlement.voucher_id)
                    action.result = voucher.number
                    s.add(action)
                    text = f"✅ 已收款入账：{party.name} ¥{fmt(settlement.amount)}，凭证 {voucher.number}" + (
                        f"\n其中 ¥{fmt(settlement.unallocated)} 记入预收账款"
                        if settlement.unallocated
                        else ""
                    )
        await query.answer()
        await edit(query, text, buttons)
    except ErpError as exc:
        await query.answer(exc.message()[:190], show_alert=True)
        await reply_error(update, context, exc)


def already_decided(session: Session, action: PendingAction) -> str:
    if action.status == "cancelled":
        return "这笔收款已取消。"
    settlement = session.exec(
        select(Settlement).where(Settlement.idempotency_key == f"pending:{action.id}")
    ).first()
    number = action.result or (session.get(Voucher, settlement.voucher_id).number if settlement else "")
    return f"这笔收款已入账（{number}），没有重复记账。"


# /receive as a conversation: customer? amount? -> the same proposal

ASK_PARTY, ASK_AMOUNT = "receive_party", "receive_amount"


async def receive_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    try:
        require_role(context, "receive")
    except ErpError as exc:
        await reply_error(update, context, exc)
        return ConversationHandler.END
    args = context.args or []
    if len(args) >= 2:
        await propose_receipt(update, context, " ".join(args[:-1]), args[-1])
        return ConversationHandler.END
    if len(args) == 1:
        context.chat_data["receive_party"] = args[0]
        await reply(update, context, f"收到「{args[0]}」多少钱？（输入金额，/cancel 取消）")
        return ASK_AMOUNT
    await reply(update, context, "收到哪个客户的款？（输入客户名，/cancel 取消）")
    return ASK_PARTY


async def receive_party(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    context.chat_data["receive_party"] = update.message.text.strip()
    await reply(
        update, context, f"收到「{context.chat_data['receive_party']}」多少钱？（输入金额，/cancel 取消）"
    )
    return ASK_AMOUNT


async def receive_amount(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    text = update.message.text.strip()
    try:
        money(text)
    except (MoneyError, ValueError):
        await reply(update, context, f"「{text}」不是金额，请输入数字，例如 5000 或 5,000.00（/cancel 取消）")
        return ASK_AMOUNT
    await propose_receipt(update, context, context.chat_data.pop("receive_party", ""), text)
    return ConversationHandler.END


async def receive_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    context.chat_data.pop("receive_party", None)
    await reply(update, context, "已取消。")
    return ConversationHandler.END


def register(application: Application) -> None:
    text = filters.TEXT & ~filters.COMMAND
    conversation = ConversationHandler(
        entry_points=[CommandHandler("receive", final(receive_start))],
        states={
            ASK_PARTY: [MessageHandler(text, final(receive_party))],
            ASK_AMOUNT: [MessageHandler(text, final(receive_amount))],
        },
        fallbacks=[CommandHandler("cancel", final(receive_cancel))],
        name="receive",
        persistent=True,
        conversation_timeout=None,
    )
    application.add_handler(conversation, group=COMMAND_GROUP)
    application.add_handler(CommandHandler("ar", ar_command), group=COMMAND_GROUP)
    application.add_handler(CommandHandler("aging", aging_command), group=COMMAND_GROUP)
    application.add_handler(CallbackQueryHandler(ar_button, pattern=r"^ar:"), group=COMMAND_GROUP)
    application.add_handler(CallbackQueryHandler(receipt_button, pattern=r"^rcv:"), group=COMMAND_GROUP)
