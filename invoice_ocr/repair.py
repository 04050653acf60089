"""Choose among candidate readings of OCR'd values, using the checks as the judge.

A tax ID that fails its checksum may hold a classic OCR confusion (O/0, I/1,
S/5, B/8, Z/2 …); a 数电票 number holds only digits; an amount may have lost
its decimal point. A candidate is taken only when it is the single one that
passes; otherwise the value stays as read and the checks warn. Nothing is
invented: every candidate differs from what was read by a known confusion.
"""

from __future__ import annotations

import re
from decimal import Decimal

from values.money import q2, words_match
from values.taxid import CHARSET, is_valid_uscc

from .checks import rate_value
from .fields import WORD_LOOKALIKES
from .model import ParsedInvoice

# Letters the USCC never uses, mapped to the digit they are mistaken for.
FORBIDDEN = {"O": "0", "I": "1", "Z": "2", "S": "5", "V": "Y"}
# Pairs OCR swaps in either direction.
SWAPS = {
    "0": "DQ",
    "D": "0",
    "Q": "0",
    "1": "L7T",
    "L": "1",
    "T": "17",
    "7": "1T",
    "5": "6",
    "6": "G5",
    "G": "6",
    "8": "B3",
    "B": "8",
    "3": "8",
    "2": "Z",
    "4": "A",
    "A": "4",
    "U": "W",
    "W": "U",
    "H": "N",
    "N": "H",
}
DIGIT_LOOKALIKES = str.maketrans(
    {"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1", "S": "5", "B": "8", "Z": "2"}
)


def repair_tax_id(code: str | None) -> tuple[str | None, bool]:
    """(value, changed). Fix a failing code only when exactly one confusion makes it valid.

    Confusions: a lookalike character, or (19 characters read) one stray character too many.
    """
    if code and len(code) == 19:
        found = {code[:i] + code[i + 1 :] for i in range(19)}
        valid = {c for c in found if is_valid_uscc(c)}
        if len(valid) == 1:
            return valid.pop(), True
        return code, False
    if not code or len(code) != 18 or is_valid_uscc(code):
        return code, False
    base = "".join(FORBIDDEN.get(c, c) for c in code.upper())
    if is_valid_uscc(base):
        return base, True
    found = set()
    for i, c in enumerate(base):
        for alt in SWAPS.get(c, ""):
            cand = base[:i] + alt + base[i + 1 :]
            if all(ch in CHARSET for ch in cand) and is_valid_uscc(cand):
                found.add(cand)
    if len(found) == 1:
        return found.pop(), True
    return code, False


def repair_digits(value: str | None) -> str | None:
    """Invoice numbers and codes are all digits: letters that look like digits are the digits."""
    if value is None:
        return None
    return value.translate(DIGIT_LOOKALIKES)


def _tax_ok(amount: Decimal, rate: Decimal, tax: Decimal) -> bool:
    return abs(q2(amount * rate) - tax) <= Decimal("0.01")


def repair_money(inv: ParsedInvoice) -> list[str]:
    """Restore a dropped decimal point where exactly that makes a line's tax or the totals add up."""
    notes = []
    for i, ln in enumerate(inv.lines):
        rate = rate_value(ln.tax_rate)
        if ln.amount is None or ln.tax is None or rate is None or _tax_ok(ln.amount, rate, ln.tax):
            continue
        options = []
        for a in (ln.amount, ln.amount / 100):
            for t in (ln.tax, ln.tax / 100):
                if (
                    (a, t) != (ln.amount, ln.tax)
                    and _tax_ok(q2(a), rate, q2(t))
                    and q2(a) == a
                    and q2(t) == t
                ):
                    options.append((q2(a), q2(t)))
        if len(options) == 1:
            ln.amount, ln.tax = options[0]
            notes.append(f"lines.{i}")
    if None not in (inv.total_amount, inv.total_tax, inv.total):
        if inv.total_amount + inv.total_tax != inv.total:  # type: ignore[operator]
            cands = []
            for ta in (inv.total_amount, inv.total_amount / 100):  # type: ignore[operator]
                for tt in (inv.total_tax, inv.total_tax / 100):  # type: ignore[operator]
                    for t in (inv.total, inv.total / 100):  # type: ignore[operator]
                        if all(q2(v) == v for v in (ta, tt, t)) and ta + tt == t:
                            cands.append((ta, tt, t))
            if len(cands) == 1:
                inv.total_amount, inv.total_tax, inv.total = (q2(v) for v in cands[0])
                notes.append("totals")
    return notes


SPEC_TIMES = re.compile(r"(?<=\d)[xX](?=\d)")


def repair(inv: ParsedInvoice) -> ParsedInvoice:
    """Apply the confusions above to an OCR reading, in place; record what changed in meta."""
    changed = []
    for ln in inv.lines:
        if ln.tax is None and ln.tax_rate in ("免税", "不征税"):
            # These lines print *** as 税额, which OCR often drops; the totals check still has the last word.
            ln.tax = Decimal("0.00")
        if ln.spec:
            # Dimensions in 规格型号 are printed with ×; OCR reads the sign as a letter x.
            ln.spec = SPEC_TIMES.sub("×", ln.spec)
    inv.number = repair_digits(inv.number)
    inv.code = repair_digits(inv.code)
    for side in ("buyer", "seller"):
        party = getattr(inv, side)
        if party and party.tax_id:
            party.tax_id, did = repair_tax_id(party.tax_id.upper())
            if did:
                changed.append(f"{side}.tax_id")
    changed.extend(repair_money(inv))
    if inv.total_in_words and inv.total is not None and not words_match(inv.total_in_words, inv.total):
        fixed = "".join(WORD_LOOKALIKES.get(c, c) for c in inv.total_in_words)
        if fixed != inv.total_in_words and words_match(fixed, inv.total):
            inv.total_in_words = fixed
            changed.append("total_in_words")
    inv.meta["repaired"] = changed
    return inv
