"""The QR code as a second witness: confirm number, code, date, amount and kind, or say where they differ.

``cross_check(parsed, data, kind)`` is the one call the reader makes after its
checks: it finds the QR (qr_decode), parses it (qr_payload) and applies it
with ``apply_qr``. The rules, all in ``apply_qr``:

- QR and page agree: the field is confirmed (``meta["qr_confirmed"]``); a
  low-confidence flag on it is answered and dropped.
- They differ: the printed value stays and a warning names both values. On an
  OCR reading the QR may choose among the candidates only when the checks
  agree with it: an amount when the sum rules or the 大写 support the QR value
  better than the printed one; a number or code when the OCR reading fails its
  shape check (length, digits) and is the QR value with confusable characters
  (O/0, I/1, S/5, B/8, Z/2) or one character dropped or added.
- The page has no value: an amount is filled from the QR when the checks
  support it (``meta["qr_filled"]``); anything else stays null and its warning
  gains the QR's value for the user to confirm.
- No QR, an unreadable one, or one that is not an invoice: the reading is
  left alone and ``meta["qr_notes"]`` says why.

Nothing here changes the JSON shape: the payload is kept in ``meta["qr"]``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from typing import Any

from values.money import to_str2, words_match

from .model import ParsedInvoice
from .qr_decode import decode_qr, qr_from_image, qr_from_ofd, qr_from_pdf
from .qr_payload import QrPayload, parse_payload, read_payload
from .readers import Limits

__all__ = [
    "QrPayload",
    "apply_qr",
    "choose_payload",
    "cross_check",
    "disabled",
    "decode_qr",
    "find_qr_texts",
    "parse_payload",
    "qr_from_image",
    "qr_from_ofd",
    "qr_from_pdf",
]

log = logging.getLogger(__name__)
LABELS = {
    "number": "发票号码",
    "code": "发票代码",
    "issue_date": "开票日期",
    "total": "价税合计",
    "total_amount": "合计金额",
    "invoice_type": "发票种类",
    "check_code": "校验码",
}
TYPE_WORDS = {"special": "专用发票", "normal": "普通发票"}
AMOUNT_FIELDS = ("total", "total_amount")
IDENTITY_FIELDS = ("number", "code")
# OCR confusions in digit-only fields (as the issue lists them, plus a few Tesseract favourites).
CONFUSABLE = str.maketrans(
    {"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "i": "1", "|": "1", "!": "1"}
    | {"S": "5", "s": "5", "B": "8", "Z": "2", "z": "2", "G": "6", "b": "6", "g": "9", "q": "9"}
)


_enabled: ContextVar[bool] = ContextVar("qr_cross_check_enabled", default=True)


@contextmanager
def disabled() -> Iterator[None]:
    """Within this block ``cross_check`` does nothing: the baseline for bench/qr.py."""
    token = _enabled.set(False)
    try:
        yield
    finally:
        _enabled.reset(token)


# ---------------------------------------------------------------- finding the code


def find_qr_texts(
    data: bytes, kind: str, page_images: list[Any] | None = None, limits: Limits | None = None
) -> list[str]:
    """Every QR text in the file, by the reader's ``kind`` (pdf, ofd, image; xml has none)."""
    if page_images:
        texts: list[str] = []
        for img in page_images:
            texts += decode_qr(img)
            if texts:
                break
        return texts
    if kind == "pdf":
        return qr_from_pdf(data, limits)
    if kind == "ofd":
        return qr_from_ofd(data, limits)
    if kind == "image":
        return qr_from_image(data, limits)
    return []


def choose_payload(texts: list[str]) -> tuple[QrPayload | None, list[str]]:
    """The first invoice payload among the QR texts, and notes on what was passed over."""
    notes: list[str] = []
    payloads: list[QrPayload] = []
    for text in texts:
        payload, why = read_payload(text)
        if payload is None:
            notes.append(f"{why}，已忽略")
        else:
            payloads.append(payload)
    if not texts:
        notes.append("未找到可识别的二维码，仅按票面文字读取")
    if len({p.raw for p in payloads}) > 1:
        notes.append(f"有 {len(payloads)} 个不同的发票二维码，只核对了第一个")
    return (payloads[0] if payloads else None), notes


