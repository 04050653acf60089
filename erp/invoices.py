"""From a parsed invoice to the books.

``draft_from_invoice`` is the proposal (writes nothing): direction, party,
each line's account by the posting rules, product matches, the voucher lines,
and warnings. ``save_draft`` writes the invoice and its draft voucher;
``confirm_invoice`` posts it (stock moves, cost of sales, open item, red-invoice
offsets) or sends it for approval; ``void_invoice`` undoes it by reversal.

Input is the parsed-invoice shape of ../shared/invoice.schema.json (a dict, or
any object with ``to_json_dict()``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import update
from sqlmodel import Session, select

from erp.audit import audit
from erp.chart import full_name
from erp.config import Settings
from erp.errors import ErpError
from erp.models import Account, Invoice, InvoiceLine, Party, Product, Voucher
from erp.parties import by_tax_id, find_or_create_by_invoice
from erp.posting_rules import choose, item_category, load_rules
from erp.products import active_products, create_product, match_invoice_line, next_sku
from erp.receivables import offset_red_invoice
from erp.stock import default_warehouse, move_in, move_out, reverse_moves, stock_account
from erp.vouchers import (
    Line,
    as_lines,
    create_voucher,
    first_open_day,
    is_closed,
    lines_of,
    needs_approval,
    period_of,
    post_voucher,
    replace_lines,
    request_approval,
    void_voucher,
)
from values import clock
from values.money import ZERO, MoneyError, fmt, parse_decimal, q2, qty, to_str2

VAT_IN = "22210101"
VAT_OUT = "22210102"
IN_TRANSIT = "1402"


@dataclass
class DraftLine:
    name: str
    category: str
    spec: str | None
    unit: str | None
    quantity: Decimal | None
    unit_price: str | None
    amount: Decimal
    tax_rate: str | None
    tax: Decimal
    account_code: str
    is_stock: bool
    vat_deductible: bool
    product_id: int | None = None
    candidates: list[tuple[int, str, float]] = field(default_factory=list)  # (product id, label, score)

    @property
    def cost(self) -> Decimal:
        """What the line costs the company: amount, plus the VAT it cannot deduct."""
        return self.amount if self.vat_deductible else self.amount + self.tax


@dataclass
class InvoiceDraft:
    direction: str | None
    invoice_type: str
    is_red: bool
    number: str | None
    code: str | None
    issue_date: dt.date | None
    seller_name: str | None
    seller_tax_id: str | None
    buyer_name: str | None
    buyer_tax_id: str | None
    total_amount: Decimal
    total_tax: Decimal
    total: Decimal
    party_id: int | None
    party_name: str | None
    party_tax_id: str | None
    lines: list[DraftLine]
    voucher_date: dt.date | None
    voucher_lines: list[Line]
    warnings: list[str]
    duplicate_of: str | None
    parsed: dict
    notes: list[str] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        """Warnings first, then notes: what a person reviewing the draft should read."""
        return [*self.warnings, *self.notes]

    @property
    def dedup_key(self) -> str:
        return dedup_key(self.seller_tax_id, self.seller_name, self.code, self.number)

    @property
    def summary(self) -> str:
        word = "采购" if self.direction == "purchase" else "销售"
        red = "红字" if self.is_red else ""
        return f"{word}{red}发票 {self.number or ''} {self.party_name or ''}".strip()[:128]

    def to_json(self, session: Session) -> dict:
        """The voucher part of ``invoice draft --json``."""
        names = {}
        for ln in self.voucher_lines:
            if ln.account_code not in names:
                names[ln.account_code] = full_name(session, ln.account_code)
        return {
            "direction": self.direction,
            "duplicate_of": self.duplicate_of,
            "voucher": {
                "date": self.voucher_date.isoformat() if self.voucher_date else None,
                "word": "记",
                "lines": [
                    {
                        "summary": ln.summary,
                        "account_code": ln.account_code,
                        "account_name": names[ln.account_code],
                        "party": self.party_name if ln.party_id is not None or _needs_party(ln) else None,
                        "debit": to_str2(ln.debit),
                        "credit": to_str2(ln.credit),
                    }
                    for ln in self.voucher_lines
                ],
            },
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }


def _needs_party(ln: Line) -> bool:
    return ln.account_code in ("1122", "2202", "2203", "1123")


def dedup_key(
    seller_tax_id: str | None, seller_name: str | None, code: str | None, number: str | None
) -> str:
    return f"{(seller_tax_id or seller_name or '').strip().upper()}|{code or ''}{number or ''}"[:80]


def _as_dict(parsed: object) -> dict:
    if isinstance(parsed, Mapping):
        return dict(parsed)
    to_json = getattr(parsed, "to_json_dict", None)
    if callable(to_json):
        return to_json()
    raise TypeError(f"not a parsed invoice: {type(parsed).__name__}")


def _dec(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return parse_decimal(str(value))
    except MoneyError:
        return None


def tax_rate_value(text: str | None) -> Decimal:
    if not text or text in ("免税", "不征税", "***"):
        return ZERO
    try:
        return parse_decimal(text.replace("%", "")) / 100
    except MoneyError:
        return ZERO


def direction_of(parsed: Mapping, settings: Settings) -> str | None:
    """We are the buyer -> purchase; we are the seller -> sales; else None."""
    ours_id = (settings.company_tax_id or "").upper()
    ours_name = settings.company_name or ""
    buyer = parsed.get("buyer") or {}
    seller = parsed.get("seller") or {}
    if ours_id and (buyer.get("tax_id") or "").upper() == ours_id:
        return "purchase"
    if ours_id and (seller.get("tax_id") or "").upper() == ours_id:
        return "sales"
    if ours_name and buyer.get("name") == ours_name:
        return "purchase"
    if ours_name and seller.get("name") == ours_name:
        return "sales"
    return None


def find_duplicate(
    session: Session, *, key: str | None = None, file_sha256: str | None = None
) -> Invoice | None:
    if key:
        inv = session.exec(select(Invoice).where(Invoice.dedup_key == key)).first()
        if inv is not None:
            return inv
    if file_sha256:
        return session.exec(select(Invoice).where(Invoice.file_sha256 == file_sha256)).first()
    return None


def _voucher_number(session: Session, invoice: Invoice | None) -> str | None:
    if invoice is None or invoice.voucher_id is None:
        return None
    v = session.get(Voucher, invoice.voucher_id)
    return v.number if v else None


def draft_from_invoice(
    session: Session,
    parsed: object,
    settings: Settings,
    *,
    direction: str | None = None,
    today: dt.date | None = None,
) -> InvoiceDraft:
    """Propose the booking of one parsed invoice. Reads the book, writes nothing."""
    data = _as_dict(parsed)
    warnings: list[str] = list(data.get("warnings") or [])
    notes: list[str] = []  # things to know that are not problems (a new supplier, a new product)
    direction = direction or direction_of(data, settings)
    if direction is None:
        warnings.append(f"买方和卖方都不是本公司（{settings.company_name}），无法判断采购还是销售")
    seller = data.get("seller") or {}
    buyer = data.get("buyer") or {}
    other = seller if direction == "purchase" else buyer
    is_red = bool(data.get("is_red"))
    invoice_type = data.get("invoice_type") or "normal"
    issue_date = dt.date.fromisoformat(data["issue_date"]) if data.get("issue_date") else None
    sign = Decimal(-1) if is_red else Decimal(1)

    def signed(value: object) -> Decimal:
        d = _dec(value)
        if d is None:
            return ZERO
        d = q2(d)
        return -abs(d) if is_red else d

    total_amount = signed(data.get("total_amount"))
    total_tax = signed(data.get("total_tax"))
    total = signed(data.get("total"))
    if total == 0 and (total_amount or total_tax):
        total = total_amount + total_tax

    party: Party | None = None
    if direction:
        party = by_tax_id(session, other.get("tax_id"))
        if party is None and other.get("name"):
            party = session.exec(select(Party).where(Party.name == other["name"])).first()
        if party is None:
            if other.get("name"):
                notes.append(f"新往来单位：{other.get('name')}（入账时自动建档）")
            else:
                warnings.append("发票上没有对方名称")

    rules = load_rules(session)
    catalogue: list[Product] | None = None  # loaded on the first goods line, once per invoice
    lines: list[DraftLine] = []
    for raw in data.get("lines") or []:
        name = raw.get("name") or ""
        category = item_category(name)
        choice = choose(
            rules, direction=direction or "purchase", invoice_type=invoice_type, category=category
        )
        amount = signed(raw.get("amount"))
        tax = signed(raw.get("tax"))
        quantity = _dec(raw.get("quantity"))
        if quantity is not None:
            quantity = qty(abs(quantity) * sign)
        line = DraftLine(
            name=name,
            category=category,
            spec=raw.get("spec"),
            unit=raw.get("unit"),
            quantity=quantity,
            unit_price=raw.get("unit_price"),
            amount=amount,
            tax_rate=raw.get("tax_rate"),
            tax=tax,
            account_code=choice.account_code,
            is_stock=choice.is_stock,
            vat_deductible=choice.vat_deductible and direction == "purchase",
        )
        if line.is_stock:
            if catalogue is None:
                catalogue = active_products(session)
            product, candidates = match_invoice_line(session, name, line.spec, products=catalogue)
            if product is not None:
                line.product_id = product.id
                line.account_code = stock_account(product) if direction == "purchase" else line.account_code
            else:
                line.candidates = [
                    (m.item.id, f"{m.item.sku} {m.item.name}", round(m.score, 1)) for m in candidates
                ]
                plain = name.split("*")[-1]
                if candidates:
                    labels = "、".join(lbl for _, lbl, _ in line.candidates)
                    warnings.append(f"商品「{plain}」匹配不确定，候选：{labels}；请确认")
                elif direction == "purchase" and is_red:
                    # a return of goods we cannot find: nothing can leave stock, so 1405 must not move
                    line.account_code = IN_TRANSIT
                    line.is_stock = False
                    warnings.append(f"退货商品「{plain}」未找到，暂记 1402 在途物资，请核对")
                elif direction == "purchase":
                    notes.append(f"新商品「{plain}」（入账时自动建档）")
                else:
                    warnings.append(f"商品「{plain}」未找到，销售不结转成本")
            if line.quantity is None or line.quantity == 0:
                if direction == "purchase":
                    line.account_code = IN_TRANSIT
                    warnings.append(f"「{name}」缺少数量，暂记 1402 在途物资，补录数量后再入库")
                line.is_stock = False
        lines.append(line)

    if lines:
        line_amount = sum((ln.amount for ln in lines), ZERO)
        line_tax = sum((ln.tax for ln in lines), ZERO)
        if line_amount != total_amount:
            warnings.append(f"明细金额合计 {fmt(line_amount)} 与发票合计金额 {fmt(total_amount)} 不符")
        if line_tax != total_tax:
            warnings.append(f"明细税额合计 {fmt(line_tax)} 与发票合计税额 {fmt(total_tax)} 不符")
    if total != total_amount + total_tax:
        warnings.append(f"价税合计 {fmt(total)} 不等于金额 {fmt(total_amount)} + 税额 {fmt(total_tax)}")

    today = today or clock.today()
    voucher_date = issue_date
    if voucher_date is not None and is_closed(session, period_of(voucher_date)):
        closed = period_of(voucher_date)
        voucher_date = first_open_day(session, voucher_date, today=today)
        warnings.append(f"发票日期所在期间 {closed} 已结账，凭证记入 {voucher_date.isoformat()}")
    if voucher_date is None:
        warnings.append("缺少开票日期")

    party_name = (party.name if party else other.get("name")) if direction else None
    number = data.get("number")
    key = dedup_key(seller.get("tax_id"), seller.get("name"), data.get("code"), number)
    dup = find_duplicate(session, key=key) if number else None

    draft = InvoiceDraft(
        direction=direction,
        invoice_type=invoice_type,
        is_red=is_red,
        number=number,
        code=data.get("code"),
        issue_date=issue_date,
        seller_name=seller.get("name"),
        seller_tax_id=(seller.get("tax_id") or None),
        buyer_name=buyer.get("name"),
        buyer_tax_id=(buyer.get("tax_id") or None),
        total_amount=total_amount,
        total_tax=total_tax,
        total=total,
        party_id=party.id if party else None,
        party_name=party_name,
        party_tax_id=other.get("tax_id") if direction else None,
        lines=lines,
        voucher_date=voucher_date,
        voucher_lines=[],
        warnings=warnings,
        duplicate_of=_voucher_number(session, dup) or (dup.number if dup else None),
        parsed=data,
        notes=notes,
    )
    if dup is not None:
        warnings.append(f"重复发票：已入账（{draft.duplicate_of}）")
    draft.voucher_lines = voucher_lines_for(draft)
    return draft


def voucher_lines_for(draft: InvoiceDraft) -> list[Line]:
    """Pure: the voucher for an invoice draft (cost of sales is added when it posts).

    Purchase: Dr stock/expense (cost), Dr 22210101 deductible VAT, Cr 2202 total.
    Sales:    Dr 1122 total, Cr revenue (amount), Cr 22210102 VAT.
    Red invoices give the same lines in red (negative amounts).
    """
    if draft.direction is None or not draft.lines:
        return []
    summary = draft.summary
    party = draft.party_id
    out: list[Line] = []
    by_account: dict[str, Decimal] = {}
    for ln in draft.lines:
        value = ln.cost if draft.direction == "purchase" else ln.amount
        by_account[ln.account_code] = by_account.get(ln.account_code, ZERO) + value
    if draft.direction == "purchase":
        for code, value in by_account.items():
            if value:
                out.append(Line(code, debit=value, summary=summary))
        vat = sum((ln.tax for ln in draft.lines if ln.vat_deductible), ZERO)
        if vat:
            out.append(Line(VAT_IN, debit=vat, summary=summary))
        credit = sum((ln.debit for ln in out), ZERO)
        out.append(Line("2202", credit=credit, summary=summary, party_id=party))
    else:
        vat = sum((ln.tax for ln in draft.lines), ZERO)
        revenue = [Line(code, credit=value, summary=summary) for code, value in by_account.items() if value]
        if vat:
            revenue.append(Line(VAT_OUT, credit=vat, summary=summary))
        debit = sum((ln.credit for ln in revenue), ZERO)
        out = [Line("1122", debit=debit, summary=summary, party_id=party), *revenue]
    return out


def save_draft(
    session: Session,
    draft: InvoiceDraft,
    *,
    actor_id: int | None = None,
    file_sha256: str | None = None,
    file_path: str | None = None,
) -> Invoice:
    """Write the invoice, its lines and its draft voucher. Refuses duplicates and incomplete invoices."""
    if file_sha256:
        dup = find_duplicate(session, file_sha256=file_sha256)
        if dup is not None:
            raise ErpError(
                "DUPLICATE_FILE", number=dup.number, voucher=_voucher_number(session, dup) or "草稿"
            )
    if draft.direction is None:
        from erp.config import get_settings

        raise ErpError("NO_DIRECTION", company=get_settings().company_name)
    missing = [
        label
        for label, value in (
            ("发票号码", draft.number),
            ("开票日期", draft.issue_date),
            ("价税合计", draft.total or None),
        )
        if not value
    ]
    if not draft.lines:
        missing.append("货物或服务明细")
    if missing:
        raise ErpError("INVOICE_INCOMPLETE", why="缺少" + "、".join(missing))
    dup = find_duplicate(session, key=draft.dedup_key)
    if dup is not None:
        raise ErpError(
            "DUPLICATE_INVOICE",
            seller=draft.seller_name or draft.seller_tax_id,
            number=draft.number,
            voucher=_voucher_number(session, dup) or "草稿",
        )
    kind = "supplier" if draft.direction == "purchase" else "customer"
    party, _created, warnings = find_or_create_by_invoice(
        session, name=draft.party_name, tax_id=draft.party_tax_id, kind=kind
    )
    if party is None:
        raise ErpError("INVOICE_INCOMPLETE", why="缺少对方单位名称")
    draft.party_id = party.id
    draft.warnings.extend(w for w in warnings if w not in draft.warnings)
    invoice = Invoice(
        direction=draft.direction,
        invoice_type=draft.invoice_type,
        is_red=draft.is_red,
        number=draft.number,
        code=draft.code,
        dedup_key=draft.dedup_key,
        issue_date=draft.issue_date,
        party_id=party.id,
        seller_name=draft.seller_name,
        seller_tax_id=draft.seller_tax_id,
        buyer_name=draft.buyer_name,
        buyer_tax_id=draft.buyer_tax_id,
        total_amount=draft.total_amount,
        total_tax=draft.total_tax,
        total=draft.total,
        status="draft",
        file_sha256=file_sha256,
        file_path=file_path,
        parsed_json=json.dumps(draft.parsed, ensure_ascii=False, default=str),
        created_by=actor_id,
    )
    if draft.is_red:
        invoice.original_invoice_id = _original_of(session, draft)
    session.add(invoice)
    session.flush()
    for i, ln in enumerate(draft.lines, start=1):
        session.add(
            InvoiceLine(
                invoice_id=invoice.id,
                line_no=i,
                name=ln.name[:128],
                category=ln.category or None,
                spec=ln.spec,
                unit=ln.unit,
                quantity=ln.quantity,
                unit_price=ln.unit_price,
                amount=ln.amount,
                tax_rate=ln.tax_rate,
                tax=ln.tax,
                product_id=ln.product_id,
                account_code=ln.account_code,
                vat_deductible=ln.vat_deductible,
            )
        )
    lines = voucher_lines_for(draft)
    voucher = create_voucher(
        session,
        date=draft.voucher_date,
        lines=lines,
        summary=draft.summary,
        created_by=actor_id,
        source_type="invoice",
        source_id=invoice.id,
    )
    invoice.voucher_id = voucher.id
    session.add(invoice)
    session.flush()
    audit(session, "invoice", invoice.id, "create", actor_id, number=invoice.number, voucher=voucher.number)
    return invoice


def _original_of(session: Session, draft: InvoiceDraft) -> int | None:
    """A red invoice names its blue original in the remarks (对应正数发票号码…)."""
    import re

    remarks = (draft.parsed.get("remarks") or "") if draft.parsed else ""
    m = re.search(r"(?:发票号码|号码)[:：\s]*(\d{8,20})", remarks)
    if not m:
        return None
    inv = session.exec(
        select(Invoice).where(Invoice.number == m.group(1), Invoice.direction == draft.direction)
    ).first()
    return inv.id if inv else None


@dataclass
class UnsureLine:
    line_no: int
    name: str
    candidates: list[tuple[int, str, float]]  # (product id, "SKU name", score)


def unsure_lines(session: Session, invoice: Invoice) -> list[UnsureLine]:
    """Goods lines whose product is not decided while several products look alike.

    Posting such a line would have to guess (an existing product, or a new one), so
    ``confirm_invoice`` refuses until ``choose_line_product`` has been called for it.
    """
    out: list[UnsureLine] = []
    catalogue: list[Product] | None = None
    rows = session.exec(
        select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id).order_by(InvoiceLine.line_no)
    )
    for ln in rows.all():
        stockish = ln.account_code in ("1403", "1405") if invoice.direction == "purchase" else True
        if ln.product_id is not None or not stockish or not ln.quantity:
            continue
        if catalogue is None:
            catalogue = active_products(session)
        product, candidates = match_invoice_line(session, ln.name, ln.spec, products=catalogue)
        if product is None and candidates:
            out.append(
                UnsureLine(
                    ln.line_no,
                    ln.name,
                    [(m.item.id, f"{m.item.sku} {m.item.name}", round(m.score, 1)) for m in candidates],
                )
            )
    return out


def choose_line_product(
    session: Session, invoice_id: int, line_no: int, product_id: int | None, *, actor_id: int | None
) -> InvoiceLine:
    """Settle an unsure match: the chosen product, or (None) a new product made from the line."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise ErpError("NOT_FOUND", what="发票", key=invoice_id)
    if invoice.status != "draft":
        raise ErpError("VOUCHER_STATE", number=invoice.number, state=invoice.status, action="修改商品")
    line = session.exec(
        select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id, InvoiceLine.line_no == line_no)
    ).first()
    if line is None:
        raise ErpError("NOT_FOUND", what="发票行", key=line_no)
    if product_id is None:
        product = create_product(
            session,
            sku=next_sku(session),
            name=line.name.split("*")[-1] or line.name,
            spec=line.spec,
            unit=line.unit,
            category="原材料" if line.account_code == "1403" else line.category,
            tax_category=line.category,
            tax_rate=tax_rate_value(line.tax_rate),
        )
    else:
        product = session.get(Product, product_id)
        if product is None:
            raise ErpError("NOT_FOUND", what="商品", key=product_id)
    line.product_id = product.id
    session.add(line)
    session.flush()
    audit(session, "invoice", invoice.id, "choose_product", actor_id, line=line_no, product=product.sku)
    return line


