"""Posting rules as data: which account an invoice line goes to.

Keyed by direction (purchase/sales), invoice type (special = 专用发票,
normal = 普通发票, '*' = either) and the item's tax category: the text between
the asterisks of a 数电票 item name (``*餐饮服务*午餐`` -> ``餐饮服务``). The
longest matching category wins; '' matches everything (the fallback).
Defaults ship here; a company edits its own rows in the ``postingrule`` table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session, select

from erp.models import PostingRule

# (direction, invoice_type, category, account, is_stock, vat_deductible, note)
DEFAULT_RULES: list[tuple[str, str, str, str, bool, bool | None, str]] = [
    # purchases: goods into stock unless they are a known expense
    ("purchase", "*", "", "1405", True, None, "商品采购入库"),
    ("purchase", "*", "原材料", "1403", True, None, "原材料入库"),
    ("purchase", "*", "餐饮服务", "560202", False, False, "餐饮计入业务招待费，进项不得抵扣"),
    ("purchase", "*", "住宿服务", "560204", False, None, "住宿计入差旅费"),
    ("purchase", "*", "旅客运输服务", "560211", False, None, "客运计入交通费"),
    ("purchase", "*", "运输服务", "560101", False, None, "货运计入销售费用-运输费"),
    ("purchase", "*", "物流辅助服务", "560101", False, None, "物流辅助计入运输费"),
    ("purchase", "*", "快递服务", "560210", False, None, "快递计入管理费用-快递邮寄费"),
    ("purchase", "*", "邮政服务", "560210", False, None, "邮政计入快递邮寄费"),
    ("purchase", "*", "信息技术服务", "560212", False, None, "软件及信息技术服务"),
    ("purchase", "*", "软件", "560212", False, None, "软件"),
    ("purchase", "*", "电信服务", "560207", False, None, "通讯费"),
    ("purchase", "*", "基础电信服务", "560207", False, None, "通讯费"),
    ("purchase", "*", "增值电信服务", "560207", False, None, "通讯费"),
    ("purchase", "*", "经营租赁", "560205", False, None, "租赁费"),
    ("purchase", "*", "租赁服务", "560205", False, None, "租赁费"),
    ("purchase", "*", "不动产租赁服务", "560205", False, None, "房租"),
    ("purchase", "*", "供电", "560206", False, None, "电费"),
    ("purchase", "*", "电力", "560206", False, None, "电费"),
    ("purchase", "*", "水冰雪", "560206", False, None, "水费"),
    ("purchase", "*", "自来水", "560206", False, None, "水费"),
    ("purchase", "*", "现代服务", "560209", False, None, "咨询服务费"),
    ("purchase", "*", "咨询服务", "560209", False, None, "咨询服务费"),
    ("purchase", "*", "鉴证咨询服务", "560209", False, None, "咨询服务费"),
    ("purchase", "*", "广告服务", "560102", False, None, "广告费"),
    ("purchase", "*", "文化创意服务", "560102", False, None, "广告宣传"),
    ("purchase", "*", "修理修配劳务", "560208", False, None, "修理费"),
    ("purchase", "*", "维修", "560208", False, None, "修理费"),
    ("purchase", "*", "办公用品", "560203", False, None, "办公费"),
    ("purchase", "*", "纸制品", "560203", False, None, "办公费"),
    ("purchase", "*", "经纪代理服务", "560302", False, None, "通行费/代理手续费"),
    ("purchase", "*", "通行费", "560211", False, None, "通行费计入交通费"),
    ("purchase", "*", "金融服务", "560302", False, False, "手续费"),
    ("purchase", "*", "贷款服务", "560301", False, False, "利息，进项不得抵扣"),
    ("purchase", "*", "居民日常服务", "560299", False, False, "个人消费类服务不得抵扣"),
    ("purchase", "*", "娱乐服务", "560202", False, False, "娱乐计入招待费，不得抵扣"),
    # sales: goods leave stock into revenue; services are revenue without stock
    ("sales", "*", "", "5001", True, None, "商品销售收入"),
    ("sales", "*", "服务", "5001", False, None, "服务收入"),
    ("sales", "*", "租赁", "5051", False, None, "租赁收入计入其他业务收入"),
]


def seed_rules(session: Session) -> int:
    """Insert the default rules when the table is empty (a company's own edits are kept)."""
    if session.exec(select(PostingRule).limit(1)).first() is not None:
        return 0
    for direction, itype, category, account, is_stock, deductible, note in DEFAULT_RULES:
        session.add(
            PostingRule(
                direction=direction,
                invoice_type=itype,
                category=category,
                account_code=account,
                is_stock=is_stock,
                vat_deductible=deductible,
                note=note,
            )
        )
    session.flush()
    return len(DEFAULT_RULES)


_CATEGORY = re.compile(r"^\*([^*]+)\*")


def item_category(name: str | None) -> str:
    """'*电子元件*电阻器' -> '电子元件'; '' when the name has no *category* prefix."""
    if not name:
        return ""
    m = _CATEGORY.match(name.strip())
    return m.group(1).strip() if m else ""


@dataclass(frozen=True)
class RuleChoice:
    account_code: str
    is_stock: bool
    vat_deductible: bool
    rule_id: int | None
    note: str | None


def choose(rules: list[PostingRule], *, direction: str, invoice_type: str, category: str) -> RuleChoice:
    """Pure: the rule for one line. ``vat_deductible`` resolves the invoice type default."""
    best: PostingRule | None = None
    best_key: tuple[int, int, int] | None = None
    for r in rules:
        if r.direction != direction:
            continue
        if r.invoice_type not in ("*", invoice_type):
            continue
        if r.category and r.category not in category:
            continue
        key = (len(r.category), 1 if r.invoice_type != "*" else 0, r.priority)
        if best_key is None or key > best_key:
            best, best_key = r, key
    if best is None:
        fallback = "1405" if direction == "purchase" else "5001"
        return RuleChoice(fallback, True, invoice_type == "special", None, "默认")
    deductible = best.vat_deductible
    if deductible is None:
        deductible = invoice_type == "special"
    else:
        deductible = deductible and invoice_type == "special"
    return RuleChoice(best.account_code, best.is_stock, deductible, best.id, best.note)


def load_rules(session: Session) -> list[PostingRule]:
    return list(session.exec(select(PostingRule)).all())
