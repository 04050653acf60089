"""The checks and the OCR candidate repairs, as pure functions on hand-built invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from invoice_ocr.checks import check
from invoice_ocr.model import Line, ParsedInvoice, Party
from invoice_ocr.repair import repair, repair_digits, repair_money, repair_tax_id
from values.taxid import make_uscc

TODAY = date(2026, 11, 28)
SELLER_ID = make_uscc("91430102727985656")
BUYER_ID = make_uscc("91460300MAA92DJN9")


def good() -> ParsedInvoice:
    return ParsedInvoice(
        source="t",
        format="pdf",
        invoice_type="normal",
        number="25437000000297554203",
        issue_date=date(2025, 10, 13),
        buyer=Party("南华大学", BUYER_ID),
        seller=Party("湖南顺丰速运有限公司", SELLER_ID),
        lines=[Line("*快递服务*收派服务费", Decimal("16.04"), "6%", Decimal("0.96"))],
        total_amount=Decimal("16.04"),
        total_tax=Decimal("0.96"),
        total=Decimal("17.00"),
        total_in_words="壹拾柒圆整",
    )


def test_a_consistent_invoice_passes() -> None:
    inv = check(good(), TODAY)
    assert inv.ok and inv.warnings == []


def test_bad_uscc_checksum_is_a_warning_not_a_fix() -> None:
    inv = good()
    inv.seller.tax_id = SELLER_ID[:-1] + ("0" if SELLER_ID[-1] != "0" else "1")  # type: ignore[union-attr]
    check(inv, TODAY)
    assert not inv.ok and "校验位" in inv.warnings[0]
    assert inv.seller.tax_id != SELLER_ID  # type: ignore[union-attr]
    assert "seller.tax_id" in inv.doubtful_fields()


def test_number_must_have_twenty_digits_on_a_shudian_invoice() -> None:
    inv = good()
    inv.number = "2543700000029755420"
    check(inv, TODAY)
    assert any("20 位" in w for w in inv.warnings)


def test_legacy_number_has_eight_digits_with_a_code() -> None:
    inv = good()
    inv.code, inv.number = "012001800211", "23326471"
    assert check(inv, TODAY).ok


def test_future_date_is_flagged() -> None:
    inv = good()
    inv.issue_date = date(2026, 12, 1)
    check(inv, TODAY)
    assert any("晚于今天" in w for w in inv.warnings)


def test_lines_not_summing_to_totals() -> None:
    inv = good()
    inv.lines.append(Line("*快递服务*收派服务费", Decimal("1.00"), "6%", Decimal("0.06")))
    check(inv, TODAY)
    assert any("明细金额合计 17.04" in w for w in inv.warnings)
    assert any("明细税额合计" in w for w in inv.warnings)


def test_tax_must_match_amount_times_rate_within_a_cent() -> None:
    inv = good()
    inv.lines[0].tax = Decimal("0.98")
    inv.total_tax, inv.total, inv.total_in_words = Decimal("0.98"), Decimal("17.02"), "壹拾柒圆零贰分"
    check(inv, TODAY)
    assert any("× 税率 6%" in w for w in inv.warnings)
    inv.lines[0].tax = Decimal("0.97")  # 16.04 × 6% = 0.9624: a cent off is allowed
    inv.total_tax, inv.total, inv.total_in_words = Decimal("0.97"), Decimal("17.01"), "壹拾柒圆零壹分"
    assert check(inv, TODAY).ok


def test_amount_plus_tax_must_equal_total() -> None:
    inv = good()
    inv.total = Decimal("17.10")
    check(inv, TODAY)
    assert any("≠ 价税合计" in w for w in inv.warnings)


def test_words_must_say_the_figure() -> None:
    inv = good()
    inv.total_in_words = "壹拾捌圆整"
    check(inv, TODAY)
    assert any("大写金额" in w for w in inv.warnings)
    inv.total_in_words = "壹拾柒元整"  # 元 and 圆 both accepted
    assert check(inv, TODAY).ok


def test_red_invoice_words_carry_the_negative_mark() -> None:
    inv = good()
    inv.is_red = True
    inv.lines[0].amount, inv.lines[0].tax = Decimal("-16.04"), Decimal("-0.96")
    inv.total_amount, inv.total_tax, inv.total = Decimal("-16.04"), Decimal("-0.96"), Decimal("-17.00")
    inv.total_in_words = "（负数）壹拾柒圆整"
    assert check(inv, TODAY).ok


def test_exempt_line_has_zero_tax() -> None:
    inv = good()
    inv.lines[0].tax_rate, inv.lines[0].tax = "免税", Decimal("0.00")
    inv.total_tax, inv.total, inv.total_in_words = Decimal("0.00"), Decimal("16.04"), "壹拾陆圆零肆分"
    assert check(inv, TODAY).ok


def test_missing_fields_are_null_with_a_warning() -> None:
    inv = good()
    inv.number, inv.total = None, None
    check(inv, TODAY)
    assert "未能读取发票号码" in inv.warnings and "未能读取价税合计" in inv.warnings


def test_checks_can_run_twice_without_doubling_warnings() -> None:
    inv = good()
    inv.number = None
    check(inv, TODAY)
    first = list(inv.warnings)
    check(inv, TODAY)
    assert inv.warnings == first


def test_metadata_disagreeing_with_the_page_is_a_warning() -> None:
    inv = good()
    inv.meta["facts"] = {"InvoiceNumber": "25437000000297554204", "TotalTax-includedAmount": "17.00"}
    check(inv, TODAY)
    assert inv.warnings == ["票面发票号码 25437000000297554203 与文件元数据 25437000000297554204 不一致"]


def test_tax_id_repair_takes_a_single_confusion_that_passes() -> None:
    read_as = SELLER_ID.replace("0", "O", 1)  # O is never in a USCC
    assert repair_tax_id(read_as) == (SELLER_ID, True)


def test_tax_id_repair_leaves_an_ambiguous_code_alone() -> None:
    broken = SELLER_ID[:5] + ("9" if SELLER_ID[5] != "9" else "4") + SELLER_ID[6:]
    value, changed = repair_tax_id(broken)
    assert value in (broken, SELLER_ID)
    if changed:  # only when exactly one known confusion makes it valid
        assert value == SELLER_ID


def test_number_letters_that_look_like_digits() -> None:
    assert repair_digits("2543700OOO02975542O3") == "25437000000297554203"


def test_dropped_decimal_point_is_restored_only_when_the_sums_agree() -> None:
    inv = good()
    inv.lines[0].amount = Decimal("1604")
    assert repair_money(inv) == ["lines.0"]
    assert inv.lines[0].amount == Decimal("16.04")
    inv2 = good()
    inv2.total = Decimal("1700")
    repair_money(inv2)
    assert inv2.total == Decimal("17.00")


def test_repair_does_not_touch_a_consistent_reading() -> None:
    inv = repair(good())
    assert inv.meta["repaired"] == [] and check(inv, TODAY).ok


def test_json_shape_is_exactly_the_schema() -> None:
    import json
    from pathlib import Path

    schema = json.loads((Path(__file__).parent / "fixtures" / "invoice.schema.json").read_text())
    d = check(good(), TODAY).to_json_dict()
    assert d["total"] == "17.00" and d["lines"][0]["amount"] == "16.04"
    assert set(d) == set(schema["properties"])
    assert set(schema["required"]) <= set(d)
    assert set(d["lines"][0]) == set(schema["properties"]["lines"]["items"]["properties"])
    assert set(d["buyer"]) == set(schema["$defs"]["party"]["properties"])


def test_words_lookalike_is_taken_only_when_it_then_matches_the_figure() -> None:
    inv = good()
    inv.total_in_words = "壹拾柒圆整".replace("壹", "壹")
    inv.total, inv.total_amount, inv.lines[0].amount = (
        Decimal("3017.00"),
        Decimal("2846.23"),
        Decimal("2846.23"),
    )
    inv.total_tax = inv.lines[0].tax = Decimal("170.77")
    inv.total_in_words = "参仟零壹拾柒圆整"  # OCR read 叁 as 参
    assert "total_in_words" in repair(inv).meta["repaired"]
    assert inv.total_in_words == "叁仟零壹拾柒圆整"
    other = good()
    other.total_in_words = "参拾柒圆整"  # 参 → 叁 gives 37, not 17: left as read, and the check warns
    repair(other)
    assert other.total_in_words == "参拾柒圆整"
    assert not check(other, TODAY).ok


def test_quantity_without_unit_price_means_one_was_not_read() -> None:
    inv = good()
    inv.lines[0].quantity, inv.lines[0].unit_price = "1", "16.0377358491"
    assert check(inv, TODAY).ok
    inv.lines[0].quantity = None
    check(inv, TODAY)
    assert inv.warnings == ["第 1 行未能读取数量"]
    inv.lines[0].quantity = "2"
    check(inv, TODAY)
    assert any("数量 2 × 单价" in w for w in inv.warnings)