@dataclass
class ConfirmResult:
    invoice: Invoice
    voucher: Voucher
    outcome: str  # posted | already_posted | needs_approval


def confirm_invoice(
    session: Session,
    invoice_id: int,
    settings: Settings,
    *,
    actor_id: int | None = None,
    approved: bool = False,
) -> ConfirmResult:
    """✅ 确认入账: post the invoice's voucher, or ask for approval above the threshold.

    Idempotent: confirming a posted invoice reports ``already_posted`` and changes nothing.
    """
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise ErpError("NOT_FOUND", what="发票", key=invoice_id)
    voucher = session.get(Voucher, invoice.voucher_id)
    if invoice.status == "posted" or voucher.status == "posted":
        return ConfirmResult(invoice, voucher, "already_posted")
    if invoice.status == "void" or voucher.status == "void":
        raise ErpError("VOUCHER_STATE", number=voucher.number, state="已作废", action="入账")
    for unsure in unsure_lines(session, invoice):
        raise ErpError(
            "PRODUCT_UNSURE",
            line=unsure.line_no,
            name=unsure.name,
            candidates="、".join(label for _, label, _ in unsure.candidates),
        )
    if needs_approval(voucher, settings) and not approved:
        request_approval(session, voucher, actor_id)
        return ConfirmResult(invoice, voucher, "needs_approval")
    # Claim the invoice: of two confirms racing (a double tap, a replayed update,
    # two bot processes), exactly one moves it out of 'draft'.
    claimed = session.execute(
        update(Invoice).where(Invoice.id == invoice.id, Invoice.status == "draft").values(status="posting")
    ).rowcount
    session.refresh(invoice)
    session.refresh(voucher)
    if claimed != 1:
        if invoice.status == "posted":
            return ConfirmResult(invoice, voucher, "already_posted")
        raise ErpError("VOUCHER_STATE", number=voucher.number, state=invoice.status, action="入账")
    _apply_invoice(session, invoice, voucher, settings, actor_id)
    post_voucher(session, voucher, settings, actor_id)
    return ConfirmResult(invoice, voucher, "posted")


