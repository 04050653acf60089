"""Invoice data for the corpus: random but reproducible, with the truth the parser must give back."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from values.money import amount_in_words, q2, to_str2
from values.taxid import make_uscc

RATES = ("13%", "9%", "6%", "3%", "1%", "0%", "免税", "不征税")
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
COMPANIES = (
    "上海账房示范贸易有限公司",
    "北京互联三六五科技有限公司",
    "湖南顺丰速运有限公司",
    "深圳市华强北电子元器件经营部",
    "杭州西湖龙井茶叶专业合作社",
    "广州白云山医药集团股份有限公司第三分公司",
    "成都天府软件园信息技术服务有限责任公司",
    "苏州工业园区精密机械制造有限公司",
    "南京紫金山文化传媒有限公司",
    "武汉东湖高新区光电子信息产业发展有限公司",
    "重庆两江新区智能网联汽车零部件研究院有限公司",
    "天津滨海新区港口物流仓储服务有限公司",
)
PERSONS = ("张伟", "王芳", "李娜（个人）", "刘洋", "陈静")
ITEMS = (
    ("*电子元件*电阻器", "RC0603", "个"),
    ("*信息技术服务*软件维护服务费", None, "项"),
    ("*快递服务*收派服务费", None, "次"),
    ("*办公用品*A4复印纸", "70g", "箱"),
    ("*餐饮服务*餐费", None, "次"),
    ("*农产品*西湖龙井茶", "250g", "盒"),
    ("*医疗器械*一次性使用医用口罩", "17.5cm", "盒"),
    ("*经纪代理服务*代理报关服务费", None, "票"),
    ("*计算机配套产品*固态硬盘", "1TB", "块"),
    ("*金属制品*不锈钢紧固件组合套装及配件", "M8×30", "套"),
    ("*运输服务*国内道路货物运输服务", None, "吨"),
    ("*现代服务*咨询费", None, "项"),
)
ISSUERS = ("李双", "于俪", "王磊", "牛蕊", "陈晓明")


@dataclass
class TruthLine:
    name: str
    spec: str | None
    unit: str | None
    quantity: str | None
    unit_price: str | None
    amount: Decimal
    tax_rate: str
    tax: Decimal


@dataclass
class TruthInvoice:
    key: str
    invoice_type: str
    number: str
    issue_date: date
    buyer_name: str
    buyer_tax_id: str | None
    seller_name: str
    seller_tax_id: str
    lines: list[TruthLine]
    remarks: str | None
    issuer: str
    is_red: bool = False
    lines_per_page: int = 8
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total_amount(self) -> Decimal:
        return sum((ln.amount for ln in self.lines), Decimal("0.00"))

    @property
    def total_tax(self) -> Decimal:
        return sum((ln.tax for ln in self.lines), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.total_amount + self.total_tax

    @property
    def total_in_words(self) -> str:
        return amount_in_words(self.total)

    def truth_json(self, source: str, fmt: str) -> dict[str, Any]:
        """The JSON line the parser must print for this invoice."""
        return {
            "source": source,
            "ok": True,
            "error": None,
            "format": fmt,
            "invoice_type": self.invoice_type,
            "is_red": self.is_red,
            "number": self.number,
            "code": None,
            "issue_date": self.issue_date.isoformat(),
            "buyer": {"name": self.buyer_name, "tax_id": self.buyer_tax_id},
            "seller": {"name": self.seller_name, "tax_id": self.seller_tax_id},
            "lines": [
                {
                    "name": ln.name,
                    "spec": ln.spec,
                    "unit": ln.unit,
                    "quantity": ln.quantity,
                    "unit_price": ln.unit_price,
                    "amount": to_str2(ln.amount),
                    "tax_rate": ln.tax_rate,
                    "tax": to_str2(ln.tax),
                }
                for ln in self.lines
            ],
            "total_amount": to_str2(self.total_amount),
            "total_tax": to_str2(self.total_tax),
            "total": to_str2(self.total),
            "total_in_words": self.total_in_words,
            "remarks": self.remarks,
            "issuer": self.issuer,
            "warnings": [],
        }


def rate_of(rate: str) -> Decimal:
    return Decimal(rate[:-1]) / 100 if rate.endswith("%") else Decimal(0)


def _uscc(rng: random.Random) -> str:
    while True:
        body = (
            "91"
            + "".join(rng.choice("0123456789") for _ in range(6))
            + "".join(rng.choice(CHARSET) for _ in range(9))
        )
        code = make_uscc(body)
        if code[-1] != "0" or rng.random() < 0.3:
            return code


def _price_text(amount: Decimal, qty: Decimal) -> str:
    price = (abs(amount) / abs(qty)).quantize(Decimal("0.0000000001"), rounding=ROUND_HALF_UP)
    text = format(price.normalize(), "f")
    return text


def make_invoice(i: int, rng: random.Random) -> TruthInvoice:
    n_lines = 1 + i % 8
    red = i % 11 == 5
    rates = [RATES[(i + k) % len(RATES)] for k in range(n_lines)]
    lines = []
    for k in range(n_lines):
        name, spec, unit = ITEMS[(i * 3 + k) % len(ITEMS)]
        qty_int = rng.choice((1, 1, 2, 3, 5, 12, 100, 7))
        qty = Decimal(qty_int) if rng.random() < 0.8 else Decimal(f"{qty_int}.5")
        amount = q2(Decimal(rng.randint(100, 5_000_000)) / 100)
        rate = rates[k]
        tax = q2(amount * rate_of(rate))
        price = _price_text(amount, qty)
        if red:
            amount, tax, qty = -amount, -tax, -qty
        lines.append(
            TruthLine(
                name=name,
                spec=spec,
                unit=unit,
                quantity=format(qty.normalize(), "f"),
                unit_price=price,
                amount=amount,
                tax_rate=rate,
                tax=tax,
            )
        )
    person = i % 7 == 3
    buyer_name = PERSONS[i % len(PERSONS)] if person else COMPANIES[(i * 5 + 1) % len(COMPANIES)]
    seller_name = COMPANIES[(i * 7 + 4) % len(COMPANIES)]
    if seller_name == buyer_name:
        seller_name = COMPANIES[(i * 7 + 5) % len(COMPANIES)]
    year = rng.choice((2024, 2025, 2026))
    issued = date(year, 1, 1) + timedelta(days=rng.randint(0, 300))
    if issued > date(2026, 11, 1):
        issued = date(2026, 10, 30)
    remarks = None
    if i % 3 == 0:
        remarks = rng.choice(("单号:SF0252200797031", "合同编号HT-2025-0117", "项目：机房改造一期"))
    if red:
        remarks = f"被红冲蓝字数电发票号码：{rng.randint(10**19, 10**20 - 1)}"
    return TruthInvoice(
        key=f"inv{i:03d}",
        invoice_type="special" if i % 2 == 0 else "normal",
        number=f"{year % 100:02d}{rng.randint(10**17, 10**18 - 1)}",
        issue_date=issued,
        buyer_name=buyer_name,
        buyer_tax_id=None if person else _uscc(rng),
        seller_name=seller_name,
        seller_tax_id=_uscc(rng),
        lines=lines,
        remarks=remarks,
        issuer=ISSUERS[i % len(ISSUERS)],
        is_red=red,
        lines_per_page=4 if i == 7 else 8,
    )


def make_corpus(n: int = 44, seed: int = 20261128) -> list[TruthInvoice]:
    """``n`` invoices covering both types, every rate, 1–8 lines, persons, red and a multi-page one."""
    rng = random.Random(seed)
    return [make_invoice(i, rng) for i in range(n)]
