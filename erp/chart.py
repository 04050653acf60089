"""The chart of accounts of 小企业会计准则 (2013), with the usual sub-accounts.

Rows: (code, name, category, nature, aux_party). The parent of a code is the
longest other code that prefixes it; level follows from the code length
(4 digits = level 1, each further 2 digits one level down).
"""

from __future__ import annotations

from sqlmodel import Session, select

from erp.models import Account

D, C = "debit", "credit"

CHART: list[tuple[str, str, str, str, bool]] = [
    # 资产类
    ("1001", "库存现金", "asset", D, False),
    ("1002", "银行存款", "asset", D, False),
    ("1012", "其他货币资金", "asset", D, False),
    ("1101", "短期投资", "asset", D, False),
    ("1121", "应收票据", "asset", D, True),
    ("1122", "应收账款", "asset", D, True),
    ("1123", "预付账款", "asset", D, True),
    ("1131", "应收股利", "asset", D, False),
    ("1132", "应收利息", "asset", D, False),
    ("1221", "其他应收款", "asset", D, True),
    ("1401", "材料采购", "asset", D, False),
    ("1402", "在途物资", "asset", D, False),
    ("1403", "原材料", "asset", D, False),
    ("1404", "材料成本差异", "asset", D, False),
    ("1405", "库存商品", "asset", D, False),
    ("1407", "商品进销差价", "asset", C, False),
    ("1408", "委托加工物资", "asset", D, False),
    ("1411", "周转材料", "asset", D, False),
    ("1421", "消耗性生物资产", "asset", D, False),
    ("1501", "长期债券投资", "asset", D, False),
    ("1511", "长期股权投资", "asset", D, False),
    ("1601", "固定资产", "asset", D, False),
    ("1602", "累计折旧", "asset", C, False),
    ("1604", "在建工程", "asset", D, False),
    ("1605", "工程物资", "asset", D, False),
    ("1606", "固定资产清理", "asset", D, False),
    ("1621", "生产性生物资产", "asset", D, False),
    ("1622", "生产性生物资产累计折旧", "asset", C, False),
    ("1701", "无形资产", "asset", D, False),
    ("1702", "累计摊销", "asset", C, False),
    ("1801", "长期待摊费用", "asset", D, False),
    ("1901", "待处理财产损溢", "asset", D, False),
    # 负债类
    ("2001", "短期借款", "liability", C, False),
    ("2201", "应付票据", "liability", C, True),
    ("2202", "应付账款", "liability", C, True),
    ("2203", "预收账款", "liability", C, True),
    ("2211", "应付职工薪酬", "liability", C, False),
    ("221101", "工资", "liability", C, False),
    ("221102", "社会保险费", "liability", C, False),
    ("2221", "应交税费", "liability", C, False),
    ("222101", "应交增值税", "liability", C, False),
    ("22210101", "进项税额", "liability", C, False),
    ("22210102", "销项税额", "liability", C, False),
    ("22210103", "进项税额转出", "liability", C, False),
    ("22210104", "已交税金", "liability", C, False),
    ("22210105", "转出未交增值税", "liability", C, False),
    ("222102", "未交增值税", "liability", C, False),
    ("222103", "应交企业所得税", "liability", C, False),
    ("222104", "应交个人所得税", "liability", C, False),
    ("222105", "应交城市维护建设税", "liability", C, False),
    ("222106", "应交教育费附加", "liability", C, False),
    ("222107", "应交地方教育附加", "liability", C, False),
    ("2231", "应付利息", "liability", C, False),
    ("2232", "应付利润", "liability", C, False),
    ("2241", "其他应付款", "liability", C, True),
    ("2401", "递延收益", "liability", C, False),
    ("2501", "长期借款", "liability", C, False),
    ("2701", "长期应付款", "liability", C, False),
    # 所有者权益类
    ("3001", "实收资本", "equity", C, False),
    ("3002", "资本公积", "equity", C, False),
    ("3101", "盈余公积", "equity", C, False),
    ("3103", "本年利润", "equity", C, False),
    ("3104", "利润分配", "equity", C, False),
    # 成本类
    ("4001", "生产成本", "cost", D, False),
    ("4101", "制造费用", "cost", D, False),
    ("4301", "研发支出", "cost", D, False),
    ("4401", "工程施工", "cost", D, False),
    # 损益类
    ("5001", "主营业务收入", "profit_loss", C, False),
    ("5051", "其他业务收入", "profit_loss", C, False),
    ("5111", "投资收益", "profit_loss", C, False),
    ("5301", "营业外收入", "profit_loss", C, False),
    ("5401", "主营业务成本", "profit_loss", D, False),
    ("5402", "其他业务成本", "profit_loss", D, False),
    ("5403", "税金及附加", "profit_loss", D, False),
    ("5601", "销售费用", "profit_loss", D, False),
    ("560101", "运输费", "profit_loss", D, False),
    ("560102", "广告费", "profit_loss", D, False),
    ("560103", "业务宣传费", "profit_loss", D, False),
    ("560104", "职工薪酬", "profit_loss", D, False),
    ("560105", "差旅费", "profit_loss", D, False),
    ("560106", "其他", "profit_loss", D, False),
    ("5602", "管理费用", "profit_loss", D, False),
    ("560201", "职工薪酬", "profit_loss", D, False),
    ("560202", "业务招待费", "profit_loss", D, False),
    ("560203", "办公费", "profit_loss", D, False),
    ("560204", "差旅费", "profit_loss", D, False),
    ("560205", "租赁费", "profit_loss", D, False),
    ("560206", "水电费", "profit_loss", D, False),
    ("560207", "通讯费", "profit_loss", D, False),
    ("560208", "修理费", "profit_loss", D, False),
    ("560209", "咨询服务费", "profit_loss", D, False),
    ("560210", "快递邮寄费", "profit_loss", D, False),
    ("560211", "交通费", "profit_loss", D, False),
    ("560212", "软件及信息技术服务费", "profit_loss", D, False),
    ("560213", "折旧费", "profit_loss", D, False),
    ("560299", "其他", "profit_loss", D, False),
    ("5603", "财务费用", "profit_loss", D, False),
    ("560301", "利息费用", "profit_loss", D, False),
    ("560302", "手续费", "profit_loss", D, False),
    ("5711", "营业外支出", "profit_loss", D, False),
    ("5801", "所得税费用", "profit_loss", D, False),
]