def _apply_invoice(
    session: Session, invoice: Invoice, voucher: Voucher, settings: Settings, actor_id: int | None
) -> None:
    """Stock moves, cost of sales, the open item and red offsets: what posting an invoice means."""
    party = session.get(Party, invoice.party_id)
    lines = session.exec(
        select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id).order_by(InvoiceLine.line_no)
    ).all()
    wh = default_warehouse(session)
    cogs: dict[str, Decimal] = {}
    for ln in lines:
        if ln.account_code is None or ln.quantity is None or ln.quantity == 0:
            continue
        stockish = (
            ln.account_code in ("1403", "1405")
            if invoice.direction == "purchase"
            else ln.product_id is not None
        )
        if not stockish:
            continue
        product = session.get(Product, ln.product_id) if ln.product_id else None
        if product is None:
            if invoice.direction != "purchase" or ln.amount < 0:
                continue
            product = create_product(
                session,
                sku=next_sku(session),
                name=ln.name.split("*")[-1] or ln.name,
                spec=ln.spec,
                unit=ln.unit,
                category="原材料" if ln.account_code == "1403" else ln.category,
                tax_category=ln.category,
                tax_rate=tax_rate_value(ln.tax_rate),
            )
            ln.product_id = product.id
            session.add(ln)
        # the same cost the voucher debited for this line: without its VAT only if that VAT was deducted
        if ln.vat_deductible is None:  # a line drafted before the choice was kept: as the voucher shows
            ln.vat_deductible = invoice.invoice_type == "special" and any(
                r.account_code == VAT_IN for r in lines_of(session, voucher.id)
            )
        cost = ln.amount if ln.vat_deductible else ln.amount + ln.tax
        if invoice.direction == "purchase":
            if ln.quantity > 0:
                move_in(
                    session,
                    product=product,
                    warehouse_id=wh.id,
                    quantity=ln.quantity,
                    amount=cost,
                    date=voucher.date,
                    kind="purchase",
                    source_type="invoice",
                    source_id=invoice.id,
                    voucher_id=voucher.id,
                )
            else:  # red purchase: goods go back to the supplier at their invoice cost
                move_out(
                    session,
                    product=product,
                    warehouse_id=wh.id,
                    quantity=-ln.quantity,
                    amount=-cost,
                    date=voucher.date,
                    kind="purchase",
                    settings=settings,
                    source_type="invoice",
                    source_id=invoice.id,
                    voucher_id=voucher.id,
                )
        else:
            if ln.quantity > 0:
                move = move_out(
                    session,
                    product=product,
                    warehouse_id=wh.id,
                    quantity=ln.quantity,
                    date=voucher.date,
                    kind="sale",
                    settings=settings,
                    source_type="invoice",
                    source_id=invoice.id,
                    voucher_id=voucher.id,
                )
                value = -move.amount
            else:  # red sale: goods come back at the current average cost
                value = q2(-ln.quantity * product.avg_cost)
                move_in(
                    session,
                    product=product,
                    warehouse_id=wh.id,
                    quantity=-ln.quantity,
                    amount=value,
                    date=voucher.date,
                    kind="sale",
                    source_type="invoice",
                    source_id=invoice.id,
                    voucher_id=voucher.id,
                )
                value = -value
            ln.cost_amount = value
            session.add(ln)
            acc = stock_account(product)
            cogs[acc] = cogs.get(acc, ZERO) + value
    # stock carried at no cost (e.g. a count gain before any purchase) leaves at no cost: no zero lines
    cogs = {acc: v for acc, v in cogs.items() if v}
    if cogs:
        current = as_lines(lines_of(session, voucher.id))
        summary = f"结转成本 {invoice.number}"
        total = sum(cogs.values(), ZERO)
        extra = [Line("5401", debit=total, summary=summary)] + [
            Line(acc, credit=v, summary=summary) for acc, v in cogs.items()
        ]
        # adding the cost of sales is part of posting, not a change to what the manager approved
        was_approved, approver = voucher.status == "approved", voucher.approved_by
        replace_lines(session, voucher, current + extra, actor_id)
        if was_approved and voucher.status == "draft":
            voucher.status = "approved"
            voucher.approved_by = approver
            session.add(voucher)
    if invoice.direction == "sales" or invoice.direction == "purchase":
        invoice.due_date = invoice.issue_date + dt.timedelta(days=party.credit_days if party else 0)
    invoice.status = "posted"
    session.add(invoice)
    session.flush()
    if invoice.is_red:
        offset_red_invoice(session, invoice, voucher.date)
    audit(session, "invoice", invoice.id, "post", actor_id, voucher=voucher.number)


