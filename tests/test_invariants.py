"""The accounting invariants, property-based: random sequences of business actions keep the book sound.

A hypothesis state machine plays purchases, sales within stock, receipts,
payments, red invoices, voids, stock counts and refused actions against a fresh
book per run (the ``engine`` fixture's database, emptied and re-seeded, so it
runs on PostgreSQL in CI too). After every step ``book_problems`` must find
nothing; refused actions and book-then-void must leave every balance as it was.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, Phase, event
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from erp.bootstrap import bootstrap
from erp.db import cents_sum, qty_sum, reading, transaction
from erp.errors import ErpError
from erp.invoices import book_invoice, void_invoice
from erp.models import Allocation, Invoice, InvoiceLine, Product, Settlement, StockMove, Voucher, VoucherLine
from erp.parties import create_party
from erp.products import create_product
from erp.receivables import open_balance, open_items, settle, void_settlement
from erp.reports import balance, balances_by_party, trial_balance
from erp.stock import COST_PLACES, count_adjustment, on_hand
from erp.vouchers import create_voucher, post_voucher
from tests.factories import line, make_settings, parsed_invoice, uscc
from values.money import ZERO, from_cents, from_ten_thousandths

D = Decimal
CFG = make_settings()


# --- the invariants, as a checker that lists every problem --------------------


def book_problems(s: Session, *, allow_negative_stock: bool = False) -> list[str]:
    """Every broken invariant in the book, in words (empty when the book is sound)."""
    problems: list[str] = []

    # every posted voucher balances
    rows = s.exec(
        select(VoucherLine.voucher_id, cents_sum(VoucherLine.debit), cents_sum(VoucherLine.credit))
        .join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .where(Voucher.posted_at.is_not(None))  # type: ignore[union-attr]
        .group_by(VoucherLine.voucher_id)
    ).all()
    for vid, debit, credit in rows:
        if int(debit) != int(credit):
            problems.append(f"voucher {vid} unbalanced: {debit} != {credit} cents")

    # the trial balance balances for every period
    for period in sorted(set(s.exec(select(Voucher.period).distinct()).all())):
        tb = trial_balance(s, period)
        if not tb.balanced:
            problems.append(f"trial balance {period} unbalanced: {tb.totals()}")

    # 1122 per customer = its open receivables; 2202 per supplier = its open payables
    for side, account, sign in (("receivable", "1122", 1), ("payable", "2202", -1)):
        ledger = {pid: sign * v for pid, v in balances_by_party(s, account).items()}
        items: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for item in open_items(s, side=side):
            items[item.party_id] += item.open
        for pid in set(ledger) | set(items):
            if ledger.get(pid, ZERO) != items.get(pid, ZERO):
                problems.append(
                    f"{account} party {pid}: ledger {ledger.get(pid)} != open items {items.get(pid)}"
                )

    # on-hand is the sum of the moves, and the running sum never goes negative
    running: dict[tuple[int, int], Decimal] = defaultdict(lambda: D(0))
    value: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for m in s.exec(select(StockMove).order_by(StockMove.id)).all():
        key = (m.product_id, m.warehouse_id)
        running[key] += m.quantity
        value[m.product_id] += m.amount
        if running[key] < 0 and not allow_negative_stock:
            problems.append(f"stock of product {key[0]} in warehouse {key[1]} negative after move {m.id}")
    for (pid, wh), total in running.items():
        if on_hand(s, pid, wh) != total:
            problems.append(f"on_hand({pid}, {wh}) = {on_hand(s, pid, wh)} != sum of moves {total}")

    # stock accounts carry exactly the value of the stock
    stock_total = sum(value.values(), ZERO)
    ledger_stock = balance(s, "1403") + balance(s, "1405")
    if ledger_stock != stock_total:
        problems.append(f"1403+1405 = {ledger_stock} != stock value {stock_total}")

    # the cached moving-average cost is value / quantity
    for p in s.exec(select(Product)).all():
        q = sum((v for (pid, _), v in running.items() if pid == p.id), D(0))
        if q > 0:
            expected = (value[p.id] / q).quantize(COST_PLACES)
            if abs(D(p.avg_cost) - expected) > COST_PLACES:
                problems.append(f"{p.sku} avg_cost {p.avg_cost} != value/qty {expected}")
    return problems


def snapshot(s: Session) -> dict:
    """Every balance a business action can change, to compare before and after."""
    ledger = s.exec(
        select(
            VoucherLine.account_code, VoucherLine.party_id, cents_sum(VoucherLine.debit - VoucherLine.credit)
        )
        .join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .where(Voucher.posted_at.is_not(None))  # type: ignore[union-attr]
        .group_by(VoucherLine.account_code, VoucherLine.party_id)
    ).all()
    stock = s.exec(
        select(
            StockMove.product_id,
            StockMove.warehouse_id,
            qty_sum(StockMove.quantity),
            cents_sum(StockMove.amount),
        ).group_by(StockMove.product_id, StockMove.warehouse_id)
    ).all()
    return {
        "ledger": {(a, p): from_cents(v) for a, p, v in ledger if from_cents(v) != 0},
        "stock": {
            (p, w): (from_ten_thousandths(q), from_cents(v))
            for p, w, q, v in stock
            if from_ten_thousandths(q) != 0 or from_cents(v) != 0
        },
        "receivable": {i.invoice_id: i.open for i in open_items(s, side="receivable")},
        "payable": {i.invoice_id: i.open for i in open_items(s, side="payable")},
    }


def empty_and_seed(engine: Engine) -> None:
    """A fresh book on the fixture's database (SQLite file or the CI PostgreSQL)."""
    import erp.models  # noqa: F401

    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())
    with transaction(engine) as s:
        bootstrap(s)


