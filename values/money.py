"""The one home of money: parse text into Decimal, round half-up to 0.01, format.

No float ever enters or leaves this module. Database sums go through
``cents_sum`` so SQLite (which stores NUMERIC as REAL) and PostgreSQL give the
same exact result.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
QTY_PLACES = Decimal("0.0001")

_STRIP = re.compile(r"[\s,，¥￥元圆]|RMB|CNY", re.IGNORECASE)


class MoneyError(ValueError):
    """Text that is not an amount of money."""


def parse_decimal(value: object) -> Decimal:
    """Parse an amount or quantity as printed ("¥1,234.50", "-565", "1 234.5元") into Decimal.

    Floats are refused on purpose: they are how rounding errors get in.
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError(f"refusing {type(value).__name__} {value!r}: pass a string or Decimal")
    if isinstance(value, int):
        return Decimal(value)
    if not isinstance(value, str):
        raise MoneyError(f"not an amount: {value!r}")
    text = _STRIP.sub("", value.strip())
    text = text.replace("－", "-").replace("—", "-").replace("．", ".")
    if text.startswith("(") and text.endswith(")"):
        text = "-" + text[1:-1]
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        raise MoneyError(f"not an amount: {value!r}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards
        raise MoneyError(f"not an amount: {value!r}") from exc


def q2(value: object) -> Decimal:
    """Round to cents, half-up (四舍五入)."""
    return parse_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: object) -> Decimal:
    """Parse and round: the amount as it is booked."""
    return q2(value)


def qty(value: object) -> Decimal:
    """A quantity, kept to four places (half-up)."""
    return parse_decimal(value).quantize(QTY_PLACES, rounding=ROUND_HALF_UP)


def to_str2(value: Decimal | None) -> str | None:
    """Two-place decimal string for JSON ("565.00"); None stays None."""
    if value is None:
        return None
    return str(q2(value))


def fmt(value: Decimal, *, sign: bool = False) -> str:
    """Human format with thousands separators: 1,234,567.80."""
    v = q2(value)
    text = f"{v:,.2f}"
    if sign and v > 0:
        text = "+" + text
    return text


def fmt_qty(value: Decimal) -> str:
    """Quantity without trailing zeros: 12, 12.5, 0.25."""
    v = qty(value).normalize()
    text = format(v, "f")
    return text


def cents(value: Decimal) -> int:
    return int(q2(value) * 100)


def from_cents(value: object) -> Decimal:
    """Turn an integer (or integral numeric) count of cents from SQL back into money."""
    if value is None:
        return ZERO
    if isinstance(value, float):
        # SQLite's ROUND returns REAL; a whole number of cents is exact in a double.
        value = int(round(value))
    return (Decimal(value) / 100).quantize(CENT)


def from_ten_thousandths(value: object) -> Decimal:
    if value is None:
        return Decimal("0.0000")
    if isinstance(value, float):
        value = int(round(value))
    return (Decimal(value) / 10000).quantize(QTY_PLACES)


