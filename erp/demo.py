"""The demo company: a year of a small trading company, booked through the services.

``generate_demo`` plays out ``months`` of business day by day and books every
event through the same functions the chat and the CLI use: invoices go through
``draft_from_invoice`` / ``save_draft`` / ``confirm_invoice`` (what
``book_invoice`` does, with the product of each line pinned the way a user picks
a candidate), receipts and payments through ``settle``, returns as red invoices,
mistakes through ``void_invoice``, month-end counts through ``count_adjustment``
plus their voucher. Nothing is written around the services, so every invariant
the tests assert holds for the demo book too.

Deterministic: the same ``seed`` and ``today`` give the same book. Each month is
one transaction (``erp.db.transaction``), so an interrupted run leaves whole months.

Demo staff (fake Telegram ids, so the console chat can act as anyone)::

    1000000001  赵志刚  admin       管理员
    1000000002  钱丽华  manager     经理 (approves vouchers above the threshold)
    1000000003  孙晓燕  accountant  会计 (books invoices, receipts, payments)
    1000000004  李建国  warehouse   仓管 (stock counts, transfers)
    1000000005  周杰    sales       销售 (north and east China customers)
    1000000006  吴婷    sales       销售 (south and central China customers)
    1000000007  郑浩    sales       销售 (west and north-east China customers)

e.g. ``python main.py chat --as 1000000003`` talks as the accountant.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from erp.bootstrap import bootstrap
from erp.config import Settings
from erp.db import create_schema, make_engine, qty_sum, reading, transaction
from erp.errors import ErpError
from erp.invoices import (
    approve_invoice,
    confirm_invoice,
    draft_from_invoice,
    save_draft,
    void_invoice,
)
from erp.models import Invoice, Party, Product, StockMove, Voucher, Warehouse
from erp.parties import create_party
from erp.products import create_product
from erp.receivables import open_balance, settle
from erp.staff import add_staff
from erp.stock import count_adjustment, move_in, move_out, on_hand, stock_account
from erp.vouchers import Line, approve_voucher, create_voucher, post_voucher
from values import clock
from values.money import ZERO, from_ten_thousandths, q2
from values.taxid import make_uscc

D = Decimal
CENT = D("0.01")

DEMO_STAFF: tuple[tuple[int, str, str], ...] = (
    (1000000001, "赵志刚", "admin"),
    (1000000002, "钱丽华", "manager"),
    (1000000003, "孙晓燕", "accountant"),
    (1000000004, "李建国", "warehouse"),
    (1000000005, "周杰", "sales"),
    (1000000006, "吴婷", "sales"),
    (1000000007, "郑浩", "sales"),
)

# sales rep (telegram id) per province group
_REP_BY_PROVINCE = {
    **dict.fromkeys(("北京", "天津", "上海", "江苏", "浙江", "山东", "安徽"), 1000000005),
    **dict.fromkeys(("广东", "福建", "广西", "湖北", "湖南", "河南"), 1000000006),
    **dict.fromkeys(("四川", "重庆", "陕西", "云南", "辽宁"), 1000000007),
}

# name, short name, province, city, credit days, categories it mostly buys
CUSTOMERS: tuple[tuple[str, str, str, str, int, str], ...] = (
    ("华为技术有限公司", "华为", "广东", "深圳", 60, "AB"),
    ("深圳市华强电子商行有限公司", "华强电子", "广东", "深圳", 30, "AE"),
    ("广州天河数码科技有限公司", "天河数码", "广东", "广州", 45, "BF"),
    ("北京中关村科贸有限公司", "中关村科贸", "北京", "北京", 45, "BC"),
    ("上海浦东智能科技有限公司", "浦东智能", "上海", "上海", 30, "AB"),
    ("杭州西湖电子有限公司", "西湖电子", "浙江", "杭州", 45, "AE"),
    ("温州鹿城服饰有限公司", "鹿城服饰", "浙江", "温州", 30, "DE"),
    ("苏州工业园区精密制造有限公司", "园区精密", "江苏", "苏州", 60, "AE"),
    ("成都蓉城科技有限公司", "蓉城科技", "四川", "成都", 60, "BC"),
    ("武汉光谷电子有限公司", "光谷电子", "湖北", "武汉", 45, "AB"),
    ("北京燕山办公设备有限公司", "燕山办公", "北京", "北京", 30, "CF"),
    ("上海徐汇文化用品有限公司", "徐汇文化", "上海", "上海", 15, "CD"),
    ("宁波港城贸易有限公司", "港城贸易", "浙江", "宁波", 60, "FD"),
    ("南京秦淮电器有限公司", "秦淮电器", "江苏", "南京", 45, "FB"),
    ("无锡太湖物联网科技有限公司", "太湖物联", "江苏", "无锡", 90, "AB"),
    ("重庆山城实业有限公司", "山城实业", "重庆", "重庆", 90, "FC"),
    ("东莞市长安五金电子有限公司", "长安五金", "广东", "东莞", 30, "AE"),
    ("长沙岳麓办公用品有限公司", "岳麓办公", "湖南", "长沙", 30, "CB"),
    ("西安高新技术产业有限公司", "西安高新", "陕西", "西安", 60, "AB"),
    ("郑州中原商贸有限公司", "中原商贸", "河南", "郑州", 45, "FD"),
    ("济南泉城电子有限公司", "泉城电子", "山东", "济南", 30, "AB"),
    ("青岛海滨科技有限公司", "海滨科技", "山东", "青岛", 45, "BF"),
    ("天津滨海新区贸易有限公司", "滨海贸易", "天津", "天津", 60, "CF"),
    ("沈阳北方机电有限公司", "北方机电", "辽宁", "沈阳", 90, "AE"),
    ("大连星海服装有限公司", "星海服装", "辽宁", "大连", 30, "DC"),
    ("合肥科大智能有限公司", "科大智能", "安徽", "合肥", 45, "AB"),
    ("福州闽江电子有限公司", "闽江电子", "福建", "福州", 30, "AF"),
    ("厦门鹭岛贸易有限公司", "鹭岛贸易", "福建", "厦门", 60, "DF"),
    ("昆明春城商贸有限公司", "春城商贸", "云南", "昆明", 90, "CD"),
    ("南宁绿城科技有限公司", "绿城科技", "广西", "南宁", 60, "BC"),
)

# name, short name, province, city, credit days, what it sells: a product series or an expense kind
SUPPLIERS: tuple[tuple[str, str, str, str, int, str], ...] = (
    ("深圳市赛格电子元器件有限公司", "赛格电子", "广东", "深圳", 30, "A"),
    ("东莞市联泰电脑配件有限公司", "联泰电脑", "广东", "东莞", 45, "B"),
    ("宁波文昌文具有限公司", "文昌文具", "浙江", "宁波", 30, "C"),
    ("广州白云制衣有限公司", "白云制衣", "广东", "广州", 60, "D"),
    ("昆山华东包装材料有限公司", "华东包装", "江苏", "昆山", 30, "E"),
    ("佛山顺德小家电有限公司", "顺德小家电", "广东", "佛山", 45, "F"),
    ("上海外高桥物业管理有限公司", "外高桥物业", "上海", "上海", 15, "rent"),
    ("上海顺达物流有限公司", "顺达物流", "上海", "上海", 30, "freight"),
    ("中国电信股份有限公司上海分公司", "上海电信", "上海", "上海", 15, "telecom"),
    ("国网上海市电力公司", "上海电力", "上海", "上海", 15, "power"),
    ("上海老城隍庙餐饮有限公司", "城隍庙餐饮", "上海", "上海", 0, "meals"),
    ("上海致远企业管理咨询有限公司", "致远咨询", "上海", "上海", 30, "consulting"),
    ("深圳市立创电子商务有限公司", "立创商城", "广东", "深圳", 15, "A"),
    ("上海张江数码科技有限公司", "张江数码", "上海", "上海", 30, "B"),
    ("温州瓯海服饰有限公司", "瓯海服饰", "浙江", "温州", 45, "D"),
)

# series: (Product.category, invoice tax category, tax rate)
SERIES = {
    "A": ("电子元件", "电子元件", "13%"),
    "B": ("电脑配件", "计算机配套产品", "13%"),
    "C": ("办公文具", "文具", "13%"),
    "D": ("服装", "服装", "13%"),
    "E": ("原材料", "塑料制品", "13%"),
    "F": ("家用电器", "家用电器", "13%"),
}

# name, spec, unit, sale price, typical quantity on one sales line
_GOODS: dict[str, list[tuple[str, str, str, str, int]]] = {
    "A": [
        ("贴片电阻", "0805-10KΩ", "盘", "45.00", 6),
        ("贴片电容", "0805-100nF", "盘", "60.00", 6),
        ("电解电容", "25V-470μF", "包", "35.00", 10),
        ("肖特基二极管", "SS34", "盘", "80.00", 4),
        ("三极管", "S8050", "盘", "55.00", 5),
        ("LED灯珠", "0603-白光", "盘", "75.00", 5),
        ("单片机", "STM32F103C8T6", "个", "12.50", 200),
        ("WiFi模块", "ESP32-WROOM-32", "个", "18.00", 150),
        ("无源晶振", "8MHz-HC49S", "个", "1.20", 500),
        ("继电器", "5V-10A", "个", "3.50", 200),
        ("排针", "2.54mm-40P", "包", "15.00", 20),
        ("USB连接器", "Type-C-16P", "包", "45.00", 10),
        ("保险丝", "5A-250V", "盒", "25.00", 12),
        ("稳压芯片", "AMS1117-3.3", "盘", "120.00", 3),
        ("运算放大器", "LM358", "盘", "95.00", 3),
        ("功率电感", "4.7μH", "盘", "65.00", 4),
        ("MOS管", "AO3400", "盘", "110.00", 3),
        ("光耦", "PC817", "盘", "85.00", 3),
        ("蜂鸣器", "有源5V", "个", "1.50", 300),
        ("电位器", "10KΩ", "个", "2.00", 200),
    ],
    "B": [
        ("无线鼠标", "M185", "个", "69.00", 20),
        ("机械键盘", "K87-青轴", "个", "299.00", 8),
        ("U盘", "64GB-USB3.0", "个", "45.00", 30),
        ("移动硬盘", "1TB", "个", "359.00", 6),
        ("显示器", "24英寸-IPS", "台", "899.00", 4),
        ("无线路由器", "AX3000", "台", "299.00", 6),
        ("网线", "CAT6-3米", "根", "12.00", 50),
        ("HDMI线", "2.0-1.5米", "根", "25.00", 30),
        ("USB集线器", "4口-USB3.0", "个", "59.00", 15),
        ("笔记本支架", "铝合金", "个", "89.00", 10),
        ("固态硬盘", "512GB-NVMe", "个", "329.00", 8),
        ("内存条", "DDR4-16GB", "条", "299.00", 8),
        ("网络摄像头", "1080P", "个", "159.00", 8),
        ("头戴式耳机", "USB降噪", "个", "199.00", 8),
        ("电源适配器", "65W-PD", "个", "129.00", 12),
    ],
    "C": [
        ("中性笔", "0.5mm-黑", "盒", "24.00", 20),
        ("订书机", "12号", "个", "18.00", 15),
        ("文件夹", "A4-双夹", "个", "6.50", 60),
        ("计算器", "12位", "个", "35.00", 10),
        ("笔记本", "B5-80页", "本", "8.00", 60),
        ("便利贴", "76×76mm", "本", "3.50", 80),
        ("修正带", "5mm×8m", "个", "4.00", 50),
        ("荧光笔", "6色", "盒", "15.00", 20),
        ("办公剪刀", "170mm", "把", "9.00", 20),
        ("长尾夹", "25mm", "盒", "8.00", 30),
        ("白板笔", "黑色-10支", "盒", "28.00", 15),
        ("档案盒", "A4-55mm", "个", "12.00", 40),
    ],
    "E": [
        ("气泡膜", "50cm×100m", "卷", "45.00", 20),
        ("缠绕膜", "50cm-2.5kg", "卷", "38.00", 20),
        ("封箱胶带", "48mm×100m", "卷", "6.50", 100),
        ("珍珠棉", "2mm×1m×50m", "卷", "60.00", 10),
        ("打包带", "PP-15mm", "卷", "35.00", 15),
        ("自封袋", "20×30cm-100只", "包", "18.00", 30),
    ],
    "F": [
        ("电热水壶", "1.7L", "台", "129.00", 6),
        ("加湿器", "4L", "台", "159.00", 6),
        ("落地扇", "16寸", "台", "199.00", 5),
        ("手持吸尘器", "无线", "台", "399.00", 3),
        ("电暖器", "2000W", "台", "259.00", 4),
        ("空气净化器", "CADR400", "台", "899.00", 2),
        ("咖啡机", "意式半自动", "台", "599.00", 2),
        ("微波炉", "20L", "台", "459.00", 3),
        ("电饭煲", "4L", "台", "299.00", 4),
    ],
}

# apparel: style, sale price, colours, sizes, typical quantity
_APPAREL = (
    ("纯棉T恤", "59.00", ("红", "白", "黑"), ("S", "M", "L", "XL"), 30),
    ("工装夹克", "189.00", ("藏青", "灰"), ("M", "L", "XL"), 10),
)

# monthly running costs: kind -> (item name, tax rate, invoice type, low, high, per month)
_EXPENSES = {
    "rent": ("*不动产租赁服务*仓库租金", "9%", "special", "18000", "18000", 1),
    "freight": ("*运输服务*国内道路货物运输服务", "9%", "special", "600", "3200", 3),
    "telecom": ("*电信服务*宽带及通讯服务费", "6%", "special", "1280", "1280", 1),
    "power": ("*供电*电费", "13%", "special", "1800", "3600", 1),
    "meals": ("*餐饮服务*餐饮服务", "6%", "normal", "300", "1800", 2),
    "consulting": ("*鉴证咨询服务*财税咨询服务费", "6%", "special", "15000", "15000", 0),
}

PROFILES = (("prompt", 60), ("slow", 28), ("bad", 12))


@dataclass
class DemoSummary:
    start: dt.date
    end: dt.date
    customers: int = 0
    suppliers: int = 0
    products: int = 0
    sales_invoices: int = 0
    purchase_invoices: int = 0
    red_invoices: int = 0
    voided_invoices: int = 0
    receipts: int = 0
    payments: int = 0
    count_adjustments: int = 0
    transfers: int = 0
    approvals: int = 0
    seconds: float = 0.0
    staff: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [
            f"演示公司账套：{self.start.isoformat()} 至 {self.end.isoformat()}",
            f"客户 {self.customers} 家，供应商 {self.suppliers} 家，商品 {self.products} 种",
            f"销售发票 {self.sales_invoices} 张，采购发票 {self.purchase_invoices} 张，"
            f"红字发票 {self.red_invoices} 张，作废 {self.voided_invoices} 张",
            f"收款 {self.receipts} 笔，付款 {self.payments} 笔，盘点调整 {self.count_adjustments} 次，"
            f"调拨 {self.transfers} 次，经理审批 {self.approvals} 张",
            f"用时 {self.seconds:.1f} 秒",
        ]


def is_empty(engine: Engine) -> bool:
    """True when the book holds no business yet (no parties, no vouchers)."""
    with reading(engine) as s:
        parties = s.exec(select(func.count()).select_from(Party)).one()
        vouchers = s.exec(select(func.count()).select_from(Voucher)).one()
    return not parties and not vouchers


def reset_and_generate(
    url: str,
    settings: Settings,
    *,
    seed: int = 42,
    today: dt.date | None = None,
    months: int = 12,
    **scale: int,
) -> DemoSummary:
    """``demo --reset``: drop every table, create the schema again and generate the demo."""
    import erp.models  # noqa: F401  - registers the tables

    engine = make_engine(url)
    try:
        SQLModel.metadata.drop_all(engine)
        create_schema(engine)
        return generate_demo(engine, settings, seed=seed, today=today, months=months, **scale)
    finally:
        engine.dispose()


def _money_str(value: Decimal) -> str:
    return str(value.quantize(CENT, ROUND_HALF_UP))


def _tax(amount: Decimal, rate: str) -> Decimal:
    return (amount * D(rate.rstrip("%")) / 100).quantize(CENT, ROUND_HALF_UP)


def _add_months(day: dt.date, months: int) -> dt.date:
    m = day.month - 1 + months
    return dt.date(day.year + m // 12, m % 12 + 1, 1)


def _next_weekday(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


@dataclass
class _Goods:
    sku: str
    series: str
    name: str
    spec: str
    unit: str
    price: Decimal
    lot: int
    min_stock: int
    cost: Decimal  # the supplier's price before drift
    colour: str | None = None
    size: str | None = None
    style: str | None = None
    id: int = 0


def catalog(n_products: int = 80) -> list[_Goods]:
    """The product list, A001… per series; the first ``n_products`` taken round-robin across series."""
    cost_rng = random.Random(7)
    by_series: dict[str, list[_Goods]] = {}
    for series, items in _GOODS.items():
        by_series[series] = []
        for i, (name, spec, unit, price, lot) in enumerate(items, start=1):
            p = D(price)
            by_series[series].append(
                _Goods(
                    sku=f"{series}{i:03d}",
                    series=series,
                    name=name,
                    spec=spec,
                    unit=unit,
                    price=p,
                    lot=lot,
                    min_stock=lot * 2,
                    cost=(p * D(cost_rng.randint(60, 76)) / 100).quantize(CENT),
                )
            )
    apparel = []
    for style, price, colours, sizes, lot in _APPAREL:
        for colour in colours:
            for size in sizes:
                p = D(price)
                apparel.append(
                    _Goods(
                        sku=f"D{len(apparel) + 1:03d}",
                        series="D",
                        name=style,
                        spec=f"{colour}色/{size}码",
                        unit="件",
                        price=p,
                        lot=lot,
                        min_stock=lot * 2,
                        cost=(p * D(cost_rng.randint(45, 60)) / 100).quantize(CENT),
                        colour=colour,
                        size=size,
                        style=style,
                    )
                )
    by_series["D"] = apparel
    order = ["A", "B", "C", "D", "E", "F"]
    out: list[_Goods] = []
    index = 0
    while len(out) < n_products and any(index < len(by_series[s]) for s in order):
        for s in order:
            if index < len(by_series[s]) and len(out) < n_products:
                out.append(by_series[s][index])
        index += 1
    return sorted(out, key=lambda g: g.sku)


def _levels(s: Session) -> dict[tuple[int, int], Decimal]:
    """On-hand per (product, warehouse) in one query (the weekly purchasing look at the shelves)."""
    rows = s.exec(
        select(StockMove.product_id, StockMove.warehouse_id, qty_sum(StockMove.quantity)).group_by(
            StockMove.product_id, StockMove.warehouse_id
        )
    ).all()
    return {(pid, wh): from_ten_thousandths(q) for pid, wh, q in rows}


class _Demo:
    """The simulation: state kept as ids and plans; every write goes through a service."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        rng: random.Random,
        start: dt.date,
        today: dt.date,
        n_customers: int,
        n_suppliers: int,
        n_products: int,
        sales_per_day: float,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.rng = rng
        self.start = start
        self.today = today
        self.n_customers = n_customers
        self.n_suppliers = n_suppliers
        self.n_products = n_products
        self.sales_per_day = sales_per_day
        self.summary = DemoSummary(start=start, end=today)
        self.staff: dict[str, int] = {}  # role (first of each) -> staff id
        self.customers: list[dict] = []
        self.suppliers: list[dict] = []
        self.goods: list[_Goods] = []
        self.supplier_for: dict[str, list[dict]] = defaultdict(list)
        self.wh_main = 0
        self.wh_branch = 0
        self.number = 0
        self.receipt_plan: dict[dt.date, dict[int, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
        self.payment_plan: dict[dt.date, dict[int, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
        self.returns: dict[dt.date, list[tuple[int, str]]] = defaultdict(list)  # day -> (invoice id, kind)
        # a few products whose supplier cannot deliver in the last weeks: they end below minimum
        self.shortage_from = today - dt.timedelta(days=75)
        self.short: set[str] = set()

    # --- set-up --------------------------------------------------------------

    def setup(self, s: Session) -> None:
        bootstrap(s, self.settings)
        rep_ids: dict[int, int] = {}
        for tid, name, role in DEMO_STAFF:
            staff = add_staff(s, telegram_id=tid, name=name, role=role)
            self.staff.setdefault(role, staff.id)
            rep_ids[tid] = staff.id
            self.summary.staff[name] = tid
        wh = s.exec(select(Warehouse).order_by(Warehouse.id)).first()
        self.wh_main = wh.id
        branch = s.exec(select(Warehouse).where(Warehouse.code == "WH02")).first()
        if branch is None:
            branch = Warehouse(code="WH02", name="广州分仓")
            s.add(branch)
            s.flush()
        self.wh_branch = branch.id

        for i, (name, short, prov, city, days, series) in enumerate(CUSTOMERS[: self.n_customers]):
            aliases = "华为,Huawei,华为公司" if short == "华为" else short
            party = create_party(
                s,
                name=name,
                kind="customer",
                tax_id=make_uscc(f"914{i % 10}0{i:012d}"[:17]),
                short_name=short,
                aliases=aliases,
                province=prov,
                city=city,
                credit_days=days,
                sales_rep_id=rep_ids[_REP_BY_PROVINCE.get(prov, 1000000005)],
                contact=f"{short}采购部",
                phone=f"1380000{i:04d}",
            )
            profile = self._weighted(PROFILES)
            if short == "华为":
                profile = "slow"  # so 华为欠我们多少钱 has an interesting answer
            self.customers.append(
                {
                    "id": party.id,
                    "name": name,
                    "tax_id": party.tax_id,
                    "series": series,
                    "profile": profile,
                    "weekday": self.rng.randint(0, 4),
                    "month_day": self.rng.choice((5, 10, 15, 20, 25)),
                }
            )
        for i, (name, short, prov, city, days, what) in enumerate(SUPPLIERS[: self.n_suppliers]):
            party = create_party(
                s,
                name=name,
                kind="supplier",
                tax_id=make_uscc(f"913{i % 10}0{900 + i:012d}"[:17]),
                short_name=short,
                aliases=short,
                province=prov,
                city=city,
                credit_days=days,
                contact=f"{short}财务部",
                phone=f"1390000{i:04d}",
            )
            sup = {"id": party.id, "name": name, "tax_id": party.tax_id, "what": what}
            self.suppliers.append(sup)
            self.supplier_for[what].append(sup)

        self.goods = catalog(self.n_products)
        for g in self.goods:
            category, _tax_cat, rate = SERIES[g.series]
            p = create_product(
                s,
                sku=g.sku,
                name=g.name,
                spec=g.spec,
                unit=g.unit,
                category=category,
                tax_category=SERIES[g.series][1],
                tax_rate=D(rate.rstrip("%")) / 100,
                min_stock=D(g.min_stock),
                style=g.style,
                colour=g.colour,
                size=g.size,
                aliases=f"{g.colour}色{g.name}{g.size}码" if g.style else None,
                sale_price=g.price,
            )
            g.id = p.id
        # ~10% of products: the supplier runs dry near the end, so they end below minimum
        k = max(2, len(self.goods) // 10)
        self.short = {g.sku for g in self.rng.sample(self.goods, k)}
        self.summary.customers = len(self.customers)
        self.summary.suppliers = len(self.suppliers)
        self.summary.products = len(self.goods)

        # paid-in capital on the first day (a decision above the threshold: the manager approves it)
        v = create_voucher(
            s,
            date=self.start,
            lines=[
                Line("1002", debit=D("3000000.00"), summary="股东投入资本金"),
                Line("3001", credit=D("3000000.00"), summary="股东投入资本金"),
            ],
            summary="股东投入资本金",
            created_by=self.staff["accountant"],
            source_type="manual",
        )
        approve_voucher(s, v, self.staff["manager"])
        post_voucher(s, v, self.settings, self.staff["accountant"])

    def _weighted(self, options: tuple[tuple[str, int], ...]) -> str:
        return self.rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]

    # --- invoices ------------------------------------------------------------

    def _next_number(self, day: dt.date) -> str:
        self.number += 1
        return f"{day.year % 100:02d}31{2000000 + self.number:016d}"

    def _parsed(
        self,
        *,
        day: dt.date,
        direction: str,
        party: dict,
        lines: list[dict],
        invoice_type: str = "special",
        is_red: bool = False,
        remarks: str | None = None,
    ) -> dict:
        us = {"name": self.settings.company_name, "tax_id": self.settings.company_tax_id}
        other = {"name": party["name"], "tax_id": party["tax_id"]}
        amount = sum((D(ln["amount"]) for ln in lines), ZERO)
        tax = sum((D(ln["tax"]) for ln in lines), ZERO)
        return {
            "source": "demo",
            "ok": True,
            "error": None,
            "format": "xml",
            "invoice_type": invoice_type,
            "is_red": is_red,
            "number": self._next_number(day),
            "code": None,
            "issue_date": day.isoformat(),
            "buyer": us if direction == "purchase" else other,
            "seller": other if direction == "purchase" else us,
            "lines": lines,
            "total_amount": _money_str(amount),
            "total_tax": _money_str(tax),
            "total": _money_str(amount + tax),
            "total_in_words": None,
            "remarks": remarks,
            "issuer": "孙晓燕",
            "warnings": [],
        }

    @staticmethod
    def _goods_line(g: _Goods, quantity: int, unit_price: Decimal, sign: int = 1) -> dict:
        amount = (unit_price * quantity).quantize(CENT, ROUND_HALF_UP)
        rate = SERIES[g.series][2]
        return {
            "name": f"*{SERIES[g.series][1]}*{g.name}",
            "spec": g.spec,
            "unit": g.unit,
            "quantity": str(sign * quantity),
            "unit_price": str(unit_price),
            "amount": _money_str(sign * amount),
            "tax_rate": rate,
            "tax": _money_str(sign * _tax(amount, rate)),
            "_product_id": g.id,
        }

    def _book(self, s: Session, parsed: dict, actor: str) -> Invoice:
        """Draft, pin each goods line to its product (as a user picks the candidate), save, confirm."""
        pins = [ln.pop("_product_id", None) for ln in parsed["lines"]]
        draft = draft_from_invoice(s, parsed, self.settings, today=self.today)
        for line, pid in zip(draft.lines, pins, strict=True):
            if pid is not None and line.product_id != pid:
                product = s.get(Product, pid)
                line.product_id = pid
                line.candidates = []
                line.is_stock = True
                if draft.direction == "purchase":
                    line.account_code = stock_account(product)
        invoice = save_draft(s, draft, actor_id=self.staff[actor])
        result = confirm_invoice(s, invoice.id, self.settings, actor_id=self.staff[actor])
        if result.outcome == "needs_approval":
            approve_invoice(s, invoice.id, self.settings, manager_id=self.staff["manager"])
            self.summary.approvals += 1
        return invoice

    # --- one day -------------------------------------------------------------

    def day(self, s: Session, day: dt.date) -> None:
        weekday = day.weekday() < 5
        if weekday:
            if day == self.start or day.weekday() == 0:
                self.replenish(s, day)
            self.expenses(s, day)
            n_sales = self._poisson(self.sales_per_day)
            shelf = _levels(s) if n_sales else {}
            for _ in range(n_sales):
                self.sale(s, day, shelf)
        for invoice_id, kind in self.returns.pop(day, []):
            self.red_invoice(s, day, invoice_id, kind)
        if weekday:
            self.collect(s, day)
            self.pay(s, day)
        tomorrow = day + dt.timedelta(days=1)
        if tomorrow.month != day.month or day == self.today:
            self.month_end_count(s, day)
        if weekday and day.month in (1, 4, 7, 10) and day.day <= 7 and day.weekday() == 2:
            self.transfer_to_branch(s, day)

    def _poisson(self, mean: float) -> int:
        # Knuth: fine for small means, and deterministic with the seeded generator
        limit, k, p = pow(2.718281828, -mean), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    def replenish(self, s: Session, day: dt.date) -> None:
        """Monday purchasing: products under 1.2× their minimum are brought back to three times it."""
        orders: dict[int, list[dict]] = defaultdict(list)
        suppliers: dict[int, dict] = {}
        level = _levels(s)
        for g in self.goods:
            if g.sku in self.short and day >= self.shortage_from:
                continue
            main = level.get((g.id, self.wh_main), ZERO)
            branch = level.get((g.id, self.wh_branch), ZERO)
            if main < g.min_stock * D("1.2") and branch > 0:
                self._transfer(s, g, self.wh_branch, self.wh_main, branch, day, "调回主仓补货")
                main += branch
                branch = ZERO
            if main + branch >= g.min_stock * D("1.2"):
                continue
            want = g.min_stock * 3 - int(main + branch)
            want = max(g.lot, (want + g.lot - 1) // g.lot * g.lot)
            choices = self.supplier_for.get(g.series) or self.supplier_for.get("A") or self.suppliers[:1]
            sup = choices[g.id % len(choices)]
            drift = D(self.rng.randint(97, 104)) / 100
            unit_cost = (g.cost * drift).quantize(CENT)
            orders[sup["id"]].append(self._goods_line(g, want, unit_cost))
            suppliers[sup["id"]] = sup
        for sid, lines in orders.items():
            for chunk in range(0, len(lines), 8):
                part = lines[chunk : chunk + 8]
                itype = "special" if self.rng.random() < 0.9 else "normal"
                inv = self._book(
                    s,
                    self._parsed(
                        day=day, direction="purchase", party=suppliers[sid], lines=part, invoice_type=itype
                    ),
                    "accountant",
                )
                self.summary.purchase_invoices += 1
                self._plan_payment(s, inv, day)
                if self.rng.random() < 0.02:
                    self.returns[day + dt.timedelta(days=self.rng.randint(2, 10))].append(
                        (inv.id, "purchase")
                    )

    def expenses(self, s: Session, day: dt.date) -> None:
        """Running costs: rent and utilities early in the month, freight and meals through it."""
        for kind, (item, rate, itype, low, high, per_month) in _EXPENSES.items():
            sups = self.supplier_for.get(kind)
            if not sups:
                continue
            if kind == "consulting":
                due = day.month in (3, 6, 9, 12) and day.day <= 7 and day.weekday() == 1
            elif per_month == 1:
                due = day == _next_weekday(day.replace(day=5))
            else:
                due = self.rng.random() < per_month / 21
            if not due:
                continue
            lo, hi = int(D(low)), int(D(high))
            amount = D(self.rng.randint(lo, hi)) if hi > lo else D(lo)
            if hi > lo:
                amount += D(self.rng.randint(0, 99)) / 100
            line = {
                "name": item,
                "spec": None,
                "unit": "月" if kind in ("rent", "telecom") else None,
                "quantity": "1" if kind in ("rent", "telecom") else None,
                "unit_price": _money_str(amount) if kind in ("rent", "telecom") else None,
                "amount": _money_str(amount),
                "tax_rate": rate,
                "tax": _money_str(_tax(amount, rate)),
            }
            inv = self._book(
                s,
                self._parsed(day=day, direction="purchase", party=sups[0], lines=[line], invoice_type=itype),
                "accountant",
            )
            self.summary.purchase_invoices += 1
            self._plan_payment(s, inv, day)

    def sale(self, s: Session, day: dt.date, shelf: dict[tuple[int, int], Decimal]) -> None:
        """One sales invoice; ``shelf`` is today's on-hand, kept current as lines are sold."""
        weights = [3 if c["profile"] != "bad" else 1 for c in self.customers]
        if self.customers and self.customers[0]["name"] == CUSTOMERS[0][0]:
            weights[0] = 6  # 华为 is a big customer
        cust = self.rng.choices(self.customers, weights=weights)[0]
        n_lines = self.rng.choice((1, 1, 2, 2, 3, 4))
        lines, used = [], set()
        for _ in range(n_lines):
            series = cust["series"] if self.rng.random() < 0.8 else self.rng.choice("ABCDEF")
            pool = [g for g in self.goods if g.series in series and g.sku not in used] or [
                g for g in self.goods if g.sku not in used
            ]
            if not pool:
                break
            g = self.rng.choice(pool)
            used.add(g.sku)
            want = self.rng.randint(max(1, g.lot // 2), g.lot * 2)
            available = int(shelf.get((g.id, self.wh_main), 0))
            quantity = min(want, available)
            if quantity <= 0:
                continue
            shelf[(g.id, self.wh_main)] = shelf.get((g.id, self.wh_main), ZERO) - quantity
            discount = D(self.rng.choice((100, 100, 100, 98, 95, 92))) / 100
            lines.append(self._goods_line(g, quantity, (g.price * discount).quantize(CENT)))
        if not lines:
            return
        pins = [ln["_product_id"] for ln in lines]
        parsed = self._parsed(day=day, direction="sales", party=cust, lines=[dict(ln) for ln in lines])
        mistaken = self.rng.random() < 0.01
        inv = self._book(s, parsed, "accountant")
        self.summary.sales_invoices += 1
        if mistaken:  # 开错了: void it and issue it again under a new number
            void_invoice(
                s, inv.id, self.settings, actor_id=self.staff["accountant"], reason="购方信息有误，作废重开"
            )
            self.summary.voided_invoices += 1
            again = [dict(ln, _product_id=pid) for ln, pid in zip(lines, pins, strict=True)]
            inv = self._book(
                s, self._parsed(day=day, direction="sales", party=cust, lines=again), "accountant"
            )
            self.summary.sales_invoices += 1
        self._plan_receipt(s, inv, cust, day)
        if self.rng.random() < 0.03:
            self.returns[day + dt.timedelta(days=self.rng.randint(3, 20))].append((inv.id, "sales"))

    def red_invoice(self, s: Session, day: dt.date, invoice_id: int, kind: str) -> None:
        """A return: a red invoice for part of one line of the original."""
        if day > self.today:
            return
        from erp.models import InvoiceLine

        blue = s.get(Invoice, invoice_id)
        if blue is None or blue.status != "posted":
            return
        lines = [
            ln
            for ln in s.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == blue.id)).all()
            if ln.product_id is not None and ln.quantity and ln.quantity > 0
        ]
        if not lines:
            return
        ln = self.rng.choice(lines)
        g = next((x for x in self.goods if x.id == ln.product_id), None)
        if g is None:
            return
        back = max(1, int(ln.quantity) // self.rng.choice((2, 3, 4, 10)))
        if kind == "purchase":
            back = min(back, int(on_hand(s, g.id, self.wh_main)))
            if back <= 0:
                return
        unit_price = (ln.amount / ln.quantity).quantize(CENT)
        party = next(
            p for p in (self.customers if kind == "sales" else self.suppliers) if p["id"] == blue.party_id
        )
        parsed = self._parsed(
            day=day,
            direction=kind,
            party=party,
            lines=[self._goods_line(g, back, unit_price, sign=-1)],
            invoice_type=blue.invoice_type,
            is_red=True,
            remarks=f"被红冲蓝字数电发票号码：{blue.number} 退货",
        )
        self._book(s, parsed, "accountant")
        self.summary.red_invoices += 1

    def _plan_receipt(self, s: Session, inv: Invoice, cust: dict, day: dt.date) -> None:
        due = inv.due_date or day
        profile = cust["profile"]
        if profile == "prompt":
            when = due + dt.timedelta(days=self.rng.randint(-10, 7))
        elif profile == "slow":
            when = due + dt.timedelta(days=self.rng.randint(0, 45))
        else:
            if self.rng.random() < 0.15:
                return  # disputed: never paid
            when = due + dt.timedelta(days=self.rng.randint(45, 200))
        when = self._pay_day(cust, max(when, day + dt.timedelta(days=1)))
        if self.rng.random() < 0.08:  # pays half now, the rest a month later
            half = q2(inv.total / 2)
            self.receipt_plan[when][cust["id"]] += half
            later = self._pay_day(cust, when + dt.timedelta(days=30))
            self.receipt_plan[later][cust["id"]] += inv.total - half
        else:
            self.receipt_plan[when][cust["id"]] += inv.total

    @staticmethod
    def _pay_day(cust: dict, when: dt.date) -> dt.date:
        """Customers pay in batches: prompt ones on their weekday, the others on their day of the month."""
        if cust["profile"] == "prompt":
            return when + dt.timedelta(days=(cust["weekday"] - when.weekday()) % 7)
        day = when if when.day <= cust["month_day"] else _add_months(when, 1)
        return _next_weekday(day.replace(day=cust["month_day"]))

    def _plan_payment(self, s: Session, inv: Invoice, day: dt.date) -> None:
        """Our payment runs are on the 10th and the 25th: everything due by then (a few a run later)."""
        due = max(inv.due_date or day, day)
        if self.rng.random() < 0.07:
            due += dt.timedelta(days=16)
        if due.day <= 10:
            run = due.replace(day=10)
        elif due.day <= 25:
            run = due.replace(day=25)
        else:
            run = _add_months(due, 1).replace(day=10)
        self.payment_plan[_next_weekday(run)][inv.party_id] += inv.total

    def collect(self, s: Session, day: dt.date) -> None:
        for party_id, amount in sorted(self.receipt_plan.pop(day, {}).items()):
            party = s.get(Party, party_id)
            amount = min(amount, open_balance(s, party_id))
            if amount <= 0:
                continue
            settle(
                s,
                party=party,
                amount=amount,
                date=day,
                settings=self.settings,
                actor_id=self.staff["accountant"],
                reference=f"银行回单 {day.strftime('%m%d')}{party_id:03d}",
            )
            self.summary.receipts += 1

    def pay(self, s: Session, day: dt.date) -> None:
        for party_id, amount in sorted(self.payment_plan.pop(day, {}).items()):
            party = s.get(Party, party_id)
            amount = min(amount, open_balance(s, party_id, side="payable"))
            if amount <= 0:
                continue
            settle(
                s,
                party=party,
                amount=amount,
                date=day,
                settings=self.settings,
                side="payable",
                actor_id=self.staff["accountant"],
                reference=f"网银付款 {day.strftime('%m%d')}{party_id:03d}",
            )
            self.summary.payments += 1

    # --- stock ---------------------------------------------------------------

    def _transfer(
        self, s: Session, g: _Goods, src: int, dst: int, quantity: Decimal, day: dt.date, reason: str
    ) -> None:
        """调拨: out of one warehouse at average cost, into the other at the same value (no voucher: one account)."""
        product = s.get(Product, g.id)
        out = move_out(
            s,
            product=product,
            warehouse_id=src,
            quantity=quantity,
            date=day,
            kind="transfer",
            settings=self.settings,
            source_type="transfer",
            reason=reason,
        )
        move_in(
            s,
            product=product,
            warehouse_id=dst,
            quantity=quantity,
            amount=-out.amount,
            date=day,
            kind="transfer",
            source_type="transfer",
            reason=reason,
        )
        self.summary.transfers += 1

    def transfer_to_branch(self, s: Session, day: dt.date) -> None:
        """Quarterly: stock the 广州分仓 with a quarter of the main stock of a few products."""
        for g in self.rng.sample(self.goods, min(6, len(self.goods))):
            quantity = int(on_hand(s, g.id, self.wh_main)) // 4
            if quantity > 0:
                self._transfer(s, g, self.wh_main, self.wh_branch, D(quantity), day, "季度调拨至广州分仓")

    def month_end_count(self, s: Session, day: dt.date) -> None:
        """月末盘点: a few products counted, the differences adjusted with their voucher."""
        for g in self.rng.sample(self.goods, min(3, len(self.goods))):
            wh = self.wh_main if self.rng.random() < 0.8 else self.wh_branch
            book = on_hand(s, g.id, wh)
            if book <= 0:
                continue
            delta = self.rng.choice((-3, -2, -1, -1, 1, 2))
            counted = max(ZERO, book + delta)
            product = s.get(Product, g.id)
            result = count_adjustment(
                s,
                product=product,
                warehouse_id=wh,
                counted=counted,
                date=day,
                settings=self.settings,
                reason="月末盘点" + ("盘亏" if delta < 0 else "盘盈"),
            )
            if result.voucher_lines:
                v = create_voucher(
                    s,
                    date=day,
                    lines=result.voucher_lines,
                    summary=result.voucher_lines[0].summary,
                    created_by=self.staff["warehouse"],
                    source_type="adjust",
                    source_id=product.id,
                )
                post_voucher(s, v, self.settings, self.staff["accountant"])
            self.summary.count_adjustments += 1


def generate_demo(
    engine: Engine,
    settings: Settings,
    *,
    seed: int = 42,
    today: dt.date | None = None,
    months: int = 12,
    customers: int = 30,
    suppliers: int = 15,
    products: int = 80,
    sales_per_day: float = 2.2,
) -> DemoSummary:
    """Generate the demo company into ``engine`` (schema must exist), ``months`` of business up to ``today``.

    Staff come from ``DEMO_STAFF`` with fake Telegram ids the console chat can act as:
    1000000001 admin 赵志刚, 1000000002 manager 钱丽华, 1000000003 accountant 孙晓燕,
    1000000004 warehouse 李建国, 1000000005/06/07 sales 周杰/吴婷/郑浩 (each the rep of a region).

    ``settings`` names our company (``company_name`` / ``company_tax_id``). Smaller
    ``customers`` / ``suppliers`` / ``products`` / ``sales_per_day`` make a quick book for tests.
    Refuses a book that already has business (use ``reset_and_generate``).
    """
    if not is_empty(engine):
        raise ErpError("INVALID_INPUT", why="账套中已有业务数据；如需重建演示账套请用 demo --reset")
    if months < 1:
        raise ErpError("INVALID_INPUT", why="月数至少为 1")
    started = time.perf_counter()
    today = today or clock.today(settings.tz)
    start = _add_months(today.replace(day=1), -(months - 1))
    demo = _Demo(
        engine,
        settings,
        random.Random(seed),
        start,
        today,
        max(1, min(customers, len(CUSTOMERS))),
        max(1, min(suppliers, len(SUPPLIERS))),
        max(6, min(products, 80)),
        sales_per_day,
    )
    with transaction(engine) as s:
        demo.setup(s)
    month_start = start
    while month_start <= today:
        month_end = min(_add_months(month_start, 1) - dt.timedelta(days=1), today)
        with transaction(engine) as s:
            day = month_start
            while day <= month_end:
                demo.day(s, day)
                day += dt.timedelta(days=1)
        month_start = _add_months(month_start, 1)
    demo.summary.seconds = time.perf_counter() - started
    return demo.summary