# --- the state machine --------------------------------------------------------

DAYS = st.dates(min_value=dt.date(2024, 5, 1), max_value=dt.date(2024, 7, 31))
SKUS = ("A001", "A002", "B001")
PRODUCT_NAMES = {"A001": "电阻器", "A002": "电容器", "B001": "无线鼠标"}


class LedgerMachine(RuleBasedStateMachine):
    engine: Engine  # set by the test

    def __init__(self) -> None:
        super().__init__()
        self.number = 0
        self.customers: list[tuple[int, str, str]] = []
        self.suppliers: list[tuple[int, str, str]] = []

    @initialize()
    def fresh_book(self) -> None:
        empty_and_seed(self.engine)
        with transaction(self.engine) as s:
            for i, name in enumerate(("华为技术有限公司", "北京小米科技有限责任公司", "客户丙有限公司")):
                p = create_party(s, name=name, tax_id=uscc(100 + i), credit_days=30, province="广东")
                self.customers.append((p.id, p.name, p.tax_id))
            for i, name in enumerate(("深圳赛格电子有限公司", "东莞联泰电脑配件有限公司")):
                p = create_party(s, name=name, kind="supplier", tax_id=uscc(200 + i), credit_days=15)
                self.suppliers.append((p.id, p.name, p.tax_id))
            for sku, name in PRODUCT_NAMES.items():
                create_product(s, sku=sku, name=name, unit="个", min_stock="10")
            for name in PRODUCT_NAMES.values():  # opening stock, so sales have something to sell
                _, supplier, tax_id = self.suppliers[0]
                opening = parsed_invoice(
                    number=self._number(),
                    other_name=supplier,
                    other_tax_id=tax_id,
                    issue_date="2024-05-01",
                    lines=[line(f"*电子元件*{name}", "1234.56", quantity="40")],
                )
                book_invoice(s, opening, CFG)

    # helpers

    def _number(self) -> str:
        self.number += 1
        return f"2431200000{self.number:010d}"

    def _check_refusal_changes_nothing(self, what: str, action) -> None:
        """Run ``action``; when it is refused, nothing at all may have changed."""
        with reading(self.engine) as s:
            before = snapshot(s)
        try:
            with transaction(self.engine) as s:
                action(s)
            event(f"{what}: done")
        except ErpError as exc:
            event(f"{what}: refused {exc.code}")
            with reading(self.engine) as s:
                assert snapshot(s) == before, "a refused action left something half-written"

    def _product_id(self, s: Session, sku: str) -> int:
        return s.exec(select(Product.id).where(Product.sku == sku)).one()

    # actions

    @rule(
        sku=st.sampled_from(SKUS),
        quantity=st.integers(1, 60),
        cents=st.integers(100, 500_000),
        supplier=st.integers(0, 1),
        special=st.booleans(),
        day=DAYS,
    )
    def purchase(self, sku, quantity, cents, supplier, special, day) -> None:
        _, name, tax_id = self.suppliers[supplier]
        inv = parsed_invoice(
            number=self._number(),
            other_name=name,
            other_tax_id=tax_id,
            invoice_type="special" if special else "normal",
            issue_date=day,
            lines=[line(f"*电子元件*{PRODUCT_NAMES[sku]}", str(D(cents) / 100), quantity=str(quantity))],
        )
        with transaction(self.engine) as s:
            assert book_invoice(s, inv, CFG).outcome in ("posted", "needs_approval")

    @rule(
        sku=st.sampled_from(SKUS),
        share=st.integers(1, 100),
        price=st.integers(1, 90_000),
        who=st.integers(0, 2),
        day=DAYS,
    )
    def sale_within_stock(self, sku, share, price, who, day) -> None:
        with reading(self.engine) as s:
            available = on_hand(s, self._product_id(s, sku))
        quantity = int(available * share / 100)
        if quantity <= 0:
            event("sale: nothing in stock")
            return
        event("sale: booked")
        _, name, tax_id = self.customers[who]
        inv = parsed_invoice(
            direction="sales",
            number=self._number(),
            other_name=name,
            other_tax_id=tax_id,
            issue_date=day,
            lines=[
                line(
                    f"*电子元件*{PRODUCT_NAMES[sku]}", str(D(price) / 100 * quantity), quantity=str(quantity)
                )
            ],
        )
        with transaction(self.engine) as s:
            book_invoice(s, inv, CFG)

    @rule(sku=st.sampled_from(SKUS), extra=st.integers(1, 20), day=DAYS)
    def sale_beyond_stock_is_refused(self, sku, extra, day) -> None:
        with reading(self.engine) as s:
            quantity = int(on_hand(s, self._product_id(s, sku))) + extra
        _, name, tax_id = self.customers[0]
        inv = parsed_invoice(
            direction="sales",
            number=self._number(),
            other_name=name,
            other_tax_id=tax_id,
            issue_date=day,
            lines=[line(f"*电子元件*{PRODUCT_NAMES[sku]}", str(quantity * 3), quantity=str(quantity))],
        )
        self._check_refusal_changes_nothing("oversell", lambda s: book_invoice(s, inv, CFG))

    @rule(who=st.integers(0, 2), percent=st.integers(1, 130), day=DAYS)
    def receipt(self, who, percent, day) -> None:
        self._settle("receivable", self.customers[who][0], percent, day)

    @rule(who=st.integers(0, 1), percent=st.integers(1, 130), day=DAYS)
    def payment(self, who, percent, day) -> None:
        self._settle("payable", self.suppliers[who][0], percent, day)

    def _settle(self, side: str, party_id: int, percent: int, day: dt.date) -> None:
        from erp.models import Party

        with transaction(self.engine) as s:
            open_now = open_balance(s, party_id, side=side)
            amount = max(D("1.00"), (open_now * percent / 100).quantize(D("0.01")))
            settle(s, party=s.get(Party, party_id), amount=amount, date=day, settings=CFG, side=side)

    @rule(pick=st.integers(0, 10_000))
    def void_an_invoice(self, pick) -> None:
        with reading(self.engine) as s:
            ids = s.exec(select(Invoice.id).where(Invoice.status == "posted").order_by(Invoice.id)).all()
        if not ids:
            return
        invoice_id = ids[pick % len(ids)]

        def act(s: Session) -> None:
            void_invoice(s, invoice_id, CFG, actor_id=None, reason="测试作废")

        # refused when money was received against it, or when the goods it brought in were sold
        self._check_refusal_changes_nothing("void invoice", act)

    @rule(pick=st.integers(0, 10_000))
    def void_a_settlement(self, pick) -> None:
        with reading(self.engine) as s:
            ids = s.exec(
                select(Settlement.id).where(Settlement.status == "posted").order_by(Settlement.id)
            ).all()
        if not ids:
            return
        with transaction(self.engine) as s:
            void_settlement(s, s.get(Settlement, ids[pick % len(ids)]), None, reason="测试冲销")

    @rule(pick=st.integers(0, 10_000), share=st.integers(1, 100), day=DAYS)
    def red_invoice(self, pick, share, day) -> None:
        with reading(self.engine) as s:
            rows = s.exec(
                select(Invoice, InvoiceLine)
                .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
                .where(Invoice.status == "posted", Invoice.is_red == False, InvoiceLine.quantity > 0)  # noqa: E712
                .order_by(Invoice.id)
            ).all()
            if not rows:
                return
            blue, ln = rows[pick % len(rows)]
            direction, party_id, itype, blue_number = (
                blue.direction,
                blue.party_id,
                blue.invoice_type,
                blue.number,
            )
            quantity = max(1, int(ln.quantity * share / 100))
            amount = (ln.amount / ln.quantity * quantity).quantize(D("0.01"))
            item = ln.name
        party = self.customers if direction == "sales" else self.suppliers
        _, name, tax_id = next(p for p in party if p[0] == party_id)
        inv = parsed_invoice(
            direction=direction,
            number=self._number(),
            other_name=name,
            other_tax_id=tax_id,
            invoice_type=itype,
            issue_date=day,
            is_red=True,
            remarks=f"被红冲蓝字数电发票号码：{blue_number}",
            lines=[line(item, str(amount), quantity=str(quantity))],
        )
        # a purchase return is refused when the goods are no longer there
        self._check_refusal_changes_nothing(f"red {direction}", lambda s: book_invoice(s, inv, CFG))

    @rule(sku=st.sampled_from(SKUS), delta=st.integers(-5, 5), day=DAYS)
    def stock_count(self, sku, delta, day) -> None:
        with transaction(self.engine) as s:
            product = s.get(Product, self._product_id(s, sku))
            book = on_hand(s, product.id)
            result = count_adjustment(
                s,
                product=product,
                warehouse_id=_main_wh(s),
                counted=max(D(0), book + delta),
                date=day,
                settings=CFG,
                reason="盘点",
            )
            if result.voucher_lines:
                v = create_voucher(s, date=day, lines=result.voucher_lines, source_type="adjust")
                post_voucher(s, v, CFG, None)

    @rule(sku=st.sampled_from(SKUS), quantity=st.integers(1, 30), cents=st.integers(100, 100_000), day=DAYS)
    def book_then_void_restores_every_balance(self, sku, quantity, cents, day) -> None:
        _, name, tax_id = self.suppliers[0]
        inv = parsed_invoice(
            number=self._number(),
            other_name=name,
            other_tax_id=tax_id,
            issue_date=day,
            lines=[line(f"*电子元件*{PRODUCT_NAMES[sku]}", str(D(cents) / 100), quantity=str(quantity))],
        )
        with reading(self.engine) as s:
            before = snapshot(s)
        with transaction(self.engine) as s:
            r = book_invoice(s, inv, CFG)
            void_invoice(s, r.invoice.id, CFG, actor_id=None, reason="录错")
        with reading(self.engine) as s:
            assert snapshot(s) == before

    @rule(who=st.integers(0, 2), cents=st.integers(1, 10_000_000), day=DAYS)
    def receive_then_void_restores_every_balance(self, who, cents, day) -> None:
        from erp.models import Party

        with reading(self.engine) as s:
            before = snapshot(s)
        with transaction(self.engine) as s:
            st_ = settle(
                s, party=s.get(Party, self.customers[who][0]), amount=D(cents) / 100, date=day, settings=CFG
            )
            void_settlement(s, st_, None, reason="录错")
        with reading(self.engine) as s:
            assert snapshot(s) == before

    @invariant()
    def book_is_sound(self) -> None:
        if not self.customers:  # before initialize
            return
        with reading(self.engine) as s:
            assert book_problems(s) == []