def split_evenly(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``total`` across ``weights`` in cents so the parts sum exactly to the total."""
    total = q2(total)
    if not weights:
        return []
    wsum = sum(weights, Decimal(0))
    if wsum == 0:
        parts = [ZERO for _ in weights]
        parts[-1] = total
        return parts
    parts = [q2(total * w / wsum) for w in weights]
    parts[-1] += total - sum(parts, Decimal(0))
    return parts


_DIGITS = "零壹贰叁肆伍陆柒捌玖"


def amount_in_words(value: Decimal) -> str:
    """价税合计（大写）: 565.00 -> 伍佰陆拾伍圆整; negative -> （负数）….

    Follows the usual invoice rules: 圆 for the yuan unit, 整 when there are no
    fen, one 零 for each run of zeros, 零 before 角/分 only where it is needed.
    """
    v = q2(value)
    prefix = ""
    if v < 0:
        prefix = "（负数）"
        v = -v
    yuan = int(v)
    jiao = int((v * 10) % 10)
    fen = int((v * 100) % 10)
    if yuan == 0 and jiao == 0 and fen == 0:
        return prefix + "零圆整"

    def four(n: int) -> str:
        units = ["", "拾", "佰", "仟"]
        out = ""
        zero = False
        for i in range(3, -1, -1):
            d = (n // 10**i) % 10
            if d == 0:
                if out:
                    zero = True
            else:
                if zero:
                    out += "零"
                    zero = False
                out += _DIGITS[d] + units[i]
        return out

    text = ""
    if yuan:
        groups = []
        n = yuan
        while n:
            groups.append(n % 10000)
            n //= 10000
        big = ["", "万", "亿", "万亿"]
        parts = []
        need_zero = False
        for i in range(len(groups) - 1, -1, -1):
            g = groups[i]
            if g == 0:
                need_zero = True
                continue
            seg = four(g)
            if parts and (need_zero or g < 1000):
                seg = "零" + seg
            parts.append(seg + big[i])
            need_zero = False
        text = "".join(parts) + "圆"
    if jiao == 0 and fen == 0:
        return prefix + text + "整"
    if jiao:
        if yuan and yuan % 10 == 0:
            text += "零"
        text += _DIGITS[jiao] + "角"
    if fen:
        if jiao == 0 and yuan:
            text += "零"
        text += _DIGITS[fen] + "分"
    else:
        text += "整"
    return prefix + text


def words_match(words: str, value: Decimal) -> bool:
    """Does the printed 大写 figure say ``value``? 元/圆 both accepted, 正 for 整."""
    norm = words.replace("元", "圆").replace("正", "整").replace("(", "（").replace(")", "）")
    norm = re.sub(r"\s", "", norm)
    expected = amount_in_words(value)
    if norm == expected:
        return True
    # Some issuers drop the 零 before 角, or write 整 after 分; compare without them.
    relax = lambda s: s.replace("零", "").replace("整", "").replace("（负数）", "-")  # noqa: E731
    return relax(norm) == relax(expected)


_FULL_WIDTH = str.maketrans("０１２３４５６７８９．，－＋（）", "0123456789.,-+()")
_AMOUNT = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?")


def parse_amount(text: str, *, allow_negative: bool = False) -> Decimal:
    """An amount of money typed by a person ("1,234.50", "¥1234.5", "1234.50元", full-width digits),
    exact to the cent. Refuses, with a message in words, anything that is not plainly one amount:
    more than two decimals, exponents, a sign where none is allowed, stray characters.

    The one amount grammar for the chat, the CLI and imported sheets.
    """
    if not isinstance(text, str):
        raise MoneyError("金额应是文字，例如 1,234.50")
    raw = text.strip().translate(_FULL_WIDTH)
    raw = re.sub(r"^(?:¥|￥|RMB|CNY)\s*", "", raw, flags=re.IGNORECASE)
    raw = re.sub(r"\s*(?:元|圆|块)(?:整|正)?$", "", raw)
    negative = False
    if raw.startswith("(") and raw.endswith(")"):
        negative, raw = True, raw[1:-1].strip()
    if raw.startswith("-"):
        negative, raw = True, raw[1:]
    elif raw.startswith("+"):
        raw = raw[1:]
    if not _AMOUNT.fullmatch(raw):
        if re.fullmatch(r"\d+\.\d{3,}", raw.replace(",", "")):
            raise MoneyError(
                f"金额“{text}”超过两位小数，请写到分，例如 {raw.split('.')[0]}.{raw.split('.')[1][:2]}"
            )
        raise MoneyError(f"“{text}”不是一个金额，请写成 1234.50 这样的数字")
    if negative and not allow_negative:
        raise MoneyError(f"金额“{text}”不能为负数")
    value = Decimal(raw.replace(",", ""))
    return (-value if negative else value).quantize(CENT)
