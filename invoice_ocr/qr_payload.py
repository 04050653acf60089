"""The invoice QR code's payload: a comma-separated line, parsed into named fields.

Every 数电票 and every legacy e-invoice prints a QR code top left. Its text,
as found in the real samples (../shared/samples) and checked against their
truth::

    index  field              数电票 (types 31, 32)          legacy e-invoice (type 10)
    0      version            "01"                          "01"
    1      type code          31 专票 / 32 普票              10 增值税电子普通发票 (also tolls)
    2      发票代码            empty                         12 digits
    3      发票号码            20 digits                     8 digits
    4      amount             价税合计 (tax included)         合计金额 (tax excluded)
    5      开票日期            YYYYMMDD                      YYYYMMDD
    6      校验码              empty                         20 digits
    7      check value        4 hex digits                  4 hex digits
    8      (nothing)          absent                        empty: the line ends with ","

Samples behind the table (amount vs. truth):

- zqywuxie__postage_1.pdf ``01,32,,25437000000297554203,17.00,20251013,,9D0B``:
  17.00 is 价税合计 (金额 16.04 + 税额 0.96).
- ofdrw__20240531141733_shudian.ofd ``01,31,,24112000000048542163,4449.00,20240528,,B2B6``:
  4449.00 is 价税合计 (金额 4197.17 + 税额 251.83).
- ofdrw__1.ofd (JBIG2 image, and the same text as GraphCode in original_invoice.xml)
  ``01,10,033002000211,83089647,510.68,20200723,16197833567414507415,0941,``: 510.68 is 金额, not 526.00.
- ofdrw__fapiao_shili.ofd ``01,10,050001700111,99999951,300.00,20201010,14754822929856772523,E400,``:
  300.00 is 金额 (价税合计 318.00).
- yooongchun__didi.pdf ``01,10,012001800211,23326471,734.59,20180921,16707184549009707698,B7D0,``:
  734.59 is 金额 (价税合计 756.63).
- yooongchun toll PDF ``01,10,042001700112,11162913,184.65,20180323,11241636206802490280,DDB1,``:
  184.65 is 金额 (价税合计 190.19); the 2018 toll invoice still uses type 10.

The check value is opaque: it is not a 16-bit CRC of the other fields (every
CRC-16 polynomial, init, reflection and xor-out was tried over the usual
spans of the line and none fits all six samples), so it is kept but not
verified. A damaged code does not decode at all (Reed–Solomon), so a payload
that parses is taken as exactly what the issuer encoded.

Type codes not seen in the samples are listed from the tax platform's
查验 list; for the legacy VAT kinds (01, 04, 08, 14) the amount is 金额
like type 10. For kinds whose amount basis is not known (03 机动车, 11 卷式,
15 二手车, anything else) the amount is kept but never compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from values.money import to_str2


@dataclass(frozen=True)
class InvoiceKind:
    name: str
    invoice_type: str | None  # "special" / "normal", as the schema says
    amount_field: str | None  # the ParsedInvoice field the QR amount equals; None = unknown
    seen_in_samples: bool = False


KINDS: dict[str, InvoiceKind] = {
    "31": InvoiceKind("电子发票（增值税专用发票）", "special", "total", True),
    "32": InvoiceKind("电子发票（普通发票）", "normal", "total", True),
    "10": InvoiceKind("增值税电子普通发票", "normal", "total_amount", True),
    "01": InvoiceKind("增值税专用发票", "special", "total_amount"),
    "04": InvoiceKind("增值税普通发票", "normal", "total_amount"),
    "08": InvoiceKind("增值税电子专用发票", "special", "total_amount"),
    "14": InvoiceKind("增值税电子普通发票（通行费）", "normal", "total_amount"),
    "03": InvoiceKind("机动车销售统一发票", None, None),
    "11": InvoiceKind("增值税普通发票（卷式）", "normal", None),
    "15": InvoiceKind("二手车销售统一发票", None, None),
}

_AMOUNT = re.compile(r"-?\d{1,12}(?:\.\d{1,2})?")


@dataclass(frozen=True)
class QrPayload:
    raw: str
    version: str
    type_code: str
    code: str | None  # 发票代码; None on 数电票
    number: str  # 发票号码
    amount: Decimal  # see ``amount_field``
    issue_date: date
    check_code: str | None  # 校验码 (legacy); None on 数电票
    check_value: str | None

    @property
    def kind(self) -> InvoiceKind | None:
        return KINDS.get(self.type_code)

    @property
    def is_shudian(self) -> bool:
        """数电票: no 发票代码, a 20-digit number."""
        return self.code is None and len(self.number) == 20

    @property
    def amount_field(self) -> str | None:
        """Which ParsedInvoice field the amount is: ``total`` (价税合计) or ``total_amount`` (金额)."""
        return self.kind.amount_field if self.kind else None

    @property
    def invoice_type(self) -> str | None:
        return self.kind.invoice_type if self.kind else None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "raw": self.raw,
            "type_code": self.type_code,
            "code": self.code,
            "number": self.number,
            "amount": to_str2(self.amount),
            "amount_field": self.amount_field,
            "issue_date": self.issue_date.isoformat(),
            "check_code": self.check_code,
        }


def read_payload(text: str) -> tuple[QrPayload | None, str | None]:
    """``(payload, None)`` for an invoice QR, else ``(None, why not)`` in words."""
    raw = text.strip()
    shown = raw if len(raw) <= 60 else raw[:57] + "…"
    parts = [p.strip() for p in raw.split(",")]
    if len(parts) < 7 or len(parts) > 10:
        return None, f"二维码内容不是发票信息（{shown}）"
    version, type_code, code, number, amount, day, check_code = parts[:7]
    check_value = parts[7] if len(parts) > 7 else ""
    if not re.fullmatch(r"\d{2}", version) or not re.fullmatch(r"\d{2}", type_code):
        return None, f"二维码内容不是发票信息（{shown}）"
    if code and not re.fullmatch(r"\d{10}|\d{12}", code):
        return None, f"二维码里的发票代码“{code}”不是 10 或 12 位数字"
    if not re.fullmatch(r"\d{8}|\d{20}", number):
        return None, f"二维码里的发票号码“{number}”不是 8 或 20 位数字"
    if bool(code) == (len(number) == 20):
        return None, f"二维码里的发票代码“{code}”与号码“{number}”不相配"
    if not _AMOUNT.fullmatch(amount):
        return None, f"二维码里的金额“{amount}”不是数字"
    if not re.fullmatch(r"\d{8}", day):
        return None, f"二维码里的开票日期“{day}”不是 YYYYMMDD"
    try:
        issued = date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError:
        return None, f"二维码里的开票日期“{day}”不是真实的日期"
    if check_code and not re.fullmatch(r"\d{5,20}", check_code):
        return None, f"二维码里的校验码“{check_code}”不是数字"
    if check_value and not re.fullmatch(r"[0-9A-Za-z]{1,8}", check_value):
        return None, f"二维码里的校验值“{check_value}”格式不对"
    try:
        value = Decimal(amount).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None, f"二维码里的金额“{amount}”不是数字"
    return (
        QrPayload(
            raw=raw,
            version=version,
            type_code=type_code,
            code=code or None,
            number=number,
            amount=value,
            issue_date=issued,
            check_code=check_code or None,
            check_value=check_value or None,
        ),
        None,
    )


def parse_payload(text: str) -> QrPayload | None:
    """The invoice fields of a QR text, or None when it is not an invoice QR (see ``read_payload`` for why)."""
    return read_payload(text)[0]