def _main_wh(s: Session) -> int:
    from erp.stock import default_warehouse

    return default_warehouse(s).id


def test_random_business_keeps_every_invariant(engine):
    LedgerMachine.engine = engine
    run_state_machine_as_test(
        LedgerMachine,
        settings=hsettings(
            max_examples=10,
            stateful_step_count=22,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
        ),
    )


# --- the checker itself must be able to fail ---------------------------------


def test_book_problems_sees_a_tampered_ledger(engine):
    with transaction(engine) as s:
        book_invoice(s, parsed_invoice(), CFG)
    with reading(engine) as s:
        assert book_problems(s) == []
    with transaction(engine) as s:  # someone edits a posted line behind the services' back
        row = s.exec(select(VoucherLine).where(VoucherLine.account_code == "1405")).first()
        row.debit = row.debit + 1
        s.add(row)
    with reading(engine) as s:
        found = book_problems(s)
    assert any("unbalanced" in p for p in found)
    assert any("1403+1405" in p for p in found)


def test_book_problems_sees_an_allocation_without_its_voucher(engine):
    with transaction(engine) as s:
        r = book_invoice(
            s, parsed_invoice(direction="sales", lines=[line("*服务*咨询", "100.00", quantity=None)]), CFG
        )
        s.add(Allocation(invoice_id=r.invoice.id, amount=D("10.00"), date=dt.date(2024, 5, 11)))
    with reading(engine) as s:
        assert any(p.startswith("1122 party") for p in book_problems(s))