def approve_invoice(
    session: Session, invoice_id: int, settings: Settings, *, manager_id: int | None
) -> ConfirmResult:
    """A manager's ✅: approve and post in one step."""
    from erp.vouchers import approve_voucher

    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise ErpError("NOT_FOUND", what="发票", key=invoice_id)
    voucher = session.get(Voucher, invoice.voucher_id)
    if voucher.status == "posted":
        return ConfirmResult(invoice, voucher, "already_posted")
    approve_voucher(session, voucher, manager_id)
    return confirm_invoice(session, invoice_id, settings, actor_id=manager_id, approved=True)


def change_line_account(
    session: Session, invoice_id: int, voucher_line_no: int, account_code: str, *, actor_id: int | None
) -> Voucher:
    """✏️ 改科目: put one line of a draft voucher on another account."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise ErpError("NOT_FOUND", what="发票", key=invoice_id)
    voucher = session.get(Voucher, invoice.voucher_id)
    account = session.get(Account, account_code)
    if account is None:
        raise ErpError("UNKNOWN_ACCOUNT", code=account_code)
    lines = as_lines(lines_of(session, voucher.id))
    if not 1 <= voucher_line_no <= len(lines):
        raise ErpError("NOT_FOUND", what="分录行", key=voucher_line_no)
    old = lines[voucher_line_no - 1].account_code
    lines[voucher_line_no - 1].account_code = account_code
    if account.aux_party and lines[voucher_line_no - 1].party_id is None:
        lines[voucher_line_no - 1].party_id = invoice.party_id
    replace_lines(session, voucher, lines, actor_id)
    # keep the invoice lines' accounts in step, so posting moves stock only for stock accounts
    for ln in session.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)).all():
        if ln.account_code == old:
            ln.account_code = account_code
            session.add(ln)
    session.flush()
    return voucher


def void_invoice(
    session: Session, invoice_id: int, settings: Settings, *, actor_id: int | None, reason: str = ""
) -> Voucher | None:
    """❌ 作废: a draft is dropped (void); a posted invoice is reversed (voucher, stock, open item)."""
    from erp.models import Allocation

    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise ErpError("NOT_FOUND", what="发票", key=invoice_id)
    if invoice.status == "void":
        return None
    voucher = session.get(Voucher, invoice.voucher_id) if invoice.voucher_id else None
    reversal = None
    if invoice.status == "posted":
        settled = session.exec(
            select(Allocation).where(
                Allocation.invoice_id == invoice.id,
                Allocation.void.is_(False),
                Allocation.settlement_id.is_not(None),
            )
        ).first()
        if settled is not None:
            raise ErpError(
                "VOUCHER_STATE",
                number=voucher.number if voucher else invoice.number,
                state="已收付款",
                action="作废（请先冲销收付款）",
            )
        reversal = void_voucher(session, voucher, actor_id, reason=reason) if voucher else None
        reverse_moves(
            session,
            source_type="invoice",
            source_id=invoice.id,
            date=reversal.date if reversal else first_open_day(session, clock.today()),
            settings=settings,
        )
        for a in session.exec(
            select(Allocation).where(
                (Allocation.invoice_id == invoice.id) | (Allocation.credit_invoice_id == invoice.id)
            )
        ).all():
            a.void = True
            session.add(a)
    elif voucher is not None:
        void_voucher(session, voucher, actor_id, reason=reason)
    # free the duplicate keys so a corrected invoice can be booked again
    audit(
        session,
        "invoice",
        invoice.id,
        "void",
        actor_id,
        reason=reason,
        sha256=invoice.file_sha256,
        key=invoice.dedup_key,
    )
    invoice.dedup_key = f"{invoice.dedup_key}#void{invoice.id}"[:80]
    invoice.file_sha256 = None
    invoice.status = "void"
    session.add(invoice)
    session.flush()
    return reversal


def book_invoice(
    session: Session,
    parsed: object,
    settings: Settings,
    *,
    actor_id: int | None = None,
    file_sha256: str | None = None,
    direction: str | None = None,
    post: bool = True,
) -> ConfirmResult:
    """Draft, save and (optionally) confirm in one call: the CLI, bulk import and demo use it."""
    draft = draft_from_invoice(session, parsed, settings, direction=direction)
    invoice = save_draft(session, draft, actor_id=actor_id, file_sha256=file_sha256)
    if not post:
        return ConfirmResult(invoice, session.get(Voucher, invoice.voucher_id), "draft")
    return confirm_invoice(session, invoice.id, settings, actor_id=actor_id)
