"""Invoices that arrive as data: 数电票 XML (root EInvoice) and the legacy eInvoice XML inside OFD files.

These carry every field outright, so they map straight to a ParsedInvoice; the
same checks run on them afterwards.
"""

from __future__ import annotations

from decimal import Decimal
from xml.etree import ElementTree as ET

from ..errors import ReadError
from ..extract import normalise_rate, read_date, read_money
from ..model import Line, ParsedInvoice, Party
from . import Limits

FORMAT = "xml"
# Second field of a legacy GraphCode: the invoice kind.
LEGACY_KINDS = {
    "01": "special",
    "08": "special",
    "04": "normal",
    "10": "normal",
    "11": "normal",
    "14": "normal",
}


def available() -> bool:
    return True


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(el: ET.Element | None, *path: str) -> ET.Element | None:
    """First descendant following local names in order (namespaces ignored)."""
    if el is None:
        return None
    cur = el
    for name in path:
        nxt = None
        for c in cur.iter():
            if c is not cur and _local(c.tag) == name:
                nxt = c
                break
        if nxt is None:
            return None
        cur = nxt
    return cur


def _text(el: ET.Element | None, *path: str) -> str | None:
    found = _find(el, *path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el.iter() if _local(c.tag) == name]


def _xml_rate(text: str | None) -> str | None:
    if text is None:
        return None
    t = text.strip()
    try:
        d = Decimal(t)
    except ArithmeticError:
        return normalise_rate(t)
    if d < 1:
        d = d * 100
    return normalise_rate(f"{d.normalize():f}%")


def _plain(text: str | None) -> str | None:
    """Quantities and unit prices as printed: no trailing zeros invented or removed beyond the file's."""
    return text.strip() if text and text.strip() else None


def from_einvoice(root: ET.Element, fmt: str = FORMAT) -> ParsedInvoice:
    inv = ParsedInvoice(source="", format=fmt)
    label = (_text(root, "GeneralOrSpecialVAT", "LabelName") or "") + (
        _text(root, "EInvoiceType", "LabelName") or ""
    )
    basic = _find(root, "BasicInformation")
    if "专用" in label:
        inv.invoice_type = "special"
    elif "普通" in label:
        inv.invoice_type = "normal"
    inv.number = _text(root, "TaxSupervisionInfo", "InvoiceNumber") or _text(root, "Header", "EIid")
    issued = _text(root, "TaxSupervisionInfo", "IssueTime") or _text(basic, "RequestTime")
    if issued:
        inv.issue_date, problem = read_date(issued.replace("-", "年", 1).replace("-", "月", 1))
        if problem:
            inv.warn(problem, "issue_date")
    inv.seller = Party(
        _text(root, "SellerInformation", "SellerName"), _text(root, "SellerInformation", "SellerIdNum")
    )
    inv.buyer = Party(
        _text(root, "BuyerInformation", "BuyerName"), _text(root, "BuyerInformation", "BuyerIdNum")
    )
    inv.total_amount = read_money(_text(basic, "TotalAmWithoutTax"))
    inv.total_tax = read_money(_text(basic, "TotalTaxAm"))
    inv.total = read_money(_text(basic, "TotalTax-includedAmount"))
    inv.total_in_words = _text(basic, "TotalTax-includedAmountInChinese")
    inv.issuer = _text(basic, "Drawer")
    inv.remarks = _text(root, "AdditionalInformation", "Remark")
    for item in _children(root, "IssuItemInformation"):
        tax_text = _text(item, "ComTaxAm")
        inv.lines.append(
            Line(
                name=_text(item, "ItemName") or "",
                spec=_text(item, "SpecMod"),
                unit=_text(item, "MeaUnits"),
                quantity=_plain(_text(item, "Quantity")),
                unit_price=_plain(_text(item, "UnPrice")),
                amount=read_money(_text(item, "Amount")),
                tax_rate=_xml_rate(_text(item, "TaxRate")),
                tax=Decimal("0.00") if tax_text and "*" in tax_text else read_money(tax_text),
            )
        )
    inv.is_red = bool(inv.total is not None and inv.total < 0) or "红字" in label
    if inv.total_in_words is None:
        inv.meta["words_not_in_source"] = True
    return inv


def from_legacy_xml(root: ET.Element, facts: dict[str, str], fmt: str) -> ParsedInvoice:
    inv = ParsedInvoice(source="", format=fmt)
    inv.code = _text(root, "InvoiceCode")
    inv.number = _text(root, "InvoiceNo")
    graph = (_text(root, "GraphCode") or "").split(",")
    inv.invoice_type = LEGACY_KINDS.get(graph[1]) if len(graph) > 1 else None
    issued = _text(root, "IssueDate")
    if issued:
        inv.issue_date, problem = read_date(issued)
        if problem:
            inv.warn(problem, "issue_date")
    inv.buyer = Party(_text(root, "Buyer", "BuyerName"), _text(root, "Buyer", "BuyerTaxID"))
    inv.seller = Party(_text(root, "Seller", "SellerName"), _text(root, "Seller", "SellerTaxID"))
    inv.total = read_money(_text(root, "TaxInclusiveTotalAmount"))
    inv.total_tax = read_money(_text(root, "TaxTotalAmount"))
    inv.total_amount = read_money(_text(root, "TaxExclusiveTotalAmount"))
    inv.issuer = _text(root, "InvoiceClerk")
    inv.remarks = _text(root, "Note")
    for item in _children(root, "GoodsInfo"):
        inv.lines.append(
            Line(
                name=_text(item, "Item") or "",
                spec=_text(item, "Specification"),
                unit=_text(item, "MeasurementDimension"),
                quantity=_plain(_text(item, "Quantity")),
                unit_price=_plain(_text(item, "Price")),
                amount=read_money(_text(item, "Amount")),
                tax_rate=normalise_rate(_text(item, "TaxScheme")),
                tax=read_money(_text(item, "TaxAmount")),
            )
        )
    inv.meta["check_code"] = _text(root, "InvoiceCheckCode")
    inv.meta["machine_no"] = _text(root, "MachineNo")
    inv.meta["facts"] = facts
    inv.meta["words_not_in_source"] = True
    inv.is_red = bool(inv.total is not None and inv.total < 0)
    return inv


def read(data: bytes, limits: Limits) -> ParsedInvoice:
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data[:8192]:
        raise ReadError("XML 含有 DOCTYPE/实体声明，出于安全原因拒绝读取")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ReadError(f"XML 文件已损坏或不完整（{exc}），无法读取") from exc
    tag = _local(root.tag)
    if tag == "EInvoice":
        return from_einvoice(root)
    if tag.lower() == "einvoice":
        return from_legacy_xml(root, {}, FORMAT)
    raise ReadError(f"XML 根元素是 <{tag}>，不是电子发票（应为 EInvoice）")