def parent_of(code: str, codes: set[str]) -> str | None:
    for cut in range(len(code) - 2, 3, -2):
        if code[:cut] in codes:
            return code[:cut]
    return None


def level_of(code: str) -> int:
    return 1 + max(0, (len(code) - 4) // 2)


def seed_chart(session: Session) -> int:
    """Insert the accounts that are missing; returns how many were added. Idempotent."""
    existing = set(session.exec(select(Account.code)).all())
    codes = {row[0] for row in CHART} | existing
    parents = {parent_of(c, codes) for c in codes} - {None}
    added = 0
    # parents first, so the foreign key holds on every insert
    for code, name, category, nature, aux in sorted(CHART, key=lambda r: len(r[0])):
        if code in existing:
            continue
        session.add(
            Account(
                code=code,
                name=name,
                parent_code=parent_of(code, codes),
                level=level_of(code),
                category=category,
                nature=nature,
                aux_party=aux,
                is_leaf=code not in parents,
            )
        )
        session.flush()
        added += 1
    for acc in session.exec(select(Account).where(Account.code.in_(parents))).all():  # type: ignore[union-attr]
        if acc.is_leaf:
            acc.is_leaf = False
            session.add(acc)
    session.flush()
    return added


def full_name(session: Session, code: str) -> str:
    """'应交税费-应交增值税-进项税额' for 22210101."""
    names = []
    acc = session.get(Account, code)
    while acc is not None:
        names.append(acc.name)
        acc = session.get(Account, acc.parent_code) if acc.parent_code else None
    return "-".join(reversed(names))
