"""What a free-text message asks for: pure parsing, no I/O.

``parse(text)`` -> ``Intent(kind, subject, amount)`` or None when the text is not a
question the bot answers by itself (the support knowledge base gets it next).
Patterns are data: (kind, regex) tried in order; the first match wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from values.money import MoneyError, parse_decimal


@dataclass(frozen=True)
class Intent:
    kind: str  # stock, lowstock, receivable, ar_summary, aging, collection, receipt, vouchers, tb
    subject: str = ""
    amount: Decimal | None = None


_AMOUNT = r"[¥￥]?\s*(?P<amount>\d[\d,，]*(?:\.\d{1,2})?)\s*(?:元|块|rmb|RMB)?"
_Q = r"[?？!！。.\s]*"

PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "receipt",
        re.compile(
            rf"^(?:收到|收款|已收|收)\s*(?P<subject>.+?)\s*(?:的)?(?:货款|款项|款|付款|回款)?\s*{_AMOUNT}{_Q}$"
        ),
    ),
    ("receipt", re.compile(rf"^received\s+{_AMOUNT}\s+from\s+(?P<subject>.+?){_Q}$", re.I)),
    ("aging", re.compile(r"账龄|aging", re.I)),
    ("collection", re.compile(r"回款周期|回款天数|collection period|\bdso\b", re.I)),
    ("lowstock", re.compile(r"^(?:低库存|库存不足|缺货|需要补货|补货|low ?stock)" + _Q + "$", re.I)),
    (
        "receivable",
        re.compile(
            r"^(?P<subject>.+?)\s*(?:还|一共|总共|共)?(?:欠(?:我们|咱们|我司)?(?:多少|几多|钱|款)(?:钱)?|的?应收(?:账款)?(?:余额|多少|情况)?)"
            + _Q
            + "$"
        ),
    ),
    ("receivable", re.compile(r"^how much (?:does|do) (?P<subject>.+?) owe" + _Q + "$", re.I)),
    ("ar_summary", re.compile(r"^(?:应收账款|应收|欠款|谁欠钱|receivables?)" + _Q + "$", re.I)),
    ("receivable", re.compile(r"^(?:应收|欠款)\s*[:：]?\s*(?P<subject>\S.*?)" + _Q + "$")),
    ("stock", re.compile(r"^(?:库存|查库存|存货|查)\s*[:：]?\s*(?P<subject>\S.*?)" + _Q + "$")),
    ("stock", re.compile(r"^(?:stock(?: of| for)?|how many)\s+(?P<subject>\S.*?)" + _Q + "$", re.I)),
    (
        "stock",
        re.compile(
            r"^(?P<subject>.+?)\s*(?:还有多少|还剩多少|剩多少|有多少|还有几(?:个|件|箱)?|库存(?:多少|还有多少|数量)?|的库存|存货|有货吗|有没有货)"
            + _Q
            + "$"
        ),
    ),
    ("vouchers", re.compile(r"^(?:今天的?凭证|凭证列表|vouchers?)" + _Q + "$", re.I)),
    ("tb", re.compile(r"^(?:试算平衡表?|余额表|trial balance)" + _Q + "$", re.I)),
]


# A how-to question mentions stock or receivables without asking for a figure
# ("库存盘点怎么做", "账龄怎么算"): it belongs to the knowledge base.
HOW_TO = re.compile(
    r"怎么|怎样|如何|为什么|为啥|什么是|是什么|啥是|流程|步骤|要做什么|能不能|可不可以|\bhow (?:do|to|can)\b",
    re.I,
)


def parse(text: str) -> Intent | None:
    text = (text or "").strip()
    if not text or text.startswith("/") or HOW_TO.search(text):
        return None
    for kind, pattern in PATTERNS:
        m = pattern.search(text)
        if not m:
            continue
        groups = m.groupdict()
        subject = (groups.get("subject") or "").strip(" ：:，,的")
        amount = None
        if groups.get("amount"):
            try:
                amount = parse_decimal(groups["amount"].replace("，", ","))
            except MoneyError:
                continue
        if kind in ("stock", "receivable", "receipt") and not subject:
            continue
        return Intent(kind, subject, amount)
    return None


# A greeting on its own ("你好", "在吗", "早上好呀"), not a question: a hello, not a search.
GREETING = re.compile(
    r"^(?:(?:你好|您好|hi|hello|嗨|哈喽|哈啰|在吗|在不在|早上好|上午好|中午好|下午好|晚上好|早安|早|"
    r"账房|机器人|bot)[\s,，!！.。~～?？呀啊哈吗]*)+$",
    re.I,
)


def is_greeting(text: str) -> bool:
    return bool(GREETING.match((text or "").strip()))
