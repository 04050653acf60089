"""The ERP command line on a real database file: JSON shapes and refusals."""

from __future__ import annotations

import json

import pytest

import main
from erp.book import open_book
from erp.config import Settings, get_settings
from erp.db import transaction
from erp.invoices import book_invoice
from tests.factories import OUR_NAME, OUR_TAX_ID, line, parsed_invoice, uscc


@pytest.fixture
def book(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ZHANGFANG_COMPANY_TAX_ID", OUR_TAX_ID)
    monkeypatch.setenv("ZHANGFANG_COMPANY_NAME", OUR_NAME)
    get_settings.cache_clear()
    settings = Settings(_env_file=None)
    engine = open_book(settings)
    yield engine, settings
    engine.dispose()
    get_settings.cache_clear()


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_stock_and_voucher_json(book, capsys):
    engine, settings = book
    with transaction(engine) as s:
        r = book_invoice(
            s, parsed_invoice(lines=[line("*电子元件*电阻器", "500.00", quantity="100")]), settings
        )
        number = r.voucher.number
    code, out, _ = run(capsys, "stock", "电阻器", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["matches"][0]["on_hand"] == "100.0000"
    assert data["matches"][0]["levels"][0]["warehouse"] == "主仓库"
    code, out, _ = run(capsys, "voucher", "show", number, "--json")
    v = json.loads(out)
    assert v["status"] == "posted"
    assert [(ln["account_code"], ln["debit"], ln["credit"]) for ln in v["lines"]] == [
        ("1405", "500.00", "0.00"),
        ("22210101", "65.00", "0.00"),
        ("2202", "0.00", "565.00"),
    ]
    code, out, _ = run(capsys, "trial-balance", "--period", "2024-05", "--json")
    tb = json.loads(out)
    assert tb["balanced"] is True
    assert tb["totals"]["debit"] == tb["totals"]["credit"] == "565.00"
    code, out, _ = run(capsys, "ap", "华为", "--json", "--as-of", "2024-07-20")
    ap = json.loads(out)
    assert ap["balance"] == "565.00"
    assert ap["open_items"][0]["days_overdue"] == 41  # due 2024-06-09


def test_unknown_product_and_voucher_are_clear(book, capsys):
    code, out, _ = run(capsys, "stock", "不存在的商品XYZ")
    assert code == 1 and "没有找到" in out
    code, _, err = run(capsys, "voucher", "show", "记-209901-0001")
    assert code == 1 and "NOT_FOUND" in err and "找不到凭证" in err


def test_staff_add_refuses_bad_role(book, capsys):
    with pytest.raises(SystemExit):
        main.main(["staff", "add", "5", "--role", "boss", "--name", "x"])
    code, out, _ = run(capsys, "staff", "add", "5", "--role", "sales", "--name", "小李")
    assert code == 0 and "小李" in out


def test_master_data_and_count_from_cli(book, capsys):
    code, out, _ = run(capsys, "party", "add", "华为技术有限公司", "--tax-id", uscc(7), "--aliases", "华为")
    assert code == 0 and "已添加往来单位 华为技术有限公司" in out
    code, out, _ = run(capsys, "ar", "华为", "--json")
    assert json.loads(out)["party"]["name"] == "华为技术有限公司"
    code, _, err = run(capsys, "party", "add", "坏税号", "--tax-id", "91310000MA1FL8XQ30")
    assert code == 1 and "INVALID_TAX_ID" in err
    code, out, _ = run(capsys, "product", "add", "A001", "电阻器", "--spec", "RC-0805", "--min-stock", "10")
    assert code == 0
    code, out, _ = run(capsys, "stock-adjust", "A001", "--counted", "12", "--reason", "期初盘点")
    assert code == 0 and "差异 +12" in out
    code, out, _ = run(capsys, "stock", "--low", "--json")
    assert json.loads(out)["below_minimum"] == []
    code, _, err = run(capsys, "stock-adjust", "ZZZ", "--counted", "1", "--reason", "x")
    assert code == 1 and "找不到商品" in err


def test_margin_and_balance(book, capsys):
    engine, settings = book
    with transaction(engine) as s:
        book_invoice(s, parsed_invoice(lines=[line("*电子元件*电阻器", "500.00", quantity="100")]), settings)
        book_invoice(
            s,
            parsed_invoice(direction="sales", number="24312000000000000777", other_name="客户乙", other_tax_id=uscc(9),
                           lines=[line("*电子元件*电阻器", "300.00", quantity="40")]),
            settings,
        )  # fmt: skip
    code, out, _ = run(capsys, "margin", "--json")
    row = json.loads(out)["products"][0]
    assert (row["revenue"], row["cost"], row["margin"], row["margin_rate"]) == (
        "300.00",
        "200.00",
        "100.00",
        "33.3",
    )
    code, out, _ = run(capsys, "balance", "1405", "--json")
    assert json.loads(out)["balance"] == "300.00"
    code, out, _ = run(capsys, "balance", "2221")
    assert "应交税费" in out and "借 ¥26.00" in out  # input VAT 65 > output VAT 39: 留抵
    code, _, err = run(capsys, "balance", "9999")
    assert code == 1 and "UNKNOWN_ACCOUNT" in err


def test_receive_and_void_from_cli(book, capsys):
    engine, settings = book
    with transaction(engine) as s:
        book_invoice(s, parsed_invoice(lines=[line("*电子元件*电阻器", "500.00", quantity="100")]), settings)
        r = book_invoice(
            s,
            parsed_invoice(direction="sales", number="24312000000000000888", other_name="北京小米科技有限责任公司",
                           other_tax_id=uscc(11), lines=[line("*电子元件*电阻器", "300.00", quantity="40")]),
            settings,
        )  # fmt: skip
        sale_voucher = r.voucher.number
    code, out, _ = run(capsys, "receive", "小米", "400", "--date", "2024-06-01")
    assert code == 0 and "¥400.00" in out and "预收" in out  # 339 open, 61 in advance
    code, out, _ = run(capsys, "ar", "小米", "--json")
    assert json.loads(out)["balance"] == "0.00"
    code, _, err = run(capsys, "receive", "不存在的客户", "10")
    assert code == 1 and "找不到客户" in err
    code, _, err = run(capsys, "receive", "小米", "abc")
    assert code == 1 and "INVALID_AMOUNT" in err
    # a sale that has been paid cannot simply be voided
    code, _, err = run(capsys, "voucher", "void", sale_voucher, "--reason", "录错")
    assert code == 1 and "收付款" in err
    code, out, _ = run(capsys, "voucher", "list", "--json")
    receipt = [v for v in json.loads(out)["vouchers"] if "收到" in v["summary"]][0]["number"]
    code, out, _ = run(capsys, "voucher", "void", receipt, "--reason", "重复登记")
    assert code == 0 and "冲销凭证" in out
    code, out, _ = run(capsys, "voucher", "void", sale_voucher, "--reason", "录错")
    assert code == 0
    code, out, _ = run(capsys, "trial-balance", "--period", "2024-05", "--json")
    assert json.loads(out)["balanced"]
    code, out, _ = run(capsys, "stock", "电阻器", "--json")
    assert json.loads(out)["matches"][0]["on_hand"] == "100.0000"  # the sale's 40 came back


def test_company_changes_a_posting_rule(book, capsys):
    engine, settings = book
    code, out, _ = run(
        capsys, "rules", "add", "--direction", "purchase", "--category", "电子元件", "--account", "560203"
    )
    assert code == 0 and "560203" in out
    rule_id = int(out.split("规则 ")[1].split("：")[0])
    with transaction(engine) as s:
        r = book_invoice(
            s, parsed_invoice(lines=[line("*电子元件*电阻器", "500.00", quantity="100")]), settings
        )
        codes = sorted(
            ln.account_code for ln in __import__("erp.vouchers", fromlist=["x"]).lines_of(s, r.voucher.id)
        )
    assert codes == ["2202", "22210101", "560203"]  # an expense now, not stock
    code, _, err = run(
        capsys, "rules", "add", "--direction", "purchase", "--category", "x", "--account", "2221"
    )
    assert code == 1 and "NOT_LEAF_ACCOUNT" in err
    code, out, _ = run(capsys, "rules", "remove", str(rule_id))
    assert code == 0
    code, out, _ = run(capsys, "rules")
    assert "电子元件" not in out and "1405" in out
