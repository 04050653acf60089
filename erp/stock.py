"""Stock: an append-only ledger of moves; on-hand and value are sums of it.

Cost is moving average per product (移动加权平均): an inbound move changes the
average, an outbound move leaves at the current average. ``Product.avg_cost``
caches value / quantity after every move.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, select

from erp.config import Settings
from erp.db import cents_sum, qty_sum
from erp.errors import ErpError
from erp.models import Product, StockMove, Warehouse
from erp.vouchers import Line
from values.money import ZERO, fmt_qty, from_cents, from_ten_thousandths, q2, qty

COST_PLACES = Decimal("0.000001")
STOCK_ACCOUNTS = ("1403", "1405")


def stock_account(product: Product) -> str:
    """原材料 are held on 1403, everything else on 1405 库存商品."""
    return "1403" if (product.category or "") == "原材料" else "1405"


@dataclass
class StockLevel:
    product_id: int
    warehouse_id: int | None
    batch: str | None
    quantity: Decimal
    value: Decimal


def on_hand(
    session: Session, product_id: int, warehouse_id: int | None = None, batch: str | None = None
) -> Decimal:
    stmt = select(qty_sum(StockMove.quantity)).where(StockMove.product_id == product_id)
    if warehouse_id is not None:
        stmt = stmt.where(StockMove.warehouse_id == warehouse_id)
    if batch is not None:
        stmt = stmt.where(StockMove.batch == batch)
    return from_ten_thousandths(session.exec(stmt).one())


def stock_value(session: Session, product_id: int) -> Decimal:
    return from_cents(
        session.exec(select(cents_sum(StockMove.amount)).where(StockMove.product_id == product_id)).one()
    )


def levels(session: Session, product_id: int) -> list[StockLevel]:
    """Per warehouse and batch, only the non-zero ones."""
    rows = session.exec(
        select(
            StockMove.warehouse_id, StockMove.batch, qty_sum(StockMove.quantity), cents_sum(StockMove.amount)
        )
        .where(StockMove.product_id == product_id)
        .group_by(StockMove.warehouse_id, StockMove.batch)
        .order_by(StockMove.warehouse_id, StockMove.batch)
    ).all()
    out = []
    for wh, batch, q, v in rows:
        quantity = from_ten_thousandths(q)
        if quantity != 0:
            out.append(StockLevel(product_id, wh, batch, quantity, from_cents(v)))
    return out


def on_hand_all(session: Session) -> dict[int, Decimal]:
    rows = session.exec(
        select(StockMove.product_id, qty_sum(StockMove.quantity)).group_by(StockMove.product_id)
    ).all()
    return {pid: from_ten_thousandths(q) for pid, q in rows}


def default_warehouse(session: Session) -> Warehouse:
    wh = session.exec(select(Warehouse).order_by(Warehouse.id)).first()
    if wh is None:
        wh = Warehouse(code="WH01", name="主仓库")
        session.add(wh)
        session.flush()
    return wh


def _refresh_avg_cost(session: Session, product: Product) -> None:
    total_qty = on_hand(session, product.id)
    if total_qty > 0:
        product.avg_cost = (stock_value(session, product.id) / total_qty).quantize(COST_PLACES)
    session.add(product)


def _ensure_available(
    session: Session,
    product: Product,
    warehouse_id: int,
    batch: str | None,
    quantity: Decimal,
    settings: Settings,
) -> None:
    """Refuse taking ``quantity`` out when it would make stock negative (unless the company allows it)."""
    available = on_hand(session, product.id, warehouse_id, batch)
    if available < quantity and not settings.allow_negative_stock:
        wh = session.get(Warehouse, warehouse_id)
        raise ErpError(
            "NEGATIVE_STOCK",
            product=f"{product.sku} {product.name}",
            warehouse=wh.name if wh else warehouse_id,
            on_hand=fmt_qty(available),
            quantity=fmt_qty(quantity),
        )


def _record(session: Session, product: Product, **fields: object) -> StockMove:
    """Append one move to the ledger and bring the product's moving average up to date."""
    move = StockMove(product_id=product.id, **fields)
    session.add(move)
    session.flush()
    _refresh_avg_cost(session, product)
    return move


