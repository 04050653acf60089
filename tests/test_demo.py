"""The demo company: booked through the services, so the book is sound, and it looks like a real one."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from sqlmodel import select

from erp.db import make_engine, reading
from erp.demo import DEMO_STAFF, generate_demo, is_empty, reset_and_generate
from erp.errors import ErpError
from erp.models import Allocation, Invoice, Party, Product, Staff, StockMove, Voucher, Warehouse
from erp.parties import find_parties
from erp.products import find_products
from erp.receivables import aging, collection_period_by_region, open_balance, open_items
from erp.stock import below_minimum, on_hand_all
from tests.factories import make_settings
from tests.test_invariants import book_problems
from values.money import q2

TODAY = dt.date(2026, 11, 28)
SMALL = dict(customers=8, suppliers=9, products=30, sales_per_day=2.0)


def fingerprint(engine) -> tuple:
    """What the book says, without ids of rows that carry timestamps."""
    with reading(engine) as s:
        vouchers = tuple(
            (v.number, v.date, str(v.total), v.status)
            for v in s.exec(select(Voucher).order_by(Voucher.number)).all()
        )
        items = tuple((i.number, str(i.open)) for i in open_items(s))
        stock = tuple(sorted((pid, str(q)) for pid, q in on_hand_all(s).items()))
    return vouchers, items, stock


def collection_by_hand(s) -> dict:
    """平均回款周期 per province, row by row in Python: what the grouped SQL must equal."""
    rows = s.exec(
        select(Party.province, Invoice.issue_date, Allocation.date, Allocation.amount)
        .join(Invoice, Invoice.id == Allocation.invoice_id)
        .join(Party, Party.id == Invoice.party_id)
        .where(
            Allocation.void == False,  # noqa: E712
            Allocation.settlement_id.is_not(None),
            Invoice.direction == "sales",
        )
    ).all()
    weighted, amounts, counts = defaultdict(Decimal), defaultdict(Decimal), defaultdict(int)
    for province, issued, paid, amount in rows:
        weighted[province] += (paid - issued).days * amount
        amounts[province] += amount
        counts[province] += 1
    assert rows, "the demo has receipts"
    return {k: (q2(weighted[k] / amounts[k]), counts[k]) for k in sorted(amounts)}


def test_short_demo_keeps_every_invariant_and_looks_real(engine):
    cfg = make_settings()
    assert is_empty(engine)
    summary = generate_demo(engine, cfg, seed=7, today=TODAY, months=2, **SMALL)
    assert not is_empty(engine)
    assert summary.start == dt.date(2026, 10, 1) and summary.end == TODAY
    assert summary.sales_invoices > 40 and summary.purchase_invoices > 5 and summary.receipts > 5
    with reading(engine) as s:
        assert book_problems(s) == []
        # receivables: some of it overdue, not all
        ag = aging(s, as_of=TODAY)
        assert Decimal(0) < ag.overdue < ag.total
        # stock: a few products below their minimum, not most
        low = below_minimum(s)
        assert 1 <= len(low) < summary.products // 2
        # what users will ask for exists
        huawei = find_parties(s, "华为")[0].item
        assert huawei.name == "华为技术有限公司" and huawei.province == "广东"
        assert open_balance(s, huawei.id) >= 0
        assert find_products(s, "A001")[0].item.sku == "A001"
        tee = find_products(s, "红色T恤 M码")
        assert tee and tee[0].item.colour == "红" and tee[0].item.size == "M"
        # every invoice is in the month range and booked by a demo staff member
        dates = s.exec(select(Invoice.issue_date)).all()
        assert min(dates) >= summary.start and max(dates) <= TODAY
        assert {st.telegram_id for st in s.exec(select(Staff)).all()} >= {t for t, _, _ in DEMO_STAFF}
        roles = {st.role for st in s.exec(select(Staff)).all()}
        assert roles >= {"admin", "manager", "accountant", "warehouse", "sales"}
        customers = s.exec(select(Party).where(Party.kind == "customer")).all()
        assert all(15 <= c.credit_days <= 90 and c.province and c.sales_rep_id for c in customers)
        assert collection_period_by_region(s) == collection_by_hand(s)
        assert len(s.exec(select(Warehouse)).all()) == 2
        assert s.exec(select(StockMove).where(StockMove.kind == "adjust")).first() is not None
        assert s.exec(select(Product).where(Product.size.is_not(None))).first() is not None


def test_demo_refuses_a_book_with_business(engine):
    cfg = make_settings()
    generate_demo(engine, cfg, today=TODAY, months=1, customers=3, suppliers=7, products=12)
    with pytest.raises(ErpError) as err:
        generate_demo(engine, cfg, today=TODAY, months=1)
    assert "--reset" in err.value.message()


def test_same_seed_same_book_and_reset_starts_over(tmp_path):
    cfg = make_settings()
    urls = [f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"]
    small = dict(customers=5, suppliers=8, products=16, sales_per_day=2.0)
    for url in urls:
        reset_and_generate(url, cfg, seed=3, today=dt.date(2026, 3, 15), months=1, **small)
    books = []
    for url in urls:
        engine = make_engine(url)
        books.append(fingerprint(engine))
        engine.dispose()
    assert books[0] == books[1]
    assert books[0][0], "the demo wrote no vouchers"
    # --reset on a used book: drops everything and builds it again, with another seed another book
    reset_and_generate(urls[0], cfg, seed=4, today=dt.date(2026, 3, 15), months=1, **small)
    engine = make_engine(urls[0])
    assert fingerprint(engine) != books[1]
    with reading(engine) as s:
        assert book_problems(s) == []
    engine.dispose()


@pytest.mark.slow
def test_full_year_demo(tmp_path):
    """The real thing, on SQLite only: the short demo above already runs on PostgreSQL in CI."""
    cfg = make_settings()
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    summary = reset_and_generate(url, cfg, today=TODAY)
    engine = make_engine(url)
    assert summary.customers == 30 and summary.suppliers == 15 and summary.products == 80
    assert summary.start == dt.date(2025, 12, 1)
    with reading(engine) as s:
        assert book_problems(s) == []
        ag = aging(s, as_of=TODAY)
        assert Decimal("0.10") < ag.overdue / ag.total < Decimal("0.60")
        assert ag.buckets["90天以上"] > 0
        assert 3 <= len(below_minimum(s)) <= 16
        periods = set(s.exec(select(Voucher.period)).all())
        assert len(periods) == 12
    engine.dispose()
