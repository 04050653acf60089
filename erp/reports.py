"""Reports derived from the posted ledger: trial balance, balances, gross margin."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, func
from sqlmodel import Session, select

from erp.db import cents_sum
from erp.models import Account, Invoice, InvoiceLine, Product, Voucher, VoucherLine
from values.money import ZERO, from_cents


@dataclass
class TBRow:
    code: str
    name: str
    level: int
    nature: str
    opening: Decimal  # signed, debit positive
    debit: Decimal
    credit: Decimal

    @property
    def closing(self) -> Decimal:
        return self.opening + self.debit - self.credit

    @staticmethod
    def sides(balance: Decimal) -> tuple[Decimal, Decimal]:
        return (balance, ZERO) if balance >= 0 else (ZERO, -balance)


@dataclass
class TrialBalance:
    period: str
    rows: list[TBRow]

    def totals(self) -> dict[str, Decimal]:
        leaves = [r for r in self.rows if r.level == 1]
        od = sum((TBRow.sides(r.opening)[0] for r in leaves), ZERO)
        oc = sum((TBRow.sides(r.opening)[1] for r in leaves), ZERO)
        cd = sum((TBRow.sides(r.closing)[0] for r in leaves), ZERO)
        cc = sum((TBRow.sides(r.closing)[1] for r in leaves), ZERO)
        return {
            "opening_debit": od,
            "opening_credit": oc,
            "debit": sum((r.debit for r in leaves), ZERO),
            "credit": sum((r.credit for r in leaves), ZERO),
            "closing_debit": cd,
            "closing_credit": cc,
        }

    @property
    def balanced(self) -> bool:
        t = self.totals()
        return (
            t["opening_debit"] == t["opening_credit"]
            and t["debit"] == t["credit"]
            and t["closing_debit"] == t["closing_credit"]
        )


def trial_balance(session: Session, period: str) -> TrialBalance:
    """试算平衡表 for YYYY-MM, every level, accounts with any figure only."""
    before = Voucher.period < period
    within = Voucher.period == period
    stmt = (
        select(
            VoucherLine.account_code,
            cents_sum(case((before, VoucherLine.debit - VoucherLine.credit), else_=0)),
            cents_sum(case((within, VoucherLine.debit), else_=0)),
            cents_sum(case((within, VoucherLine.credit), else_=0)),
        )
        .join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .where(Voucher.posted_at.is_not(None), Voucher.period <= period)  # type: ignore[union-attr]
        .group_by(VoucherLine.account_code)
    )
    sums = {code: (from_cents(o), from_cents(d), from_cents(c)) for code, o, d, c in session.exec(stmt).all()}
    accounts = {a.code: a for a in session.exec(select(Account)).all()}
    rolled: dict[str, list[Decimal]] = {}
    for code, (o, d, c) in sums.items():
        acc = accounts.get(code)
        while acc is not None:
            r = rolled.setdefault(acc.code, [ZERO, ZERO, ZERO])
            r[0] += o
            r[1] += d
            r[2] += c
            acc = accounts.get(acc.parent_code) if acc.parent_code else None
    rows = []
    for code in sorted(rolled):
        o, d, c = rolled[code]
        if o == 0 and d == 0 and c == 0:
            continue
        acc = accounts[code]
        rows.append(TBRow(code, acc.name, acc.level, acc.nature, o, d, c))
    return TrialBalance(period, rows)


def balance(
    session: Session, account_code: str, *, party_id: int | None = None, until: dt.date | None = None
) -> Decimal:
    """Signed balance (debit positive) of an account and its sub-accounts."""
    stmt = (
        select(cents_sum(VoucherLine.debit - VoucherLine.credit))
        .join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .where(Voucher.posted_at.is_not(None), VoucherLine.account_code.startswith(account_code))  # type: ignore[union-attr]
    )
    if party_id is not None:
        stmt = stmt.where(VoucherLine.party_id == party_id)
    if until is not None:
        stmt = stmt.where(Voucher.date <= until)
    return from_cents(session.exec(stmt).one())


def balances_by_party(session: Session, account_code: str) -> dict[int, Decimal]:
    stmt = (
        select(VoucherLine.party_id, cents_sum(VoucherLine.debit - VoucherLine.credit))
        .join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .where(Voucher.posted_at.is_not(None), VoucherLine.account_code == account_code)  # type: ignore[union-attr]
        .group_by(VoucherLine.party_id)
    )
    return {pid: from_cents(v) for pid, v in session.exec(stmt).all()}


@dataclass
class MarginRow:
    product: Product
    quantity: Decimal
    revenue: Decimal
    cost: Decimal

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def margin_rate(self) -> Decimal | None:
        return (self.margin / self.revenue * 100).quantize(Decimal("0.1")) if self.revenue else None


def gross_margin(
    session: Session, *, start: dt.date | None = None, end: dt.date | None = None
) -> list[MarginRow]:
    """销售毛利 per product over posted sales invoices, highest margin first."""
    stmt = (
        select(
            InvoiceLine.product_id,
            func.coalesce(func.sum(func.round(InvoiceLine.quantity * 10000)), 0),
            cents_sum(InvoiceLine.amount),
            cents_sum(func.coalesce(InvoiceLine.cost_amount, 0)),
        )
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.direction == "sales", Invoice.status == "posted", InvoiceLine.product_id.is_not(None))  # type: ignore[union-attr]
        .group_by(InvoiceLine.product_id)
    )
    if start:
        stmt = stmt.where(Invoice.issue_date >= start)
    if end:
        stmt = stmt.where(Invoice.issue_date <= end)
    rows = session.exec(stmt).all()
    products = {
        p.id: p for p in session.exec(select(Product).where(Product.id.in_([r[0] for r in rows]))).all()
    }  # type: ignore[attr-defined]
    from values.money import from_ten_thousandths

    out = [
        MarginRow(products[pid], from_ten_thousandths(q), from_cents(r), from_cents(c))
        for pid, q, r, c in rows
    ]
    out.sort(key=lambda m: -m.margin)
    return out