def move_in(
    session: Session,
    *,
    product: Product,
    warehouse_id: int,
    quantity: Decimal,
    amount: Decimal,
    date: dt.date,
    kind: str,
    batch: str = "",
    source_type: str | None = None,
    source_id: int | None = None,
    voucher_id: int | None = None,
    reason: str | None = None,
) -> StockMove:
    """Goods arrive at a known total cost (``amount``); the moving average follows."""
    quantity = qty(quantity)
    if quantity <= 0:
        raise ErpError("INVALID_INPUT", why="入库数量必须大于零")
    amount = q2(amount)
    return _record(
        session,
        product,
        warehouse_id=warehouse_id,
        batch=batch or "",
        quantity=quantity,
        unit_cost=(amount / quantity).quantize(COST_PLACES),
        amount=amount,
        move_date=date,
        kind=kind,
        source_type=source_type,
        source_id=source_id,
        voucher_id=voucher_id,
        reason=reason,
    )


def move_out(
    session: Session,
    *,
    product: Product,
    warehouse_id: int,
    quantity: Decimal,
    date: dt.date,
    kind: str,
    settings: Settings,
    batch: str | None = None,
    source_type: str | None = None,
    source_id: int | None = None,
    voucher_id: int | None = None,
    reason: str | None = None,
    amount: Decimal | None = None,
) -> StockMove:
    """Goods leave at the current average cost (or at ``amount``, e.g. a return to the supplier
    at its invoice cost). Refused if stock would go negative (unless allowed)."""
    quantity = qty(quantity)
    if quantity <= 0:
        raise ErpError("INVALID_INPUT", why="出库数量必须大于零")
    _ensure_available(session, product, warehouse_id, batch, quantity, settings)
    total_qty = on_hand(session, product.id)
    if amount is not None:
        amount = -q2(amount)
    elif total_qty == quantity:
        amount = -stock_value(session, product.id)  # the last units take the remaining value exactly
    else:
        amount = -q2(quantity * product.avg_cost)
    return _record(
        session,
        product,
        warehouse_id=warehouse_id,
        batch=batch or "",
        quantity=-quantity,
        unit_cost=product.avg_cost,
        amount=amount,
        move_date=date,
        kind=kind,
        source_type=source_type,
        source_id=source_id,
        voucher_id=voucher_id,
        reason=reason,
    )


def reverse_moves(
    session: Session, *, source_type: str, source_id: int, date: dt.date, settings: Settings
) -> int:
    """Undo every move of a source document with opposite moves (never deleting any)."""
    moves = session.exec(
        select(StockMove).where(
            StockMove.source_type == source_type,
            StockMove.source_id == source_id,
            StockMove.kind != "reversal",
        )
    ).all()
    for m in moves:
        product = session.get(Product, m.product_id)
        if m.quantity > 0:  # undoing an arrival takes the goods out again
            _ensure_available(session, product, m.warehouse_id, m.batch, m.quantity, settings)
        _record(
            session,
            product,
            warehouse_id=m.warehouse_id,
            batch=m.batch,
            quantity=-m.quantity,
            unit_cost=m.unit_cost,
            amount=-m.amount,
            move_date=date,
            kind="reversal",
            source_type=source_type,
            source_id=source_id,
            reason=f"冲销 #{m.id}",
        )
    return len(moves)


@dataclass
class CountResult:
    product: Product
    counted: Decimal
    book: Decimal
    difference: Decimal
    amount: Decimal
    voucher_lines: list[Line]


