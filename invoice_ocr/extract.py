"""One layout-aware field extractor for every reader: positioned words in, ParsedInvoice out.

Labels and their values are found on the same visual line (rules in
``fields.py``); buyer and seller are told apart by where their labels sit
(side by side on 数电票, stacked on legacy invoices); the item table is read
by the column ranges of its header row. Nothing here guesses: a value that is
not there stays None and the checks say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from values.money import MoneyError, parse_decimal, q2

from .fields import (
    FIELD_RULES,
    FOREIGN_HEADERS,
    HEADER_NEEDS,
    PARTY_NAME,
    PARTY_TAX_ID,
    PARTY_TAX_ID_ANY,
    RATE_WORDS,
    TABLE_COLUMNS,
    TOTAL_ROW,
    FieldRule,
    spaced,
)
from .model import Line, ParsedInvoice, Party
from .words import Document, TextLine, Word, group_lines, merge_close_words

# OCR confidence below which a value is returned with a warning rather than trusted.
CONF_FLOOR = 0.80
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})")


@dataclass
class Hit:
    value: str
    line: TextLine
    x: float
    conf: float


def all_lines(doc: Document) -> list[TextLine]:
    out: list[TextLine] = []
    for i, page in enumerate(doc.pages):
        out.extend(group_lines(page, i))
    return out


def find_all(lines: list[TextLine], rule: FieldRule) -> list[Hit]:
    pattern = rule.pattern()
    hits = []
    for line in lines:
        text = line.text
        for m in pattern.finditer(text):
            start = m.start("v")
            word = line.word_at(start)
            hits.append(Hit(m.group("v").strip(), line, line.x_at(m.start()), word.conf))
    return hits


def find_first(lines: list[TextLine], rule: FieldRule) -> Hit | None:
    hits = find_all(lines, rule)
    return hits[0] if hits else None


def read_money(text: str | None) -> Decimal | None:
    """An amount as printed ("¥16.04", "-5.54", "￥ 734.59"); None when it is not one."""
    if not text:
        return None
    t = text.replace(" ", "").replace("－", "-").replace("．", ".").replace(",", "")
    t = re.sub(r"^[¥￥Y]", "", t)
    t = t.replace("-¥", "-").replace("-￥", "-")
    if not re.fullmatch(r"-?\d+(\.\d+)?", t):
        return None
    try:
        return q2(parse_decimal(t))
    except MoneyError:
        return None


def read_date(text: str | None) -> tuple[date | None, str | None]:
    """(date, problem): a printed 开票日期 that is not a real day gives (None, why)."""
    if not text:
        return None, None
    m = _DATE.search(text)
    if not m:
        return None, f"开票日期“{text}”无法识别"
    y, mo, d = (int(g) for g in m.groups())
    try:
        return date(y, mo, d), None
    except ValueError:
        return None, f"开票日期 {y}年{mo}月{d}日 不是真实日期"


def normalise_rate(text: str | None) -> str | None:
    if not text:
        return None
    t = text.replace(" ", "").replace("％", "%")
    for k, v in RATE_WORDS.items():
        if k in t:
            return v
    m = re.fullmatch(r"(\d{1,2})(?:\.0+)?%?", t)
    if m and int(m.group(1)) <= 17:
        return f"{int(m.group(1))}%"
    return None


def _party_hits(lines: list[TextLine], rule: FieldRule) -> list[Hit]:
    """Each label match, with its value or an empty value when nothing fits the label."""
    label_only = re.compile(rule.label)
    value_re = rule.pattern()
    hits = []
    for line in lines:
        for m in label_only.finditer(line.text):
            vm = value_re.match(line.text, m.start())
            value = vm.group("v").strip() if vm and vm.group("v") else ""
            conf = line.word_at(vm.start("v")).conf if vm and vm.group("v") else 1.0
            hits.append(Hit(value, line, line.x_at(m.start()), conf))
    return hits


def _assign_sides(hits: list[Hit], page_width: float, header_y: float | None) -> dict[str, Hit]:
    """Buyer first: left of a pair on one line (数电票), upper of a stacked pair (legacy)."""
    if not hits:
        return {}
    hits = [h for h in hits if h.line.page == hits[0].line.page][:2]
    if len(hits) == 2:
        a, b = hits
        if abs(a.line.cy - b.line.cy) < max(a.line.bottom - a.line.top, 4):
            a, b = sorted(hits, key=lambda h: h.x)
        else:
            a, b = sorted(hits, key=lambda h: h.line.cy)
        return {"buyer": a, "seller": b}
    h = hits[0]
    if header_y is not None and h.line.cy > header_y:
        return {"seller": h}
    return {"seller": h} if h.x > page_width * 0.45 else {"buyer": h}


def _clean_name(value: str) -> str | None:
    v = value.strip().strip(":：;；,，")
    return v or None


def _header_columns(line: TextLine) -> list[tuple[str, float, float]] | None:
    """(column, x0, x1) for each column label found on a header line, left to right."""
    text = line.text
    if not all(p.search(text) for p in HEADER_NEEDS):
        return None
    cols = []
    taken: list[tuple[int, int]] = []
    for name, pattern in TABLE_COLUMNS:
        for m in re.finditer(pattern, text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            # "税额" inside "税率/征收率" cannot happen, but "单价" must not be read as "单位".
            taken.append((m.start(), m.end()))
            label = FOREIGN_HEADERS.search(m.group(0))
            cols.append((name if not label else "_" + name, line.x_at(m.start()), line.x_at(m.end())))
            break
    if not any(c[0] == "amount" for c in cols):
        return None
    cols.sort(key=lambda c: c[1])
    return cols


def _column_of(word: Word, cols: list[tuple[str, float, float]]) -> str:
    centres = [(c[1] + c[2]) / 2 for c in cols]
    x = word.cx
    # A long name starts in the name column even if its centre strays right.
    if cols[0][0] == "name" and word.x0 < cols[0][2] and not _looks_numeric(word.text):
        return "name"
    best = 0
    for i in range(len(cols)):
        lo = -1e9 if i == 0 else (centres[i - 1] + centres[i]) / 2
        hi = 1e9 if i == len(cols) - 1 else (centres[i] + centres[i + 1]) / 2
        if lo <= x < hi:
            best = i
            break
    return cols[best][0]


def _looks_numeric(text: str) -> bool:
    return bool(re.fullmatch(r"[-¥￥]?[\d.,%]+", text.strip()))


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or ch in "（）"


def _split_across_columns(w: Word, bounds: list[float]) -> list[Word]:
    """OCR may read two neighbouring cells as one box (使用医17.5cm): cut it where the script
    changes closest to a column boundary the box straddles."""
    text = w.text
    n = len(text)
    if n < 2:
        return [w]
    char_w = (w.x1 - w.x0) / n
    for b in bounds:
        if not (w.x0 + char_w < b < w.x1 - char_w):
            continue
        cuts = [
            i
            for i in range(1, n)
            if _is_cjk(text[i - 1]) != _is_cjk(text[i]) or text[i - 1] == " " or text[i] == " "
        ]
        if not cuts:
            continue
        best = min(cuts, key=lambda i: abs(w.x0 + char_w * i - b))
        if abs(w.x0 + char_w * best - b) > 4 * char_w:
            continue
        cut_x = w.x0 + char_w * best
        left = Word(text[:best].strip(), w.x0, w.top, cut_x, w.bottom, w.conf)
        right = Word(text[best:].strip(), cut_x, w.top, w.x1, w.bottom, w.conf)
        return [x for part in (left, right) if part.text for x in _split_across_columns(part, bounds)]
    return [w]


def _row_cells(line: TextLine, cols: list[tuple[str, float, float]]) -> dict[str, str]:
    centres = [(c[1] + c[2]) / 2 for c in cols]
    bounds = [(a + b) / 2 for a, b in zip(centres, centres[1:], strict=False)]
    cells: dict[str, list[Word]] = {}
    for raw in line.raw or line.words:
        for w in _split_across_columns(raw, bounds):
            cells.setdefault(_column_of(w, cols), []).append(w)
    out = {}
    for k, ws in cells.items():
        ws.sort(key=lambda w: w.x0)
        text = ws[0].text
        for prev, w in zip(ws, ws[1:], strict=False):
            latin_pair = re.search(r"[A-Za-z0-9]$", text) and re.match(r"[A-Za-z0-9]", w.text[:1])
            if latin_pair and w.x0 - prev.x1 > 0.3 * w.height:
                text += " "
            text += w.text
        out[k] = text.strip()
    return out


def _row_conf(line: TextLine) -> float:
    return min((w.conf for w in (line.raw or line.words)), default=1.0)


def read_table(lines: list[TextLine], inv: ParsedInvoice) -> tuple[int | None, float | None]:
    """Fill inv.lines and the 合计 figures; return (index of the 合计 line, y of the first header)."""
    cols = None
    header_y = None
    total_index = None
    prev_line: TextLine | None = None
    low_conf_rows: list[int] = []
    for i, line in enumerate(lines):
        header = _header_columns(line)
        if header:
            cols = header
            header_y = header_y if header_y is not None else line.cy
            prev_line = line
            continue
        if cols is None:
            continue
        if TOTAL_ROW.search(line.text):
            cells = _row_cells(line, cols)
            inv.total_amount = read_money(cells.get("amount"))
            tax_text = cells.get("tax")
            inv.total_tax = Decimal("0.00") if tax_text and "*" in tax_text else read_money(tax_text)
            if _row_conf(line) < CONF_FLOOR:
                inv.meta.setdefault("low_conf", set()).update({"total_amount", "total_tax"})
            total_index = i
            break
        cells = _row_cells(line, cols)
        if (
            cells.get("amount")
            and read_money(cells["amount"]) is not None
            or (cells.get("amount") and cells.get("name"))
        ):
            tax_text = cells.get("tax")
            rate = normalise_rate(cells.get("tax_rate"))
            tax = read_money(tax_text)
            if tax is None and tax_text and "*" in tax_text:
                tax = Decimal("0.00")
            inv.lines.append(
                Line(
                    name=cells.get("name", ""),
                    spec=cells.get("spec") or None,
                    unit=cells.get("unit") or None,
                    quantity=cells.get("quantity") or None,
                    unit_price=cells.get("unit_price") or None,
                    amount=read_money(cells.get("amount")),
                    tax_rate=rate,
                    tax=tax,
                )
            )
            if _row_conf(line) < CONF_FLOOR:
                low_conf_rows.append(len(inv.lines) - 1)
            # Where the row sits, so an OCR pass can look again at a cell it missed.
            inv.meta.setdefault("rows", []).append((line.page, line.top, line.bottom, cols))
            prev_line = line
        elif inv.lines and prev_line is not None and cells.get("name") and set(cells) <= {"name", "spec"}:
            close = line.page == prev_line.page and line.top - prev_line.bottom < 1.2 * (
                line.bottom - line.top
            )
            if close:
                inv.lines[-1].name += cells["name"]
                if cells.get("spec"):
                    inv.lines[-1].spec = (inv.lines[-1].spec or "") + cells["spec"]
                prev_line = line
    inv.meta["low_conf_rows"] = low_conf_rows
    return total_index, header_y


def _is_marker(w: Word) -> bool:
    return w.text.strip() in ("备", "注", "备注")


def _remarks(lines: list[TextLine], start: int, issuer_line: TextLine | None) -> str | None:
    """Text right of the 备注 marker between the 价税合计 line and the issuer line.

    Works on the unmerged words: OCR often puts the marker and the remark side by side.
    """
    marker = None
    split: dict[int, list[Word]] = {}  # line index -> its words with a marker glued to a remark split off
    for k, line in enumerate(lines[start:], start):
        for w in line.raw or line.words:
            t = w.text.strip()
            if t in ("备", "备注"):
                marker = w
            elif t.startswith("备") and len(t) > 1:
                # OCR glued the marker to the remark beside it: 备合同编号… -> 备 | 合同编号…
                body = t[1:].lstrip("注:： ")
                char_w = min(w.height, (w.x1 - w.x0) / len(t))
                marker = Word("备", w.x0, w.top, w.x0 + char_w, w.bottom, w.conf)
                rest = [x for x in (line.raw or line.words) if x is not w]
                if body:
                    rest.append(Word(body, marker.x1 + 1, w.top, w.x1, w.bottom, w.conf))
                split[k] = rest
            if marker:
                break
        if marker:
            break
    if marker is None:
        return None
    parts = []
    for k, line in enumerate(lines[start:], start):
        if issuer_line is not None and (line is issuer_line or line.cy >= issuer_line.top):
            break
        if line.page != lines[start].page:
            break
        if re.search(r"收\s*款\s*人\s*[:：]", line.text) and line.words[0].x0 < marker.x0:
            break
        candidates = split.get(k, line.raw or line.words)
        words = [w for w in candidates if w.cx > marker.x1 and not _is_marker(w)]
        if words:
            parts.append(" ".join(w.text for w in merge_close_words(sorted(words, key=lambda w: w.x0))))
    text = re.sub(r"\s+", " ", " ".join(parts)).strip()
    return text or None


def extract(doc: Document, source: str) -> ParsedInvoice:
    lines = all_lines(doc)
    inv = ParsedInvoice(source=source, format=doc.format)
    inv.meta["engine"] = doc.engine
    alltext = "\n".join(ln.text for ln in lines)
    compact = re.sub(r"\s+", "", alltext)
    if "专用发票" in compact:
        inv.invoice_type = "special"
    elif "普通发票" in compact or "通行费" in compact:
        inv.invoice_type = "normal"

    hits = {r.name: find_first(lines, r) for r in FIELD_RULES}
    low: set[str] = inv.meta.setdefault("low_conf", set())
    for name, hit in hits.items():
        if hit and hit.conf < CONF_FLOOR:
            low.add(name)
    if hits["number"]:
        inv.number = hits["number"].value.replace(" ", "")
    if hits["code"]:
        inv.code = hits["code"].value
    if hits["issue_date"]:
        inv.issue_date, problem = read_date(hits["issue_date"].value)
        if problem:
            inv.warn(problem, "issue_date")
    if hits["issuer"]:
        inv.issuer = hits["issuer"].value
    if hits["total_in_words"]:
        inv.total_in_words = (
            re.sub(r"\s+", "", hits["total_in_words"].value).replace("(", "（").replace(")", "）")
        )
    if hits["total"]:
        inv.total = read_money(hits["total"].value)
    for extra in ("check_code", "machine_no"):
        if hits[extra]:
            inv.meta[extra] = hits[extra].value.replace(" ", "")

    total_index, header_y = read_table(lines, inv)

    page0 = [ln for ln in lines if ln.page == 0]
    width = doc.pages[0].width if doc.pages else 0.0
    names = _assign_sides(_party_hits(page0, PARTY_NAME), width, header_y)
    ids = _assign_sides(_party_hits(page0, PARTY_TAX_ID_ANY), width, header_y)
    id_shape = re.compile(PARTY_TAX_ID.value)
    for side in ("buyer", "seller"):
        name_hit = names.get(side)
        id_hit = ids.get(side)
        party = Party()
        if name_hit:
            party.name = _clean_name(name_hit.value)
            if name_hit.value and name_hit.conf < CONF_FLOOR:
                low.add(f"{side}.name")
        if id_hit and id_hit.value:
            raw = id_hit.value.upper()
            m = id_shape.match(raw)
            if m and len(m.group(0)) in (15, 17, 18, 19, 20):
                party.tax_id = m.group(0)
                if id_hit.conf < CONF_FLOOR:
                    low.add(f"{side}.tax_id")
            else:
                inv.warn(f"{'购买方' if side == 'buyer' else '销售方'}税号“{raw}”无法识别", f"{side}.tax_id")
        setattr(inv, side, party)

    # Remarks start below the 价税合计 line, found by its label even when its value was unreadable.
    words_label = re.compile(spaced("价税合计"))
    label_lines = [k for k, ln in enumerate(lines) if words_label.search(ln.text)]
    start = label_lines[-1] + 1 if label_lines else (total_index + 1 if total_index is not None else None)
    if start is not None:
        inv.remarks = _remarks(lines, start, hits["issuer"].line if hits["issuer"] else None)

    inv.is_red = (
        "红字" in compact
        or "负数" in (inv.total_in_words or "")
        or (inv.total is not None and inv.total < 0)
        or (inv.total_amount is not None and inv.total_amount < 0)
    )
    inv.meta["facts"] = dict(doc.facts)
    return inv
