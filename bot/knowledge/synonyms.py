"""Colloquial and variant words staff use, mapped to the words the articles use.

Character n-grams cannot see that 冲红 and 红字发票, or 盘库 and 盘点, name the
same thing: they share few characters, and the shared ones (红, 盘) are common.
``expand`` appends the canonical word after each variant found, to questions and
articles alike, so both sides carry the same specific terms.

The list is accounting vocabulary and everyday shop talk written for this
product (what an implementation consultant hears), plus the two typos the dev
questions showed (发漂, 盘店). It is deliberately not built from held-out
questions. Keep entries unambiguous: a variant that also means something else
(月结 = monthly settlement terms *or* month-end closing) does not belong here.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.knowledge.tokenize import normalize

# canonical word: variants (normalized text, matched as substrings)
SYNONYMS: dict[str, tuple[str, ...]] = {
    # invoices
    "发票": ("发漂", "发飘"),
    "红字发票": ("红冲", "冲红", "红票", "负数发票", "开红字", "冲销发票"),
    "数电票": ("全电票", "全电发票", "数电发票", "数字化电子发票"),
    "专用发票": ("专票", "增值税专用发票"),
    "普通发票": ("普票",),
    "作废": ("废掉", "作费"),
    "查验": ("验真", "辨真伪", "查真假"),
    "假发票": ("假发漂", "假票"),
    "识别失败": ("识别不了", "识别不出", "认不出", "读不出", "读不了"),
    "重复发票": ("发过了", "传过了", "重复上传", "重复提交"),
    # tax
    "抵扣": ("抵税", "抵进项", "抵减进项", "抵口"),
    "税率": ("税点", "几个点"),
    "增值税": ("vat",),
    "纳税申报": ("报税",),
    "按月申报": ("按月报",),
    "按季申报": ("按季报",),
    "税号": ("纳税人识别号", "信用代码"),
    "附加税": ("城建税", "教育费附加"),
    "进项税额转出": ("进项转出",),
    # ledger
    "凭证": ("传票", "记账凭证", "凭正"),
    "查凭证": ("哪些凭证",),
    "科目": ("会计科目",),
    "结账": ("关账", "扎账"),
    "反结账": ("反结", "取消结账"),
    "损益结转": ("结转损益",),
    "借贷不平": ("借贷不平衡", "借贷不相等", "借贷不等"),
    "折旧": ("计提折旧",),
    # money in and out
    "收款": ("回款", "到账", "收钱", "收到钱", "进账", "打款过来"),
    "付款": ("付钱", "付货款", "打款给"),
    "应收账款": ("应收款", "欠我们", "欠我", "欠咱"),
    "应付账款": ("应付款", "欠供应商"),
    "预收账款": ("定金", "订金", "预收款"),
    "坏账": ("呆账", "死账", "烂账"),
    "催收": ("催款", "要账", "讨债", "追款"),
    "银行对账": ("对账单", "银行流水"),
    # expenses and payroll
    "报销": ("报账",),
    "没有发票": ("开不了票", "开不出票", "没票", "没发票", "不给开票"),
    "业务招待费": ("招待费", "应酬", "请客", "陪客户吃饭"),
    "差旅费": ("出差费",),
    "工资": ("薪水", "薪资", "工钱"),
    "社保": ("社会保险", "五险"),
    # stock
    "盘点": ("盘库", "盘存", "盘货", "盘店"),
    "盘盈": ("盘出来多", "盘多了"),
    "盘亏": ("盘出来少", "盘少了"),
    "库存": ("存货", "现存量"),
    "库存不足": ("库存不够", "货不够"),
    # the bot itself
    "没有权限": ("没权限", "无权", "权限不够", "权限不足"),
    "取消": ("退出", "不想弄了", "不弄了", "不做了"),
    "转人工": ("人工客服", "找真人", "找人工"),
    "机器人": ("bot",),
    "telegram": ("tg", "电报"),
    "审批": ("审核", "批准"),
}


@lru_cache(maxsize=1)
def _pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    canonical = {normalize(v): normalize(c) for c, variants in SYNONYMS.items() for v in variants}
    # Longest first, so 增值税专用发票 wins over 专票 inside it.
    alternatives = sorted(canonical, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, alternatives))), canonical


def expand(text: str) -> str:
    """``text`` followed by the canonical word of every variant it contains."""
    pattern, canonical = _pattern()
    found = [canonical[m.group(0)] for m in pattern.finditer(normalize(text))]
    if not found:
        return text
    return text + " " + " ".join(found)
