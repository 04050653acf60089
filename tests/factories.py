"""Builders for test data: parsed invoices in the schema's shape, parties, products."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from erp.config import Settings
from values.taxid import make_uscc

OUR_TAX_ID = "91310000MA1FL8XQ37"
OUR_NAME = "上海账房示范贸易有限公司"


def uscc(n: int) -> str:
    return make_uscc(f"9144030{n:010d}")


def line(
    name: str,
    amount: str,
    rate: str = "13%",
    quantity: str | None = "1",
    spec: str | None = None,
    unit: str | None = "个",
) -> dict:
    amt = Decimal(amount)
    r = Decimal(0) if rate in ("免税", "不征税") else Decimal(rate.rstrip("%")) / 100
    tax = (amt * r).quantize(Decimal("0.01"), ROUND_HALF_UP)
    unit_price = None
    if quantity:
        unit_price = str((amt / Decimal(quantity)).quantize(Decimal("0.00000001")).normalize())
    return {
        "name": name,
        "spec": spec,
        "unit": unit,
        "quantity": quantity,
        "unit_price": unit_price,
        "amount": str(amt.quantize(Decimal("0.01"))),
        "tax_rate": rate,
        "tax": str(tax),
    }


def parsed_invoice(
    *,
    direction: str = "purchase",
    number: str = "24312000000000000001",
    lines: list[dict] | None = None,
    other_name: str = "深圳华为技术有限公司",
    other_tax_id: str | None = None,
    invoice_type: str = "special",
    issue_date: dt.date | str = "2024-05-10",
    is_red: bool = False,
    remarks: str | None = None,
) -> dict:
    lines = lines or [line("*电子元件*电阻器", "500.00", quantity="100", spec="RC-0805")]
    other = {"name": other_name, "tax_id": other_tax_id or uscc(1)}
    us = {"name": OUR_NAME, "tax_id": OUR_TAX_ID}
    sign = -1 if is_red else 1
    if is_red:
        lines = [
            dict(
                ln,
                amount=str(-abs(Decimal(ln["amount"]))),
                tax=str(-abs(Decimal(ln["tax"]))),
                quantity=str(-abs(Decimal(ln["quantity"]))) if ln.get("quantity") else None,
            )
            for ln in lines
        ]
    amount = sum(Decimal(ln["amount"]) for ln in lines)
    tax = sum(Decimal(ln["tax"]) for ln in lines)
    return {
        "source": "test",
        "ok": True,
        "error": None,
        "format": "pdf",
        "invoice_type": invoice_type,
        "is_red": is_red,
        "number": number,
        "code": None,
        "issue_date": issue_date if isinstance(issue_date, str) else issue_date.isoformat(),
        "buyer": us if direction == "purchase" else other,
        "seller": other if direction == "purchase" else us,
        "lines": lines,
        "total_amount": str(amount),
        "total_tax": str(tax),
        "total": str(amount + tax),
        "total_in_words": None,
        "remarks": remarks,
        "issuer": None,
        "warnings": [],
        "_sign": sign,
    }


def make_settings(**overrides) -> Settings:
    base = dict(
        DATABASE_URL="sqlite://",
        ZHANGFANG_COMPANY_TAX_ID=OUR_TAX_ID,
        ZHANGFANG_COMPANY_NAME=OUR_NAME,
        ZHANGFANG_ADMIN_IDS="",
        _env_file=None,
    )
    base.update(overrides)
    return Settings(**base)
