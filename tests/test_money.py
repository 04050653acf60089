from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from values.money import (
    MoneyError,
    amount_in_words,
    fmt,
    money,
    parse_decimal,
    q2,
    split_evenly,
    to_str2,
    words_match,
)
from values.taxid import check_char, is_valid_uscc, make_uscc, tax_id_problem


def test_parse_printed_amounts():
    assert parse_decimal("¥1,234.50") == Decimal("1234.50")
    assert parse_decimal("565元") == Decimal("565")
    assert parse_decimal("－12.3") == Decimal("-12.3")
    assert parse_decimal("(8.00)") == Decimal("-8.00")


@pytest.mark.parametrize("bad", ["", "abc", "1.2.3", "12元5角", None])
def test_parse_refuses_non_amounts(bad):
    with pytest.raises(MoneyError):
        parse_decimal(bad)


def test_float_is_refused():
    with pytest.raises(MoneyError):
        money(0.1)


def test_round_half_up():
    assert q2("0.005") == Decimal("0.01")
    assert q2("2.675") == Decimal("2.68")  # a float would give 2.67
    assert q2("-0.005") == Decimal("-0.01")
    assert to_str2(Decimal("565")) == "565.00"
    assert fmt(Decimal("1234567.8")) == "1,234,567.80"


@pytest.mark.parametrize(
    "value,words",
    [
        ("565.00", "伍佰陆拾伍圆整"),
        ("17.00", "壹拾柒圆整"),
        ("1002.30", "壹仟零贰圆叁角整"),
        ("100000", "壹拾万圆整"),
        ("10010", "壹万零壹拾圆整"),
        ("0.05", "伍分"),
        ("1234567.89", "壹佰贰拾叁万肆仟伍佰陆拾柒圆捌角玖分"),
        ("-565", "（负数）伍佰陆拾伍圆整"),
        ("100.50", "壹佰圆零伍角整"),
        ("105.06", "壹佰零伍圆零陆分"),
        ("100010000", "壹亿零壹万圆整"),
    ],
)
def test_amount_in_words(value, words):
    assert amount_in_words(Decimal(value)) == words
    assert words_match(words.replace("圆", "元"), Decimal(value))


def test_words_mismatch_is_detected():
    assert not words_match("伍佰陆拾伍圆整", Decimal("566.00"))


@given(
    st.decimals(min_value=0, max_value=10**9, places=2),
    st.lists(st.integers(1, 1000), min_size=1, max_size=8),
)
def test_split_evenly_sums_exactly(total, weights):
    parts = split_evenly(total, [Decimal(w) for w in weights])
    assert sum(parts) == q2(total)


def test_uscc_checksum():
    good = make_uscc("91310000MA1FL8XQ3")
    assert is_valid_uscc(good)
    assert not is_valid_uscc(good[:-1] + ("0" if good[-1] != "0" else "1"))
    assert tax_id_problem(good) is None
    assert "校验位" in tax_id_problem(good[:-1] + ("0" if good[-1] != "0" else "1"))
    assert "不允许" in tax_id_problem("91310000MA1FL8XQ3I")
    assert check_char("9131000OMA1FL8XQ3") is None  # the letter O is not in the charset
