"""Stock questions: "库存 A001", "A001还有多少", "红色T恤M码库存", /stock, /lowstock.

Several close matches -> buttons to choose (``stk:p:<product id>``); one match -> on-hand,
per-warehouse and batch detail, flagged when below its minimum.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from sqlmodel import Session, select
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from erp.db import transaction
from erp.errors import ErpError
from erp.fuzzy import Match
from erp.models import PendingAction, Product, Warehouse
from erp.products import find_products
from erp.stock import adjust_stock, below_minimum, default_warehouse, levels, on_hand
from handlers.answer_cache import cache_of
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
from values.money import MoneyError, fmt, fmt_qty, qty

MAX_CHOICES = 8


def product_label(p: Product) -> str:
    shown = f"{p.name} {p.spec or ''}"
    extra = [x for x in (p.colour, p.size) if x and x not in shown]
    return " ".join(x for x in (p.sku, p.name, p.spec, *extra) if x)


def product_detail(session: Session, product: Product) -> str:
    unit = product.unit or ""
    total = on_hand(session, product.id)
    lines = [f"📦 {product_label(product)}", f"现有库存：{fmt_qty(total)}{unit}"]
    warehouses = {w.id: w for w in session.exec(select(Warehouse)).all()}
    rows = levels(session, product.id)
    if rows:
        lines.append("分仓 / 批次：")
        for lv in rows:
            wh = warehouses.get(lv.warehouse_id)
            batch = f" 批次 {lv.batch}" if lv.batch else ""
            lines.append(f"  • {wh.name if wh else lv.warehouse_id}{batch}：{fmt_qty(lv.quantity)}{unit}")
    if product.avg_cost:
        lines.append(
            f"平均成本：¥{fmt(product.avg_cost)} / {unit or '件'}，库存金额 ¥{fmt(total * product.avg_cost)}"
        )
    if product.min_stock and total < product.min_stock:
        lines.append(f"⚠️ 低于最低库存 {fmt_qty(product.min_stock)}{unit}，建议补货")
    return "\n".join(lines)


def is_clear(matches: list[Match[Product]]) -> bool:
    """One match, or the best is exact (SKU) / clearly ahead of the next."""
    if len(matches) == 1:
        return True
    return (
        matches[0].matched_on == "sku"
        and matches[0].score >= 100
        or matches[0].score - matches[1].score >= 15
    )


def stock_answer(session: Session, query: str) -> tuple[str, Buttons | None]:
    matches = find_products(session, query, limit=MAX_CHOICES)
    if not matches:
        return (
            f"没有找到商品「{query}」。可以用编码（如 A001）、名称、别名或颜色尺码查询，例如「红色T恤M码库存」。",
            None,
        )
    if is_clear(matches):
        return product_detail(session, matches[0].item), None
    buttons = [[(product_label(m.item)[:40], f"stk:p:{m.item.id}")] for m in matches]
    return f"找到 {len(matches)} 个商品匹配「{query}」，请选择：", buttons


async def answer_stock(update: Update, context: ContextTypes.DEFAULT_TYPE, query: str) -> None:
    try:
        require_role(context, "view_stock")
        ctx = app_context(context)
        key = ("stock", " ".join(query.upper().split()))
        text, buttons = cache_of(ctx).answer(ctx.engine, key, lambda s: stock_answer(s, query))
        await reply(update, context, text, buttons)
    except ErpError as exc:
        await reply_error(update, context, exc)


def low_stock_text(session: Session) -> str:
    items = below_minimum(session)
    if not items:
        return "✅ 没有低于最低库存的商品。"
    lines = [f"⚠️ 低于最低库存的商品（{len(items)} 个）："]
    for it in items:
        unit = it.product.unit or ""
        lines.append(
            f"• {product_label(it.product)}：现有 {fmt_qty(it.on_hand)}{unit}，最低 {fmt_qty(it.minimum)}{unit}，"
            f"建议补货 {fmt_qty(it.suggested_order)}{unit}"
        )
    return "\n".join(lines)


async def answer_low_stock(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    try:
        require_role(context, "view_stock")
        ctx = app_context(context)
        text = cache_of(ctx).answer(ctx.engine, ("lowstock",), low_stock_text)
        await reply(update, context, text)
    except ErpError as exc:
        await reply_error(update, context, exc)


@final
async def stock_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = " ".join(context.args or []).strip()
    if not query:
        await reply(update, context, "用法：/stock 商品编码或名称，例如 /stock A001 或 /stock 红色T恤M码")
        return
    await answer_stock(update, context, query)


@final
async def lowstock_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await answer_low_stock(update, context)


@final
async def product_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    parts = parse_callback(query.data, "stk") or []
    try:
        require_role(context, "view_stock")
        with detached(app_context(context).engine) as s:
            product = s.get(Product, int(parts[1]))
            if product is None:
                raise ErpError("NOT_FOUND", what="商品", key=parts[1])
            text = product_detail(s, product)
        await query.answer()
        await edit(query, text)
    except ErpError as exc:
        await query.answer(exc.message()[:190], show_alert=True)


# --- 盘点调整: /count SKU 数量 原因 -> confirm -> stock moves and a posted voucher -----------------

COUNT_USAGE = "用法：/count 商品编码 实盘数量 原因，例如 /count A001 25 月末盘点"


def count_proposal(session: Session, product: Product, counted: Decimal, reason: str) -> str:
    wh = default_warehouse(session)
    book = on_hand(session, product.id, wh.id)
    diff = counted - book
    unit = product.unit or ""
    kind = "盘盈" if diff > 0 else "盘亏" if diff < 0 else "无差异"
    lines = [
        "📋 盘点调整确认",
        f"商品：{product_label(product)}（{wh.name}）",
        f"账面 {fmt_qty(book)}{unit} → 实盘 {fmt_qty(counted)}{unit}：{kind} {fmt_qty(abs(diff))}{unit}",
        f"原因：{reason}",
    ]
    if diff:
        lines.append(f"按平均成本约 ¥{fmt(abs(diff) * product.avg_cost)}，记入 1901 待处理财产损溢")
    return "\n".join(lines)


@final
async def count_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = context.args or []
    ctx = app_context(context)
    try:
        staff = require_role(context, "adjust_stock")
        if len(args) < 3:
            await reply(update, context, COUNT_USAGE)
            return
        try:
            counted = qty(args[1])
        except (MoneyError, ValueError):
            raise ErpError("INVALID_INPUT", why=f"数量「{args[1]}」不是数字。{COUNT_USAGE}") from None
        if counted < 0:
            raise ErpError("INVALID_INPUT", why="盘点数量不能为负数")
        reason = " ".join(args[2:])[:100]
        with transaction(ctx.engine) as s:
            matches = find_products(s, args[0], limit=5)
            if not matches or not is_clear(matches):
                names = "、".join(product_label(m.item) for m in matches) or "无"
                raise ErpError("INVALID_INPUT", why=f"请用准确的商品编码（匹配到：{names}）")
            product = matches[0].item
            text = count_proposal(s, product, counted, reason)
            action = PendingAction(
                kind="count",
                chat_id=update.effective_chat.id,
                staff_id=staff.id,
                payload=json.dumps(
                    {
                        "product_id": product.id,
                        "counted": str(counted),
                        "reason": reason,
                        "date": today(context).isoformat(),
                    },
                    ensure_ascii=False,
                ),
            )
            s.add(action)
            s.flush()
            buttons = [[("✅ 确认调整", f"cnt:ok:{action.id}"), ("❌ 取消", f"cnt:no:{action.id}")]]
        await reply(update, context, text, buttons)
    except ErpError as exc:
        await reply_error(update, context, exc)


@final
async def count_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    parts = parse_callback(query.data, "cnt") or []
    ctx = app_context(context)
    try:
        staff = require_role(context, "adjust_stock")
        action_id = int(parts[1])
        with transaction(ctx.engine) as s:
            action = pending_action(s, action_id, "count", "盘点申请")
            claimed = claim(s, action, "done" if parts[0] == "ok" else "cancelled")
            info = json.loads(action.payload)
            if not claimed:
                text = f"这次盘点已处理（{action.result or ('已取消' if action.status == 'cancelled' else '已调整')}），没有重复调整。"
            elif parts[0] != "ok":
                text = "已取消，库存未调整。"
            else:
                product = s.get(Product, info["product_id"])
                result, voucher = adjust_stock(
                    s,
                    product=product,
                    warehouse_id=default_warehouse(s).id,
                    counted=Decimal(info["counted"]),
                    date=dt.date.fromisoformat(info["date"]),
                    settings=ctx.settings,
                    reason=info["reason"],
                    actor_id=staff.id,
                )
                action.result = voucher.number if voucher else "无差异"
                s.add(action)
                text = (
                    f"✅ 已调整 {product_label(product)}：现有 {fmt_qty(result.counted)}{product.unit or ''}"
                    + (f"，凭证 {voucher.number}" if voucher else "（无差异，未生成凭证）")
                )
        await query.answer()
        await edit(query, text)
    except ErpError as exc:
        await query.answer(exc.message()[:190], show_alert=True)
        await reply_error(update, context, exc)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("count", count_command), group=COMMAND_GROUP)
    application.add_handler(CallbackQueryHandler(count_button, pattern=r"^cnt:"), group=COMMAND_GROUP)
    application.add_handler(CommandHandler("stock", stock_command), group=COMMAND_GROUP)
    application.add_handler(CommandHandler("lowstock", lowstock_command), group=COMMAND_GROUP)
    application.add_handler(CallbackQueryHandler(product_button, pattern=r"^stk:"), group=COMMAND_GROUP)
