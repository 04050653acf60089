"""OCR a page image with one engine, check the reading, and let another engine try when checks fail.

Readings are merged field by field: a checked field (number, tax IDs, the
money) that failed its check in one reading is taken from another reading
where it passed, and the merged result is checked again. The checks, not the
engine, decide; unchecked text such as names is never swapped between engines.
"""

from __future__ import annotations

import copy
import re
import time
from datetime import date

from .. import errors
from ..checks import check
from ..errors import ReadError
from ..extract import extract
from ..model import ParsedInvoice
from ..readers import Limits
from ..repair import repair
from ..words import Document, Page
from .engines import engine_order
from .preprocess import prepare

INVOICE_ANCHORS = re.compile("发票|税额|金额|价税|合计|纳税人")
GROUPS = (
    ("number", ("number",)),
    ("code", ("code",)),
    ("issue_date", ("issue_date",)),
    ("invoice_type", ("invoice_type",)),
    ("buyer.tax_id", ("buyer.tax_id",)),
    ("seller.tax_id", ("seller.tax_id",)),
    ("money", ("lines", "total_amount", "total_tax", "total", "total_in_words")),
)


def _doubtful(inv: ParsedInvoice, prefixes: tuple[str, ...]) -> bool:
    return any(f == p or f.startswith(p + ".") for f in inv.doubtful_fields() for p in prefixes)


def _copy_group(dst: ParsedInvoice, src: ParsedInvoice, group: str, fields: tuple[str, ...]) -> None:
    for f in fields:
        if "." in f:
            side, attr = f.split(".")
            setattr(getattr(dst, side), attr, getattr(getattr(src, side), attr))
        else:
            setattr(dst, f, copy.deepcopy(getattr(src, f)))
    if group == "money":
        dst.meta["low_conf_rows"] = list(src.meta.get("low_conf_rows", []))
    low = set(dst.meta.get("low_conf", set())) - {f for f in fields}
    low |= {f for f in src.meta.get("low_conf", set()) if f in fields}
    dst.meta["low_conf"] = low
    pre_w, pre_d = dst.meta.get("pre", ([], {}))
    drop = {m for f, ms in pre_d.items() if any(f == p or f.startswith(p + ".") for p in fields) for m in ms}
    src_w, src_d = src.meta.get("pre", ([], {}))
    keep_d = {f: ms for f, ms in pre_d.items() if not any(f == p or f.startswith(p + ".") for p in fields)}
    add_d = {f: ms for f, ms in src_d.items() if any(f == p or f.startswith(p + ".") for p in fields)}
    add_w = [m for ms in add_d.values() for m in ms]
    dst.meta["pre"] = ([m for m in pre_w if m not in drop] + add_w, {**keep_d, **add_d})


def merge(readings: list[ParsedInvoice], today: date | None) -> ParsedInvoice:
    """The reading with fewest failed checks, with failing field groups taken from readings where they pass."""
    best = min(readings, key=lambda r: len(r.warnings))
    if best.ok or len(readings) == 1:
        return best
    merged = copy.deepcopy(best)
    for group, fields in GROUPS:
        if not _doubtful(merged, (group,) if group != "money" else fields):
            continue
        for other in readings:
            if other is best:
                continue
            if not _doubtful(other, (group,) if group != "money" else fields):
                _copy_group(merged, other, group, fields)
                break
    check(merged, today)
    return merged if len(merged.warnings) < len(best.warnings) else best


NUMBER = re.compile(r"-?\d+(\.\d+)?")


def reread_missing_cells(inv: ParsedInvoice, pages: list, engine) -> list[str]:  # type: ignore[type-arg,no-untyped-def]
    """Look again, cell by cell, where a row has a 单价 but no 数量 (or the reverse).

    Detection misses lone narrow digits ("1"); recognising the cropped cell finds
    them. The value is kept only if it is a number read with high confidence, and
    the 数量 × 单价 ≈ 金额 check then judges it like any other.
    """
    if not hasattr(engine, "read_cell"):
        return []
    rows = inv.meta.get("rows", [])
    found = []
    for i, ln in enumerate(inv.lines):
        if bool(ln.quantity) == bool(ln.unit_price) or i >= len(rows):
            continue
        attr = "quantity" if not ln.quantity else "unit_price"
        page_no, top, bottom, cols = rows[i]
        names = [c[0] for c in cols]
        if attr not in names or page_no >= len(pages):
            continue
        k = names.index(attr)
        centres = [(c[1] + c[2]) / 2 for c in cols]
        lo = (centres[k - 1] + centres[k]) / 2 if k > 0 else cols[k][1]
        hi = (centres[k] + centres[k + 1]) / 2 if k + 1 < len(cols) else cols[k][2]
        h = bottom - top
        page = pages[page_no]
        cell = page[max(0, int(top - 0.3 * h)) : int(bottom + 0.3 * h), max(0, int(lo)) : int(hi)]
        if cell.size == 0:
            continue
        got = engine.read_cell(cell)
        if got and got[1] >= 0.9 and NUMBER.fullmatch(got[0]):
            setattr(ln, attr, got[0])
            found.append(f"lines.{i}.{attr}")
    return found


def _ocr_document(pages: list, engine, fmt: str, deadline: float) -> Document:  # type: ignore[no-untyped-def]
    out = []
    for page in pages:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        try:
            words = engine.words(page, remaining)
        except RuntimeError as exc:  # pytesseract's timeout
            if "timeout" in str(exc).lower():
                raise TimeoutError from exc
            raise
        h, w = page.shape[:2]
        out.append(Page(float(w), float(h), words))
    return Document(fmt, out, engine=engine.name)


def read_images(
    images: list, limits: Limits, deadline: float, fmt: str, today: date | None = None
) -> ParsedInvoice:  # type: ignore[type-arg]
    """Checked reading of page images; raises ReadError when nothing invoice-like is on them."""
    pages = [prepare(im) for im in images]
    engines = engine_order(limits.ocr_engine)
    if not engines:
        raise ReadError("没有可用的文字识别引擎（需要 rapidocr-onnxruntime 或 tesseract）")
    readings: list[ParsedInvoice] = []
    for engine in engines:
        try:
            doc = _ocr_document(pages, engine, fmt, deadline)
        except TimeoutError:
            if readings:
                break
            raise ReadError(errors.TIMEOUT.format(seconds=limits.ocr_timeout_seconds)) from None
        if sum(len(p.words) for p in doc.pages) < 5:
            if readings:
                continue
            raise ReadError("图片里几乎没有文字，不像是一张发票（请拍清楚发票正面）")
        inv = repair(extract(doc, ""))
        inv.meta["engine"] = engine.name
        inv.meta["reread"] = reread_missing_cells(inv, pages, engine)
        if not (inv.number or inv.lines or inv.total is not None or inv.total_amount is not None):
            text = "".join(w.text for p in doc.pages for w in p.words)
            if not readings and (engine is engines[-1] or not INVOICE_ANCHORS.search(text)):
                raise ReadError(errors.NOT_INVOICE)  # a cat, a meeting note: no second engine
            continue
        check(inv, today)
        readings.append(inv)
        if inv.ok or time.monotonic() > deadline:
            break
    if not readings:
        raise ReadError(errors.NOT_INVOICE)
    result = merge(readings, today)
    result.meta["engines_tried"] = [r.meta.get("engine") for r in readings]
    result.meta["checked"] = True
    return result
