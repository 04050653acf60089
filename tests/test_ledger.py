"""Vouchers, invoices, stock and receivables through the services, with their invariants."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from erp.db import transaction
from erp.errors import ErpError
from erp.invoices import book_invoice, confirm_invoice, draft_from_invoice, save_draft, void_invoice
from erp.models import Invoice, StockMove, Voucher, VoucherLine
from erp.parties import create_party
from erp.products import create_product
from erp.receivables import aging, open_balance, settle
from erp.reports import balance, trial_balance
from erp.stock import on_hand, stock_value
from erp.vouchers import Line, close_period, create_voucher, post_voucher, void_voucher
from tests.factories import line, make_settings, parsed_invoice, uscc

D = Decimal


@pytest.fixture
def cfg():
    return make_settings()


def lines_by_account(session: Session, voucher_id: int) -> dict[str, tuple[Decimal, Decimal]]:
    out: dict[str, tuple[Decimal, Decimal]] = {}
    for r in session.exec(select(VoucherLine).where(VoucherLine.voucher_id == voucher_id)).all():
        d, c = out.get(r.account_code, (D(0), D(0)))
        out[r.account_code] = (d + r.debit, c + r.credit)
    return out


def test_purchase_special_invoice_books_input_vat(engine, cfg):
    with transaction(engine) as s:
        result = book_invoice(s, parsed_invoice(), cfg)
        assert result.outcome == "posted"
        lines = lines_by_account(s, result.voucher.id)
        assert lines == {
            "1405": (D("500.00"), D("0")),
            "22210101": (D("65.00"), D("0")),
            "2202": (D("0"), D("565.00")),
        }
        inv = result.invoice
        product_id = s.exec(select(StockMove.product_id).where(StockMove.source_id == inv.id)).first()
        assert on_hand(s, product_id) == D("100")
        assert stock_value(s, product_id) == D("500.00")
        assert result.voucher.number.startswith("记-202405-")
        assert open_balance(s, inv.party_id, side="payable") == D("565.00")


def test_purchase_normal_invoice_puts_vat_into_cost(engine, cfg):
    with transaction(engine) as s:
        r = book_invoice(s, parsed_invoice(invoice_type="normal"), cfg)
        assert lines_by_account(s, r.voucher.id) == {
            "1405": (D("565.00"), D("0")),
            "2202": (D("0"), D("565.00")),
        }


def test_services_by_category(engine, cfg):
    inv = parsed_invoice(
        lines=[
            line("*餐饮服务*餐费", "100.00", "6%", quantity=None),
            line("*运输服务*货物运输服务", "200.00", "9%", quantity=None),
        ]
    )
    with transaction(engine) as s:
        r = book_invoice(s, inv, cfg)
        got = lines_by_account(s, r.voucher.id)
    # meals: VAT not deductible even on a special invoice; freight: deductible
    assert got["560202"] == (D("106.00"), D("0"))
    assert got["560101"] == (D("200.00"), D("0"))
    assert got["22210101"] == (D("18.00"), D("0"))
    assert got["2202"] == (D("0"), D("324.00"))


def test_sale_books_revenue_vat_and_cost(engine, cfg):
    with transaction(engine) as s:
        p = create_product(s, sku="A001", name="电阻器", spec="RC-0805")
        book_invoice(
            s, parsed_invoice(lines=[line("*电子元件*电阻器", "500.00", quantity="100", spec="RC-0805")]), cfg
        )
        sale = parsed_invoice(
            direction="sales",
            number="24312000000000000002",
            other_name="北京小米科技有限责任公司",
            other_tax_id=uscc(2),
            lines=[line("*电子元件*电阻器", "300.00", quantity="40", spec="RC-0805")],
        )
        r = book_invoice(s, sale, cfg)
        got = lines_by_account(s, r.voucher.id)
        assert got["1122"] == (D("339.00"), D("0"))
        assert got["5001"] == (D("0"), D("300.00"))
        assert got["22210102"] == (D("0"), D("39.00"))
        assert got["5401"] == (D("200.00"), D("0"))  # 40 × 5.00 average cost
        assert got["1405"] == (D("0"), D("200.00"))
        assert on_hand(s, p.id) == D("60")
        assert open_balance(s, r.invoice.party_id) == D("339.00")


def test_sale_beyond_stock_is_refused_and_nothing_written(engine, cfg):
    with transaction(engine) as s:
        create_product(s, sku="A001", name="电阻器", spec="RC-0805")
    sale = parsed_invoice(
        direction="sales", lines=[line("*电子元件*电阻器", "300.00", quantity="40", spec="RC-0805")]
    )
    with pytest.raises(ErpError) as err:
        with transaction(engine) as s:
            book_invoice(s, sale, cfg)
    assert err.value.code == "NEGATIVE_STOCK"
    with Session(engine) as s:
        assert s.exec(select(Invoice)).all() == []
        assert s.exec(select(Voucher)).all() == []


def test_duplicate_invoice_refused(engine, cfg):
    with transaction(engine) as s:
        book_invoice(s, parsed_invoice(), cfg, file_sha256="a" * 64)
    with pytest.raises(ErpError) as err:
        with transaction(engine) as s:
            book_invoice(s, parsed_invoice(), cfg)
    assert err.value.code == "DUPLICATE_INVOICE"
    assert "重复" in err.value.message()
    with pytest.raises(ErpError) as err:
        with transaction(engine) as s:
            book_invoice(s, parsed_invoice(number="24312000000000000099"), cfg, file_sha256="a" * 64)
    assert err.value.code == "DUPLICATE_FILE"


def test_draft_reports_duplicate(engine, cfg):
    with transaction(engine) as s:
        r = book_invoice(s, parsed_invoice(), cfg)
        d = draft_from_invoice(s, parsed_invoice(), cfg)
        assert d.duplicate_of == r.voucher.number


def test_unbalanced_voucher_and_unknown_account_refused(engine):
    with transaction(engine) as s:
        with pytest.raises(ErpError) as err:
            create_voucher(
                s, date=dt.date(2024, 5, 1), lines=[Line("1002", debit=D("10")), Line("5001", credit=D("9"))]
            )
        assert err.value.code == "UNBALANCED"
        with pytest.raises(ErpError) as err:
            create_voucher(
                s, date=dt.date(2024, 5, 1), lines=[Line("9999", debit=D("10")), Line("5001", credit=D("10"))]
            )
        assert err.value.code == "UNKNOWN_ACCOUNT"
        with pytest.raises(ErpError) as err:
            create_voucher(
                s, date=dt.date(2024, 5, 1), lines=[Line("2221", debit=D("10")), Line("5001", credit=D("10"))]
            )
        assert err.value.code == "NOT_LEAF_ACCOUNT"
        with pytest.raises(ErpError) as err:
            create_voucher(
                s, date=dt.date(2024, 5, 1), lines=[Line("1122", debit=D("10")), Line("5001", credit=D("10"))]
            )
        assert err.value.code == "PARTY_REQUIRED"


def test_closed_period_refuses_posting(engine, cfg):
    with transaction(engine) as s:
        v = create_voucher(
            s, date=dt.date(2024, 5, 1), lines=[Line("1002", debit=D("10")), Line("3001", credit=D("10"))]
        )
        close_period(s, "2024-05", None)
        with pytest.raises(ErpError) as err:
            post_voucher(s, v, cfg, None)
        assert err.value.code == "PERIOD_CLOSED"
        with pytest.raises(ErpError) as err:
            create_voucher(
                s, date=dt.date(2024, 5, 2), lines=[Line("1002", debit=D("1")), Line("3001", credit=D("1"))]
            )
        assert err.value.code == "PERIOD_CLOSED"


def test_approval_threshold(engine):
    cfg = make_settings(ZHANGFANG_APPROVAL_THRESHOLD="1000")
    with transaction(engine) as s:
        d = draft_from_invoice(s, parsed_invoice(), cfg)
        inv = save_draft(s, d)
        r = confirm_invoice(s, inv.id, cfg, actor_id=None)
        assert r.outcome == "posted"  # 565 < 1000
        big = parsed_invoice(
            number="24312000000000000003", lines=[line("*电子元件*电容", "2000.00", quantity="10")]
        )
        inv2 = save_draft(s, draft_from_invoice(s, big, cfg))
        r2 = confirm_invoice(s, inv2.id, cfg, actor_id=None)
        assert r2.outcome == "needs_approval"
        assert r2.voucher.status == "draft"
        from erp.invoices import approve_invoice

        r3 = approve_invoice(s, inv2.id, cfg, manager_id=None)
        assert r3.outcome == "posted" and r3.voucher.status == "posted"


def test_confirm_twice_posts_once(engine, cfg):
    with transaction(engine) as s:
        inv = save_draft(s, draft_from_invoice(s, parsed_invoice(), cfg))
    with transaction(engine) as s:
        assert confirm_invoice(s, inv.id, cfg).outcome == "posted"
    with transaction(engine) as s:
        assert confirm_invoice(s, inv.id, cfg).outcome == "already_posted"
    with Session(engine) as s:
        assert s.exec(select(StockMove)).all().__len__() == 1
        assert balance(s, "2202") == D("-565.00")


def test_receipt_allocates_oldest_first_and_balances_match(engine, cfg):
    with transaction(engine) as s:
        create_product(s, sku="A001", name="电阻器")
        book_invoice(s, parsed_invoice(lines=[line("*电子元件*电阻器", "1000.00", quantity="200")]), cfg)
        cust = create_party(
            s, name="北京小米科技有限责任公司", tax_id=uscc(2), credit_days=30, province="北京"
        )
        for i, day in enumerate(["2024-05-01", "2024-05-15", "2024-06-01"]):
            book_invoice(
                s,
                parsed_invoice(
                    direction="sales",
                    number=f"2431200000000000010{i}",
                    other_name=cust.name,
                    other_tax_id=cust.tax_id,
                    issue_date=day,
                    lines=[line("*电子元件*电阻器", "100.00", quantity="10")],
                ),
                cfg,
            )
        assert open_balance(s, cust.id) == D("339.00")
        settle(s, party=cust, amount="150", date=dt.date(2024, 6, 10), settings=cfg)
        items = {
            i.number: i.open
            for i in __import__("erp.receivables", fromlist=["x"]).open_items(s, party_id=cust.id)
        }
        assert items == {"24312000000000000101": D("76.00"), "24312000000000000102": D("113.00")}
        assert balance(s, "1122", party_id=cust.id) == open_balance(s, cust.id) == D("189.00")
        # overpayment goes to 预收账款, 1122 still equals open items
        settle(s, party=cust, amount="200", date=dt.date(2024, 6, 11), settings=cfg)
        assert open_balance(s, cust.id) == D("0.00")
        assert balance(s, "1122", party_id=cust.id) == D("0.00")
        assert balance(s, "2203", party_id=cust.id) == D("-11.00")
        ag = aging(s, as_of=dt.date(2024, 7, 20))
        assert ag.total == D("0.00")


def test_receipt_idempotency_key(engine, cfg):
    with transaction(engine) as s:
        cust = create_party(s, name="客户甲", tax_id=uscc(3))
        a = settle(
            s, party=cust, amount="10", date=dt.date(2024, 6, 1), settings=cfg, idempotency_key="upd:1"
        )
        b = settle(
            s, party=cust, amount="10", date=dt.date(2024, 6, 1), settings=cfg, idempotency_key="upd:1"
        )
        assert a.id == b.id
        assert balance(s, "1002") == D("10.00")


def test_void_posted_invoice_restores_every_balance(engine, cfg):
    with transaction(engine) as s:
        r = book_invoice(s, parsed_invoice(), cfg)
        before_tb = trial_balance(s, "2024-05")
        assert before_tb.balanced
        reversal = void_invoice(s, r.invoice.id, cfg, actor_id=None, reason="录错")
        assert reversal is not None and reversal.status == "posted"
        for code in ("1405", "22210101", "2202"):
            assert balance(s, code) == D("0.00")
        pid = s.exec(select(StockMove.product_id)).first()
        assert on_hand(s, pid) == D("0")
        assert open_balance(s, r.invoice.party_id, side="payable") == D("0.00")
        # the same invoice can be booked again after a void
        r2 = book_invoice(s, parsed_invoice(), cfg)
        assert r2.outcome == "posted"


def test_red_invoice_reverses_and_offsets(engine, cfg):
    with transaction(engine) as s:
        create_product(s, sku="A001", name="电阻器")
        book_invoice(s, parsed_invoice(lines=[line("*电子元件*电阻器", "1000.00", quantity="200")]), cfg)
        blue = book_invoice(
            s,
            parsed_invoice(
                direction="sales",
                number="24312000000000000201",
                lines=[line("*电子元件*电阻器", "100.00", quantity="10")],
            ),
            cfg,
        )
        red = book_invoice(
            s,
            parsed_invoice(
                direction="sales",
                number="24312000000000000202",
                is_red=True,
                remarks="被红冲蓝字数电发票号码：24312000000000000201",
                lines=[line("*电子元件*电阻器", "100.00", quantity="10")],
            ),
            cfg,
        )
        assert red.invoice.original_invoice_id == blue.invoice.id
        assert open_balance(s, blue.invoice.party_id) == D("0.00")
        assert balance(s, "1122") == D("0.00")
        assert balance(s, "5001") == D("0.00")
        assert trial_balance(s, "2024-05").balanced


def test_void_draft_voucher(engine, cfg):
    with transaction(engine) as s:
        v = create_voucher(
            s, date=dt.date(2024, 5, 1), lines=[Line("1002", debit=D("10")), Line("3001", credit=D("10"))]
        )
        assert void_voucher(s, v, None) is None
        assert v.status == "void"
        assert balance(s, "1002") == D("0.00")


def test_stock_count_adjustment_books_gain_and_loss(engine, cfg):
    from erp.stock import adjust_stock, default_warehouse

    with transaction(engine) as s:
        p = create_product(s, sku="A001", name="电阻器")
        book_invoice(s, parsed_invoice(lines=[line("*电子元件*电阻器", "500.00", quantity="100")]), cfg)
        wh = default_warehouse(s)
        result, voucher = adjust_stock(
            s,
            product=p,
            warehouse_id=wh.id,
            counted=D("90"),
            date=dt.date(2024, 5, 31),
            settings=cfg,
            reason="月末盘点",
        )
        assert result.difference == D("-10")
        assert voucher.status == "posted"
        assert lines_by_account(s, voucher.id) == {"1901": (D("50.00"), D("0")), "1405": (D("0"), D("50.00"))}
        assert on_hand(s, p.id) == D("90")
        assert balance(s, "1405") == stock_value(s, p.id) == D("450.00")
        result, voucher = adjust_stock(
            s,
            product=p,
            warehouse_id=wh.id,
            counted=D("95"),
            date=dt.date(2024, 5, 31),
            settings=cfg,
            reason="复盘",
        )
        assert lines_by_account(s, voucher.id) == {"1405": (D("25.00"), D("0")), "1901": (D("0"), D("25.00"))}
        assert balance(s, "1405") == stock_value(s, p.id) == D("475.00")
        with pytest.raises(ErpError) as err:
            adjust_stock(
                s,
                product=p,
                warehouse_id=wh.id,
                counted=D("1"),
                date=dt.date(2024, 5, 31),
                settings=cfg,
                reason="",
            )
        assert err.value.code == "INVALID_INPUT"
        _, none = adjust_stock(
            s,
            product=p,
            warehouse_id=wh.id,
            counted=D("95"),
            date=dt.date(2024, 5, 31),
            settings=cfg,
            reason="无差异",
        )
        assert none is None


def test_invalid_tax_id_refused_for_new_party(engine):
    with transaction(engine) as s:
        with pytest.raises(ErpError) as err:
            create_party(s, name="坏税号公司", tax_id="91310000MA1FL8XQ30")
        assert err.value.code == "INVALID_TAX_ID"
        assert "校验位" in err.value.message()


def test_unsure_product_match_must_be_chosen_before_posting(engine, cfg):
    from erp.invoices import choose_line_product, unsure_lines

    with transaction(engine) as s:
        a = create_product(s, sku="A001", name="贴片电阻", spec="0805-10K")
        create_product(s, sku="A002", name="贴片电阻", spec="0603-10K")
        inv = save_draft(
            s,
            draft_from_invoice(
                s,
                parsed_invoice(lines=[line("*电子元件*贴片电阻", "500.00", quantity="100", spec="0402")]),
                cfg,
            ),
        )
        [unsure] = unsure_lines(s, inv)
        assert {label for _, label, _ in unsure.candidates} == {"A001 贴片电阻", "A002 贴片电阻"}
    with pytest.raises(ErpError) as err:
        with transaction(engine) as s:
            confirm_invoice(s, inv.id, cfg)
    assert err.value.code == "PRODUCT_UNSURE" and "A001" in err.value.message()
    with transaction(engine) as s:
        choose_line_product(s, inv.id, 1, a.id, actor_id=None)
        assert unsure_lines(s, s.get(Invoice, inv.id)) == []
        assert confirm_invoice(s, inv.id, cfg).outcome == "posted"
        assert on_hand(s, a.id) == D("100")


def test_new_product_chosen_for_an_unsure_line(engine, cfg):
    from erp.invoices import choose_line_product
    from erp.models import Product

    with transaction(engine) as s:
        create_product(s, sku="A001", name="贴片电阻", spec="0805-10K")
        create_product(s, sku="A002", name="贴片电阻", spec="0603-10K")
        inv = save_draft(
            s,
            draft_from_invoice(
                s,
                parsed_invoice(lines=[line("*电子元件*贴片电阻", "500.00", quantity="100", spec="0402")]),
                cfg,
            ),
        )
        ln = choose_line_product(s, inv.id, 1, None, actor_id=None)
        new = s.get(Product, ln.product_id)
        assert new.sku not in ("A001", "A002") and new.spec == "0402"
        assert confirm_invoice(s, inv.id, cfg).outcome == "posted"
        assert on_hand(s, new.id) == D("100")


def test_stock_cost_follows_each_lines_own_deductibility(engine, cfg):
    """A company rule makes one stock category non-deductible on a 专票 that also has a deductible line:
    each line's stock cost must match what the voucher debited, so 1405 equals the stock value."""
    from erp.models import PostingRule

    with transaction(engine) as s:
        s.add(PostingRule(direction="purchase", category="礼品", account_code="1405", is_stock=True,
                          vat_deductible=False, priority=10))  # fmt: skip
        s.flush()
        inv = parsed_invoice(lines=[line("*电子元件*电阻器", "500.00", quantity="100"),
                                    line("*礼品*茶叶礼盒", "200.00", quantity="2")])  # fmt: skip
        r = book_invoice(s, inv, cfg)
        got = lines_by_account(s, r.voucher.id)
        assert got["1405"] == (D("726.00"), D("0"))  # 500 + (200 + 26 non-deductible VAT)
        assert got["22210101"] == (D("65.00"), D("0"))
        values = sorted(stock_value(s, pid) for pid in s.exec(select(StockMove.product_id)).all())
        assert values == [D("226.00"), D("500.00")]
        assert balance(s, "1405") == sum(values)