def count_adjustment(
    session: Session,
    *,
    product: Product,
    warehouse_id: int,
    counted: Decimal,
    date: dt.date,
    settings: Settings,
    reason: str,
    batch: str = "",
) -> CountResult:
    """盘点调整: move stock to the counted quantity; returns the voucher lines for the difference.

    Gain: Dr 1405 / Cr 1901 待处理财产损溢; loss: Dr 1901 / Cr 1405 (at average cost).
    The caller writes the voucher (``adjust_stock`` does both in one transaction).
    """
    counted = qty(counted)
    if counted < 0:
        raise ErpError("INVALID_INPUT", why="盘点数量不能为负数")
    if not reason:
        raise ErpError("INVALID_INPUT", why="盘点调整需要填写原因")
    book = on_hand(session, product.id, warehouse_id, batch)
    diff = counted - book
    lines: list[Line] = []
    amount = ZERO
    if diff > 0:
        unit = product.avg_cost if product.avg_cost > 0 else Decimal(0)
        amount = q2(diff * unit)
        move_in(
            session,
            product=product,
            warehouse_id=warehouse_id,
            quantity=diff,
            amount=amount,
            date=date,
            kind="adjust",
            batch=batch,
            source_type="adjust",
            reason=reason,
        )
        if amount:
            summary = f"盘盈 {product.sku} {product.name} {fmt_qty(diff)}{product.unit or ''}"
            acc = stock_account(product)
            lines = [Line(acc, debit=amount, summary=summary), Line("1901", credit=amount, summary=summary)]
    elif diff < 0:
        move = move_out(
            session,
            product=product,
            warehouse_id=warehouse_id,
            quantity=-diff,
            date=date,
            kind="adjust",
            settings=settings,
            batch=batch,
            source_type="adjust",
            reason=reason,
        )
        amount = -move.amount
        if amount:
            summary = f"盘亏 {product.sku} {product.name} {fmt_qty(-diff)}{product.unit or ''}"
            acc = stock_account(product)
            lines = [Line("1901", debit=amount, summary=summary), Line(acc, credit=amount, summary=summary)]
    return CountResult(product, counted, book, diff, amount, lines)


@dataclass
class LowStock:
    product: Product
    on_hand: Decimal
    minimum: Decimal

    @property
    def shortfall(self) -> Decimal:
        return self.minimum - self.on_hand

    @property
    def suggested_order(self) -> Decimal:
        """Bring stock back to twice the minimum (a simple, explainable reorder rule)."""
        return max(self.minimum * 2 - self.on_hand, Decimal(0))


def below_minimum(session: Session) -> list[LowStock]:
    """Active products whose on-hand is below their minimum, worst shortfall first."""
    sums = (
        select(StockMove.product_id.label("pid"), qty_sum(StockMove.quantity).label("q"))
        .group_by(StockMove.product_id)
        .subquery()
    )
    rows = session.exec(
        select(Product, func.coalesce(sums.c.q, 0))
        .outerjoin(sums, sums.c.pid == Product.id)
        .where(Product.active == True, Product.min_stock > 0)  # noqa: E712
    ).all()
    out = []
    for product, q in rows:
        level = from_ten_thousandths(q)
        if level < product.min_stock:
            out.append(LowStock(product, level, qty(product.min_stock)))
    out.sort(key=lambda x: (-(x.shortfall / x.minimum if x.minimum else 0), x.product.sku))
    return out


def adjust_stock(
    session: Session,
    *,
    product: Product,
    warehouse_id: int,
    counted: Decimal,
    date: dt.date,
    settings: Settings,
    reason: str,
    actor_id: int | None = None,
    batch: str = "",
):
    """盘点调整 as one business action: the moves and their posted voucher (none when nothing changed)."""
    from sqlalchemy import update

    from erp.vouchers import create_voucher, post_voucher

    result = count_adjustment(
        session,
        product=product,
        warehouse_id=warehouse_id,
        counted=counted,
        date=date,
        settings=settings,
        reason=reason,
        batch=batch,
    )
    voucher = None
    if result.voucher_lines:
        voucher = create_voucher(
            session,
            date=date,
            lines=result.voucher_lines,
            summary=f"盘点调整：{reason}"[:128],
            created_by=actor_id,
            source_type="adjust",
            source_id=product.id,
        )
        # a count is a fact on the shelf, not a spending decision: no approval step
        post_voucher(session, voucher, settings, actor_id, needs_no_approval=True)
        session.execute(
            update(StockMove)
            .where(
                StockMove.source_type == "adjust",
                StockMove.voucher_id.is_(None),
                StockMove.product_id == product.id,
            )
            .values(voucher_id=voucher.id, source_id=voucher.id)
        )
        session.flush()
    return result, voucher
