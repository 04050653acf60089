"""Vouchers and the trial balance: /voucher N, /vouchers (today's), /tb (this month)."""

from __future__ import annotations

from sqlmodel import Session, select
from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from erp.chart import full_name
from erp.errors import ErpError
from erp.models import Party, Voucher
from erp.reports import TBRow, trial_balance
from erp.vouchers import get_voucher, lines_of, period_of, state_name
from handlers.common import (
    COMMAND_GROUP,
    app_context,
    detached,
    final,
    reply,
    reply_error,
    require_role,
    today,
)
from values.money import fmt


def voucher_lines_text(session: Session, voucher_id: int) -> list[str]:
    out = []
    parties: dict[int, str] = {}
    for ln in lines_of(session, voucher_id):
        if ln.party_id and ln.party_id not in parties:
            p = session.get(Party, ln.party_id)
            parties[ln.party_id] = p.short_name or p.name if p else ""
        who = f"（{parties[ln.party_id]}）" if ln.party_id else ""
        side = f"借 {fmt(ln.debit)}" if ln.debit else f"贷 {fmt(ln.credit)}"
        out.append(f"  {ln.line_no}. {ln.account_code} {full_name(session, ln.account_code)}{who}  {side}")
    return out


def voucher_text(session: Session, voucher: Voucher) -> str:
    lines = [
        f"📒 凭证 {voucher.number}（{state_name(voucher.status)}）",
        f"日期：{voucher.date}  摘要：{voucher.summary}",
        *voucher_lines_text(session, voucher.id),
        f"合计：¥{fmt(voucher.total)}",
    ]
    if voucher.reversed_by_id:
        rev = session.get(Voucher, voucher.reversed_by_id)
        lines.append(f"已被 {rev.number if rev else voucher.reversed_by_id} 冲销")
    return "\n".join(lines)


def vouchers_today_text(session: Session, day) -> str:
    rows = session.exec(select(Voucher).where(Voucher.date == day).order_by(Voucher.seq)).all()
    if not rows:
        return f"{day} 还没有凭证。"
    lines = [f"📒 {day} 的凭证（{len(rows)} 张）："]
    for v in rows:
        lines.append(f"• {v.number} {state_name(v.status)} ¥{fmt(v.total)} {v.summary}")
    lines.append("\n查看明细：/voucher 凭证号")
    return "\n".join(lines)


def trial_balance_text(session: Session, period: str) -> str:
    tb = trial_balance(session, period)
    if not tb.rows:
        return f"{period} 没有已记账的凭证。"
    lines = [f"⚖️ 试算平衡表 {period}（一级科目，元）", "科目 | 期初 | 本期借方 | 本期贷方 | 期末"]
    for r in tb.rows:
        if r.level != 1:
            continue
        lines.append(
            f"{r.code} {r.name} | {_side(r.opening)} | {fmt(r.debit)} | {fmt(r.credit)} | {_side(r.closing)}"
        )
    t = tb.totals()
    lines.append(
        f"合计 | 借 {fmt(t['opening_debit'])} 贷 {fmt(t['opening_credit'])} | {fmt(t['debit'])} | {fmt(t['credit'])}"
        f" | 借 {fmt(t['closing_debit'])} 贷 {fmt(t['closing_credit'])}"
    )
    lines.append("✅ 借贷平衡" if tb.balanced else "❌ 借贷不平衡，请检查凭证")
    return "\n".join(lines)


def _side(balance) -> str:
    d, c = TBRow.sides(balance)
    return f"借 {fmt(d)}" if d else (f"贷 {fmt(c)}" if c else "0")


async def answer_vouchers(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    try:
        require_role(context, "view_vouchers")
        with detached(app_context(context).engine) as s:
            text = vouchers_today_text(s, today(context))
        await reply(update, context, text)
    except ErpError as exc:
        await reply_error(update, context, exc)


async def answer_trial_balance(
    update: Update, context: ContextTypes.DEFAULT_TYPE, period: str | None = None
) -> None:
    try:
        require_role(context, "view_vouchers")
        with detached(app_context(context).engine) as s:
            text = trial_balance_text(s, period or period_of(today(context)))
        await reply(update, context, text)
    except ErpError as exc:
        await reply_error(update, context, exc)


@final
async def voucher_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    key = " ".join(context.args or []).strip()
    if not key:
        await reply(
            update,
            context,
            "用法：/voucher 凭证号，例如 /voucher 记-202405-0001 或 /voucher 1（本月第 1 号）",
        )
        return
    try:
        require_role(context, "view_vouchers")
        with detached(app_context(context).engine) as s:
            if key.isdigit() and len(key) <= 4:
                key = f"{period_of(today(context))}-{int(key)}"
            text = voucher_text(s, get_voucher(s, key))
        await reply(update, context, text)
    except ErpError as exc:
        await reply_error(update, context, exc)


@final
async def vouchers_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await answer_vouchers(update, context)


@final
async def tb_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    period = (context.args or [None])[0]
    await answer_trial_balance(update, context, period)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("voucher", voucher_command), group=COMMAND_GROUP)
    application.add_handler(CommandHandler("vouchers", vouchers_command), group=COMMAND_GROUP)
    application.add_handler(CommandHandler("tb", tb_command), group=COMMAND_GROUP)
