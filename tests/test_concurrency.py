"""Two writers at once (double tap, two bot processes on one PostgreSQL): one posting, one number each."""

from __future__ import annotations

import threading
from decimal import Decimal

from sqlmodel import Session, select

from erp.db import transaction
from erp.errors import ErpError
from erp.invoices import confirm_invoice, draft_from_invoice, save_draft
from erp.models import StockMove, Voucher
from erp.reports import balance
from erp.vouchers import Line, create_voucher
from tests.factories import make_settings, parsed_invoice


def run_together(n: int, fn) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted on
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_concurrent_confirms_post_once(engine):
    cfg = make_settings()
    with transaction(engine) as s:
        inv = save_draft(s, draft_from_invoice(s, parsed_invoice(), cfg))

    def confirm(_i):
        with transaction(engine) as s:
            return confirm_invoice(s, inv.id, cfg).outcome

    outcomes = run_together(4, confirm)
    assert sorted(outcomes) == ["already_posted"] * 3 + ["posted"], outcomes
    with Session(engine) as s:
        assert len(s.exec(select(StockMove)).all()) == 1
        assert balance(s, "2202") == Decimal("-565.00")


def test_concurrent_vouchers_get_distinct_numbers(engine):
    import datetime as dt

    def make(i):
        with transaction(engine) as s:
            v = create_voucher(
                s,
                date=dt.date(2024, 5, 1),
                lines=[Line("1002", debit=Decimal(i + 1)), Line("3001", credit=Decimal(i + 1))],
            )
            return v.number

    numbers = run_together(6, make)
    assert not any(isinstance(n, Exception) for n in numbers), numbers
    assert len(set(numbers)) == 6
    with Session(engine) as s:
        seqs = sorted(v.seq for v in s.exec(select(Voucher)).all())
    assert seqs == [1, 2, 3, 4, 5, 6]


def test_refusal_inside_a_transaction_leaves_nothing(engine):
    import datetime as dt

    try:
        with transaction(engine) as s:
            create_voucher(
                s,
                date=dt.date(2024, 5, 1),
                lines=[Line("1002", debit=Decimal(5)), Line("3001", credit=Decimal(5))],
            )
            create_voucher(
                s,
                date=dt.date(2024, 5, 1),
                lines=[Line("1002", debit=Decimal(5)), Line("3001", credit=Decimal(4))],
            )
    except ErpError as exc:
        assert exc.code == "UNBALANCED"
    with Session(engine) as s:
        assert s.exec(select(Voucher)).all() == []
