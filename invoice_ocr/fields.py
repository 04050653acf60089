"""Field rules as data: the labels printed on Chinese VAT invoices and the shape of each value.

One table serves every layout (数电票, legacy 增值税电子发票, generated test
invoices) and every source of words (PDF text, OFD text objects, OCR).
Labels allow spaces between their characters because invoices letter-space
them (``名 称``) and OCR splits them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def spaced(label: str) -> str:
    """``发票号码`` -> a pattern matching it with optional spaces between characters."""
    return r"\s*".join(re.escape(c) for c in label)


COLON = r"\s*[:：;；]?\s*"
MONEY = r"[-－]?\s*[¥￥Y]?\s*[-－]?\d[\d,]*(?:[.．]\s*\d+)?"
WORD_DIGITS = "零壹贰叁肆伍陆柒捌玖拾佰仟万亿圆元角分整正"
# Characters OCR puts in place of 大写 digits; read so the repair step can try the right one.
WORD_LOOKALIKES = {
    "参": "叁",
    "什": "仟",
    "伯": "佰",
    "陌": "佰",
    "武": "贰",
    "染": "柒",
    "坎": "玖",
    "圓": "圆",
}
WORD_CHARS = WORD_DIGITS + "".join(WORD_LOOKALIKES)


@dataclass(frozen=True)
class FieldRule:
    """A value found right after a label on the same line."""

    name: str
    label: str
    value: str

    def pattern(self) -> re.Pattern[str]:
        return re.compile(f"(?:{self.label}){COLON}(?P<v>{self.value})")


FIELD_RULES: tuple[FieldRule, ...] = (
    FieldRule("number", spaced("发票号码"), r"\d[\d ]{6,24}\d"),
    FieldRule("code", spaced("发票代码"), r"\d{10,12}"),
    FieldRule("issue_date", spaced("开票日期"), r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日?"),
    FieldRule("check_code", spaced("校验码"), r"[\d ]{20,26}"),
    FieldRule("machine_no", spaced("机器编号"), r"\d{12}"),
    FieldRule("issuer", spaced("开票人"), r"[^\s:：;；,，]{1,16}"),
    FieldRule(
        "total_in_words",
        spaced("价税合计") + r"\s*[（(〈<]?\s*大\s*写\s*[)）〉>]?",
        rf"(?:[（(]\s*负\s*数\s*[)）]\s*)?[{WORD_CHARS}][{WORD_CHARS}\s]*",
    ),
    FieldRule("total", r"[（(〈<]\s*小\s*写\s*[)）〉>]", MONEY),
)

PARTY_NAME = FieldRule("party_name", r"(?<![目务品])" + spaced("名称"), r"[^\s:：;；]{2,}")
PARTY_TAX_ID = FieldRule(
    "party_tax_id",
    r"(?:统一社会信用代码\s*/\s*)?" + spaced("纳税人识别号"),
    r"[0-9A-Za-z]{15,20}",
)
# Anything non-blank after a tax-ID label: a value there that is not ID-shaped is unreadable, not absent.
PARTY_TAX_ID_ANY = FieldRule(
    "party_tax_id_any", r"(?:统一社会信用代码\s*/\s*)?" + spaced("纳税人识别号"), r"[0-9A-Za-z]\S{3,}"
)

# Item table columns: header label patterns, matched on a line's text.
TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    (
        "name",
        r"项\s*目\s*名\s*称|货\s*物\s*或\s*应\s*税\s*劳\s*务\s*[、,，]?\s*服\s*务\s*名\s*称|货物或应税劳务名称",
    ),
    ("spec", r"规\s*格\s*型\s*号|车\s*牌\s*号"),
    ("unit", r"单\s*位(?!\s*价)|类\s*型"),
    ("quantity", r"数\s*量|通\s*行\s*日\s*期\s*起"),
    ("unit_price", r"单\s*价|通\s*行\s*日\s*期\s*止"),
    ("amount", r"金\s*额"),
    ("tax_rate", r"税\s*率\s*(?:/\s*征\s*收\s*率)?|征\s*收\s*率"),
    ("tax", r"税\s*额"),
)
# Columns whose values are not the schema's (toll invoices): read for position, then dropped.
FOREIGN_HEADERS = re.compile(r"车\s*牌\s*号|类\s*型|通\s*行\s*日\s*期")
TOTAL_ROW = re.compile(r"^\s*合\s*计")
HEADER_NEEDS = (re.compile(r"金\s*额"), re.compile(r"税\s*额"))
RATE_WORDS = {"免税": "免税", "不征税": "不征税", "免征": "免税"}
