"""Stock questions: "库存 A001", "A001还有多少", "红色T恤M码库存", /stock, /lowstock.

Several close matches -> buttons to choose (``stk:p:<product id>``); one match -> on-hand,
per-warehouse and batch detail, flagged when below its minimum.
"""

from __future__ import annotations

from sqlmodel import Session, select
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from erp.errors import ErpError
from erp.fuzzy import Match
from erp.models import Product, Warehouse
from erp.money import fmt, fmt_qty
from erp.products import find_products
from erp.stock import below_minimum, levels, on_hand
from handlers.answer_cache import cache_of
from handlers.common import (
    COMMAND_GROUP,
    Buttons,
    app_context,
    detached,
    edit,
    final,
    parse_callback,
    reply,
    reply_error,
    require_role,
)

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


def register(application: Application) -> None:
    application.add_handler(CommandHandler("stock", stock_command), group=COMMAND_GROUP)
    application.add_handler(CommandHandler("lowstock", lowstock_command), group=COMMAND_GROUP)
    application.add_handler(CallbackQueryHandler(product_button, pattern=r"^stk:"), group=COMMAND_GROUP)
