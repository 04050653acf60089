"""Checks on a parsed invoice. Each failure is a warning in words; nothing is fixed silently.

``check`` adds warnings (with the fields they make doubtful) to the invoice and
sets ``ok``. The rules are pure: they read the invoice and today's date.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from values import clock
from values.money import q2, to_str2, words_match
from values.taxid import tax_id_problem

from .model import Line, ParsedInvoice

TOLERANCE = Decimal("0.01")
RATES = {"13%", "9%", "6%", "5%", "3%", "1%", "0%", "免税", "不征税", "10%", "16%", "17%", "11%"}


def today_shanghai() -> date:
    return clock.today()


def rate_value(rate: str | None) -> Decimal | None:
    if rate in ("免税", "不征税"):
        return Decimal(0)
    if rate and rate.endswith("%"):
        return Decimal(rate[:-1]) / 100
    return None


def check_identity(inv: ParsedInvoice, today: date) -> None:
    if not inv.number:
        inv.warn("未能读取发票号码", "number")
    elif inv.code:
        if len(inv.number) != 8:
            inv.warn(f"发票号码 {inv.number} 应为 8 位（有发票代码的旧版发票）", "number")
        if len(inv.code) not in (10, 12):
            inv.warn(f"发票代码 {inv.code} 应为 10 或 12 位", "code")
    elif len(inv.number) != 20:
        inv.warn(f"发票号码 {inv.number} 应为 20 位（数电票）", "number")
    if inv.issue_date is None:
        if "issue_date" not in inv.doubtful_fields():
            inv.warn("未能读取开票日期", "issue_date")
    elif inv.issue_date > today:
        inv.warn(f"开票日期 {inv.issue_date.isoformat()} 晚于今天", "issue_date")
    if inv.invoice_type is None:
        inv.warn("未能识别发票种类（专用/普通）", "invoice_type")


def check_parties(inv: ParsedInvoice) -> None:
    for side, label in (("seller", "销售方"), ("buyer", "购买方")):
        party = getattr(inv, side)
        if party is None or not party.name:
            inv.warn(f"未能读取{label}名称", f"{side}.name")
        tax_id = party.tax_id if party else None
        if tax_id is None:
            if side == "seller" and f"{side}.tax_id" not in inv.doubtful_fields():
                inv.warn(f"未能读取{label}税号", f"{side}.tax_id")
            continue
        problem = tax_id_problem(tax_id)
        if problem:
            inv.warn(f"{label}{problem}", f"{side}.tax_id")


def check_lines(inv: ParsedInvoice) -> None:
    if not inv.lines:
        inv.warn("未能读取任何明细行", "lines")
        return
    for i, ln in enumerate(inv.lines, 1):
        f = f"lines.{i - 1}"
        if not ln.name:
            inv.warn(f"第 {i} 行未能读取项目名称", f + ".name")
        if ln.amount is None:
            inv.warn(f"第 {i} 行未能读取金额", f + ".amount")
        if ln.tax_rate is None or ln.tax_rate not in RATES:
            inv.warn(f"第 {i} 行税率“{ln.tax_rate or ''}”无法识别", f + ".tax_rate")
        if ln.tax is None:
            inv.warn(f"第 {i} 行未能读取税额", f + ".tax")
        check_quantity_price(inv, i, ln)
        rate = rate_value(ln.tax_rate)
        if ln.amount is not None and ln.tax is not None and rate is not None:
            expected = q2(ln.amount * rate)
            if abs(expected - ln.tax) > TOLERANCE:
                inv.warn(
                    f"第 {i} 行金额 {to_str2(ln.amount)} × 税率 {ln.tax_rate} = {to_str2(expected)}，与税额 {to_str2(ln.tax)} 不符",
                    f + ".amount",
                    f + ".tax",
                    f + ".tax_rate",
                )


NUMBER = re.compile(r"-?\d+(\.\d+)?")


def check_quantity_price(inv: ParsedInvoice, i: int, ln: Line) -> None:
    """数量 and 单价 are numbers, and 数量 × 单价 ≈ 金额 when all three are printed."""
    f = f"lines.{i - 1}"
    for attr, label in (("quantity", "数量"), ("unit_price", "单价")):
        value = getattr(ln, attr)
        if value is not None and not NUMBER.fullmatch(value):
            inv.warn(f"第 {i} 行{label}“{value}”无法识别", f"{f}.{attr}")
    # 数量 and 单价 are printed together or not at all: one without the other was not read.
    if bool(ln.quantity) != bool(ln.unit_price):
        missing, attr = ("数量", "quantity") if not ln.quantity else ("单价", "unit_price")
        inv.warn(f"第 {i} 行未能读取{missing}", f"{f}.{attr}")
    if ln.quantity and ln.unit_price and ln.amount is not None:
        if NUMBER.fullmatch(ln.quantity) and NUMBER.fullmatch(ln.unit_price):
            product = Decimal(ln.quantity) * Decimal(ln.unit_price)
            if abs(product - ln.amount) > Decimal("0.01") + abs(ln.amount) * Decimal("0.000001"):
                inv.warn(
                    f"第 {i} 行数量 {ln.quantity} × 单价 {ln.unit_price} ≠ 金额 {to_str2(ln.amount)}",
                    f"{f}.quantity",
                    f"{f}.unit_price",
                    f"{f}.amount",
                )


def check_totals(inv: ParsedInvoice) -> None:
    missing = [
        label
        for label, v in (("合计金额", inv.total_amount), ("合计税额", inv.total_tax), ("价税合计", inv.total))
        if v is None
    ]
    for label in missing:
        field = {"合计金额": "total_amount", "合计税额": "total_tax", "价税合计": "total"}[label]
        inv.warn(f"未能读取{label}", field)
    amounts = [ln.amount for ln in inv.lines]
    taxes = [ln.tax for ln in inv.lines]
    if inv.lines and inv.total_amount is not None and None not in amounts:
        s = sum(amounts, Decimal(0))  # type: ignore[arg-type]
        if s != inv.total_amount:
            inv.warn(
                f"明细金额合计 {to_str2(s)} 与合计金额 {to_str2(inv.total_amount)} 不符",
                "total_amount",
                *(f"lines.{i}.amount" for i in range(len(inv.lines))),
            )
    if inv.lines and inv.total_tax is not None and None not in taxes:
        s = sum(taxes, Decimal(0))  # type: ignore[arg-type]
        if s != inv.total_tax:
            inv.warn(
                f"明细税额合计 {to_str2(s)} 与合计税额 {to_str2(inv.total_tax)} 不符",
                "total_tax",
                *(f"lines.{i}.tax" for i in range(len(inv.lines))),
            )
    if None not in (inv.total_amount, inv.total_tax, inv.total):
        if inv.total_amount + inv.total_tax != inv.total:  # type: ignore[operator]
            inv.warn(
                f"合计金额 {to_str2(inv.total_amount)} + 税额 {to_str2(inv.total_tax)} ≠ 价税合计 {to_str2(inv.total)}",
                "total_amount",
                "total_tax",
                "total",
            )
    if inv.total_in_words is None:
        if inv.meta.get("words_not_in_source"):
            return
        inv.warn("未能读取价税合计（大写）", "total_in_words")
    elif inv.total is not None and not words_match(inv.total_in_words, inv.total):
        inv.warn(f"大写金额“{inv.total_in_words}”与小写 {to_str2(inv.total)} 不符", "total_in_words", "total")


FIELD_LABELS = {
    "number": "发票号码",
    "code": "发票代码",
    "issue_date": "开票日期",
    "issuer": "开票人",
    "total": "价税合计（小写）",
    "total_in_words": "价税合计（大写）",
    "total_amount": "合计金额",
    "total_tax": "合计税额",
    "buyer.name": "购买方名称",
    "seller.name": "销售方名称",
    "buyer.tax_id": "购买方税号",
    "seller.tax_id": "销售方税号",
    "check_code": "校验码",
    "machine_no": "机器编号",
}

FACT_FIELDS = {
    "number": ("InvoiceNumber", "发票号码"),
    "total_amount": ("TotalAmWithoutTax", "合计金额"),
    "total_tax": ("TotalTaxAm", "合计税额"),
    "total": ("TotalTax-includedAmount", "价税合计"),
    "buyer.tax_id": ("BuyerIdNum", "购买方纳税人识别号"),
    "seller.tax_id": ("SellerIdNum", "销售方纳税人识别号"),
    "code": ("InvoiceCode", "发票代码"),
}


def _value_of(inv: ParsedInvoice, field: str) -> str | None:
    if "." in field:
        side, attr = field.split(".")
        party = getattr(inv, side)
        return getattr(party, attr) if party else None
    v = getattr(inv, field)
    if isinstance(v, Decimal):
        return to_str2(v)
    return v


def check_facts(inv: ParsedInvoice) -> None:
    """Compare with what the file states in its metadata (PDF info, OFD CustomData)."""
    facts: dict[str, str] = inv.meta.get("facts", {})
    if not facts:
        return
    for field, keys in FACT_FIELDS.items():
        stated = next((facts[k] for k in keys if facts.get(k)), None)
        if stated is None:
            continue
        stated = stated.replace(" ", "")
        seen = _value_of(inv, field)
        if field in ("total_amount", "total_tax", "total"):
            try:
                stated = to_str2(q2(stated))
            except ValueError:
                continue
        if seen is None:
            continue  # already warned as unreadable; metadata never stands in for the page
        if seen != stated:
            inv.warn(f"票面{FIELD_LABELS.get(field, field)} {seen} 与文件元数据 {stated} 不一致", field)
    stated_date = next((facts[k] for k in ("IssueTime", "开票日期") if facts.get(k)), None)
    if stated_date and inv.issue_date:
        from .extract import read_date

        d, _ = read_date(stated_date)
        if d and d != inv.issue_date:
            inv.warn(f"票面开票日期 {inv.issue_date} 与文件元数据 {d} 不一致", "issue_date")


def check_red(inv: ParsedInvoice) -> None:
    if inv.is_red and inv.total is not None and inv.total > 0:
        inv.warn("红字发票的价税合计应为负数", "total")


def check(inv: ParsedInvoice, today: date | None = None) -> ParsedInvoice:
    """Run every check, then ``ok`` is true only when the file was read and nothing failed."""
    today = today or today_shanghai()
    # Re-runnable: start again from what extraction itself found.
    if "pre" not in inv.meta:
        inv.meta["pre"] = (list(inv.warnings), {k: list(v) for k, v in inv.meta.get("doubtful", {}).items()})
    pre_warnings, pre_doubtful = inv.meta["pre"]
    inv.warnings = list(pre_warnings)
    inv.meta["doubtful"] = {k: list(v) for k, v in pre_doubtful.items()}
    for low in sorted(inv.meta.get("low_conf", ())):
        inv.warn(f"{FIELD_LABELS.get(low, low)}识别置信度低，请核对", low)
    for i in inv.meta.get("low_conf_rows", ()):
        inv.warn(f"第 {i + 1} 行识别置信度低，请核对", f"lines.{i}")
    check_identity(inv, today)
    check_parties(inv)
    check_lines(inv)
    check_totals(inv)
    check_red(inv)
    check_facts(inv)
    inv.ok = inv.error is None and not inv.warnings
    return inv