@pytest.mark.parametrize("amount", ["60000.00"])
def test_approved_sale_above_threshold_posts_with_its_cost_of_sales(engine, amount):
    """Regression: adding cost of sales at posting dropped the manager's approval, so the post was refused."""
    from erp.invoices import approve_invoice

    with transaction(engine) as s:
        create_product(s, sku="A001", name="电阻器")
        book_invoice(s, parsed_invoice(lines=[line("*电子元件*电阻器", "1000.00", quantity="100")]), CFG)
        sale = book_invoice(
            s,
            parsed_invoice(
                direction="sales",
                number="24312000000000000777",
                lines=[line("*电子元件*电阻器", amount, quantity="10")],
            ),
            CFG,
        )
        assert sale.outcome == "needs_approval"
        done = approve_invoice(s, sale.invoice.id, CFG, manager_id=None)
        assert done.outcome == "posted"
        assert balance(s, "5401") == D("100.00")
        assert book_problems(s) == []


def test_sale_of_stock_carried_at_no_cost_books_without_a_zero_cost_line(engine):
    """Regression: a count gain before any purchase put stock at cost 0; selling it wrote a
    0.00 cost-of-sales line, which the voucher check refuses, so the sale could not be booked."""
    with transaction(engine) as s:
        product = create_product(s, sku="A001", name="电阻器")
        count_adjustment(
            s,
            product=product,
            warehouse_id=_main_wh(s),
            counted=D("5"),
            date=dt.date(2024, 5, 2),
            settings=CFG,
            reason="盘盈",
        )
        sale = book_invoice(
            s,
            parsed_invoice(direction="sales", lines=[line("*电子元件*电阻器", "30.00", quantity="3")]),
            CFG,
        )
        assert sale.outcome == "posted"
        assert on_hand(s, product.id) == D("2")
        assert balance(s, "5401") == D("0.00")
        assert book_problems(s) == []