def cross_check(
    parsed: ParsedInvoice,
    data: bytes,
    kind: str | None,
    page_images: list[Any] | None = None,
    *,
    today: date | None = None,
    limits: Limits | None = None,
) -> None:
    """Find the file's QR code and check the reading against it. Never raises; a failed read is left alone."""
    if parsed.error is not None or not data or kind in (None, "xml") or not _enabled.get():
        return
    try:
        texts = find_qr_texts(data, kind, page_images, limits)
    except Exception as exc:  # decoding is a bonus: it must never cost the reading
        log.warning("QR decoding failed on %s: %s", parsed.source, exc)
        parsed.meta["qr_notes"] = [f"二维码读取失败（{type(exc).__name__}），仅按票面文字读取"]
        return
    payload, notes = choose_payload(texts)
    if notes:
        parsed.meta["qr_notes"] = notes
    ocr = kind == "image" or bool(parsed.meta.get("engine"))
    apply_qr(parsed, payload, ocr=ocr, today=today)


# ---------------------------------------------------------------- applying it


def _get(inv: ParsedInvoice, field: str) -> Any:
    if field == "check_code":
        return inv.meta.get("check_code")
    return getattr(inv, field)


def _set(inv: ParsedInvoice, field: str, value: Any) -> None:
    setattr(inv, field, value)


def _shown(value: Any) -> str:
    if isinstance(value, Decimal):
        return to_str2(value) or ""
    if isinstance(value, date):
        return value.isoformat()
    if value in TYPE_WORDS:
        return TYPE_WORDS[value]
    return str(value)


def _qr_values(payload: QrPayload, inv: ParsedInvoice) -> list[tuple[str, Any]]:
    """The fields the payload speaks for, with its value for each."""
    out: list[tuple[str, Any]] = [("number", payload.number)]
    if payload.code is not None or inv.code is not None:
        out.append(("code", payload.code))
    out.append(("issue_date", payload.issue_date))
    if payload.amount_field:
        out.append((payload.amount_field, payload.amount))
    if payload.invoice_type:
        out.append(("invoice_type", payload.invoice_type))
    if payload.check_code and inv.meta.get("check_code"):
        out.append(("check_code", payload.check_code))
    return out


def _same(inv: ParsedInvoice, field: str, printed: Any, qr_value: Any) -> bool:
    if printed == qr_value:
        return True
    # No red sample shows whether a red invoice's QR carries the amount signed; accept either.
    return field in AMOUNT_FIELDS and inv.is_red and printed is not None and printed == -abs(qr_value)


def amount_support(inv: ParsedInvoice, field: str, value: Decimal) -> tuple[int, int]:
    """How many of the checks that involve ``field`` agree / disagree if it were ``value``.

    价税合计: the 大写 figure, and 金额 + 税额. 合计金额: the lines' sum, and 价税合计 − 税额.
    Each check uses only the other fields, so it is independent evidence.
    """
    results: list[bool] = []
    if field == "total":
        if inv.total_in_words:
            results.append(words_match(inv.total_in_words, value))
        if inv.total_amount is not None and inv.total_tax is not None:
            results.append(inv.total_amount + inv.total_tax == value)
    elif field == "total_amount":
        amounts = [ln.amount for ln in inv.lines]
        if amounts and None not in amounts:
            results.append(sum(amounts, Decimal(0)) == value)  # type: ignore[arg-type]
        if inv.total is not None and inv.total_tax is not None:
            results.append(inv.total - inv.total_tax == value)
    return sum(results), len(results) - sum(results)


def _shape_ok(inv: ParsedInvoice, field: str, value: str) -> bool:
    """The identity checks of checks.py, as a yes/no on one candidate value."""
    if not value.isdigit():
        return False
    if field == "code":
        return len(value) in (10, 12)
    return len(value) == (8 if inv.code else 20)


def _near(printed: str, qr_value: str) -> bool:
    """The OCR text is the QR value with confusable characters, or one character dropped or added."""
    a = re.sub(r"\s", "", printed).translate(CONFUSABLE)
    b = qr_value
    if a == b:
        return True
    if abs(len(a) - len(b)) != 1:
        return False
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _qr_may_choose(inv: ParsedInvoice, field: str, printed: Any, qr_value: Any) -> bool:
    """On an OCR reading: do the checks side with the QR value against the printed one?"""
    if field in AMOUNT_FIELDS:
        agree_qr, _ = amount_support(inv, field, qr_value)
        agree_printed, _ = amount_support(inv, field, printed)
        return agree_qr >= 1 and agree_qr > agree_printed
    if field in IDENTITY_FIELDS and isinstance(printed, str) and qr_value:
        return not _shape_ok(inv, field, printed) and _near(printed, qr_value)
    return False


def _recheck(inv: ParsedInvoice, fields: set[str], today: date | None) -> None:
    """Forget what was said about ``fields`` (the QR has answered it) and run the checks again.

    Works with a re-runnable ``check`` (one that restarts from ``meta["pre"]``)
    and with one that only adds: warnings still true are added back either way.
    """
    from .checks import check

    doubtful: dict[str, list[str]] = inv.meta.get("doubtful", {})
    stale = {m for f in fields for m in doubtful.get(f, [])}
    inv.warnings = [w for w in inv.warnings if w not in stale]
    inv.meta["doubtful"] = {
        f: kept for f, ms in doubtful.items() if (kept := [m for m in ms if m not in stale])
    }
    if "pre" in inv.meta:
        pre_warnings, pre_doubtful = inv.meta["pre"]
        inv.meta["pre"] = (
            [w for w in pre_warnings if w not in stale],
            {f: kept for f, ms in pre_doubtful.items() if (kept := [m for m in ms if m not in stale])},
        )
    low = inv.meta.get("low_conf")
    if low:
        inv.meta["low_conf"] = type(low)(f for f in low if f not in fields)
    check(inv, today)


def apply_qr(
    parsed: ParsedInvoice, payload: QrPayload | None, *, ocr: bool | None = None, today: date | None = None
) -> None:
    """Confirm, choose or warn, field by field (see the module's docstring). ``None`` changes nothing."""
    if payload is None or parsed.error is not None:
        return
    if ocr is None:
        ocr = bool(parsed.meta.get("engine"))
    parsed.meta["qr"] = payload.to_json_dict()
    confirmed: list[str] = []
    chosen: dict[str, dict[str, str]] = {}
    filled: dict[str, str] = {}
    later: list[tuple[str, str]] = []  # (warning, field), added after any re-check
    for field, qr_value in _qr_values(payload, parsed):
        printed = _get(parsed, field)
        label = LABELS[field]
        if qr_value is None:  # 数电票 QR without 发票代码, page with one
            later.append((f"二维码是数电票（无发票代码），票面却有发票代码 {printed}，请核对", field))
            continue
        if _same(parsed, field, printed, qr_value):
            confirmed.append(field)
            continue
        if printed is None:
            agree, disagree = amount_support(parsed, field, qr_value) if field in AMOUNT_FIELDS else (0, 0)
            if agree >= 1 and disagree == 0:
                _set(parsed, field, qr_value)
                filled[field] = _shown(qr_value)
            else:
                later.append((f"票面未能读取{label}，二维码上为 {_shown(qr_value)}，请核对", field))
            continue
        if ocr and _qr_may_choose(parsed, field, printed, qr_value):
            _set(parsed, field, qr_value)
            chosen[field] = {"printed": _shown(printed), "qr": _shown(qr_value)}
            continue
        later.append(
            (f"二维码{label} {_shown(qr_value)} 与票面{label} {_shown(printed)} 不一致，请核对", field)
        )

    answered = set(chosen) | set(filled)
    doubtful = parsed.doubtful_fields() | set(parsed.meta.get("low_conf", ()))
    answered |= {f for f in confirmed if f in doubtful}
    if answered:
        _recheck(parsed, answered, today)
    for message, field in later:
        parsed.warn(message, field)
    parsed.meta["qr_confirmed"] = confirmed
    if chosen:
        parsed.meta["qr_chosen"] = chosen
    if filled:
        parsed.meta["qr_filled"] = filled
    parsed.ok = parsed.error is None and not parsed.warnings
