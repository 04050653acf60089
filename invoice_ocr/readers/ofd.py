"""OFD (GB/T 33190, a zip of XML).

数电票: the page's TextObjects (plus the template's labels) become positioned
words for the common extractor; CustomData and CustomTag.xml values are facts
for the cross-check. Legacy 增值税电子发票: Doc_0/Attachs/original_invoice.xml
holds the invoice as data and is read as such.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from xml.etree import ElementTree as ET

from .. import errors
from ..errors import ReadError
from ..words import Document, Page, Word
from . import Limits

FORMAT = "ofd"
NS = "{http://www.ofdspec.org/2016}"
# CustomTag.xml element -> the fact name the checks know.
TAG_FACTS = {
    "InvoiceNo": "InvoiceNumber",
    "InvoiceCode": "InvoiceCode",
    "TaxExclusiveTotalAmount": "TotalAmWithoutTax",
    "TaxTotalAmount": "TotalTaxAm",
    "TaxInclusiveTotalAmount": "TotalTax-includedAmount",
    "BuyerTaxID": "BuyerIdNum",
    "SellerTaxID": "SellerIdNum",
    "IssueDate": "IssueTime",
}


def available() -> bool:
    return True


class OfdPackage:
    def __init__(self, data: bytes, limits: Limits) -> None:
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise ReadError("OFD 文件已损坏或不完整（不是有效的压缩包），无法读取") from exc
        if len(infos) > limits.max_zip_members:
            raise ReadError(f"OFD 压缩包里有 {len(infos)} 个文件，超过上限，不像是一张发票")
        total = sum(i.file_size for i in infos)
        if total > limits.max_unzipped_bytes:
            raise ReadError(f"OFD 解压后过大（{total / 1e6:.0f} MB），疑似压缩炸弹，拒绝读取")
        for i in infos:
            if i.compress_size and i.file_size / i.compress_size > 200 and i.file_size > 1_000_000:
                raise ReadError("OFD 压缩比异常（疑似压缩炸弹），拒绝读取")
        self.names = {i.filename.lstrip("/") for i in infos}
        self.limits = limits

    def xml(self, name: str) -> ET.Element | None:
        name = posixpath.normpath(name.lstrip("/"))
        if name not in self.names:
            return None
        try:
            with self.zip.open(name) as f:
                raw = f.read(self.limits.max_unzipped_bytes + 1)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
            raise ReadError("OFD 文件已损坏或不完整，无法读取") from exc
        try:
            return ET.fromstring(raw)
        except ET.ParseError as exc:
            raise ReadError(f"OFD 里的 {name} 不是有效的 XML，文件已损坏") from exc


def _deltas(text: str, spec: str | None, size: float) -> float:
    """Width of a TextCode run from its DeltaX ("g 19 1.5875" repeats)."""
    if not spec:
        return size * len(text)
    total = 0.0
    parts = spec.split()
    i = 0
    count = 0
    while i < len(parts):
        if parts[i] == "g" and i + 2 < len(parts):
            n = int(float(parts[i + 1]))
            total += n * float(parts[i + 2])
            count += n
            i += 3
        else:
            total += float(parts[i])
            count += 1
            i += 1
    last = text[-1:] if text else ""
    return total + (size if last and ord(last) > 0x2E80 else size * 0.5)


def _text_objects(root: ET.Element | None) -> tuple[list[Word], dict[str, str]]:
    words: list[Word] = []
    by_id: dict[str, str] = {}
    if root is None:
        return words, by_id
    for obj in root.iter(f"{NS}TextObject"):
        box = [float(v) for v in (obj.get("Boundary") or "0 0 0 0").split()]
        size = float(obj.get("Size") or 3.0)
        pieces = []
        for code in obj.iter(f"{NS}TextCode"):
            text = code.text or ""
            pieces.append(text)
            if not text.strip():
                continue
            x = box[0] + float(code.get("X") or 0)
            base = box[1] + float(code.get("Y") or size)
            width = _deltas(text, code.get("DeltaX"), size)
            words.append(Word(text.strip(), x, base - size, x + width, base + size * 0.15))
        by_id[obj.get("ID") or ""] = "".join(pieces)
    return words, by_id


def _page_size(root: ET.Element | None, default: tuple[float, float]) -> tuple[float, float]:
    if root is not None:
        box = root.find(f"{NS}Area/{NS}PhysicalBox")
        if box is not None and box.text:
            v = [float(x) for x in box.text.split()]
            return v[2], v[3]
    return default


def read(data: bytes, limits: Limits):  # type: ignore[no-untyped-def]
    pkg = OfdPackage(data, limits)
    ofd = pkg.xml("OFD.xml")
    if ofd is None:
        raise ReadError("不是有效的 OFD 文件（缺少 OFD.xml）")
    facts = {
        c.get("Name") or "": (c.text or "").strip()
        for c in ofd.iter(f"{NS}CustomData")
        if (c.text or "").strip()
    }
    root_el = ofd.find(f".//{NS}DocRoot")
    doc_root = (root_el.text or "").strip() if root_el is not None else "Doc_0/Document.xml"
    doc_dir = posixpath.dirname(doc_root)

    original = pkg.xml(posixpath.join(doc_dir, "Attachs", "original_invoice.xml"))
    if original is not None:
        from .xml_einvoice import from_legacy_xml

        return from_legacy_xml(original, facts, FORMAT)

    document = pkg.xml(doc_root)
    if document is None:
        raise ReadError("OFD 文件缺少 Document.xml，已损坏")
    default_size = (210.0, 140.0)
    box = document.find(f".//{NS}PageArea/{NS}PhysicalBox")
    if box is not None and box.text:
        v = [float(x) for x in box.text.split()]
        default_size = (v[2], v[3])
    templates = {}
    for t in document.iter(f"{NS}TemplatePage"):
        templates[t.get("ID")] = posixpath.join(doc_dir, t.get("BaseLoc") or "")
    pages: list[Page] = []
    all_ids: dict[str, str] = {}
    page_els = list(document.iter(f"{NS}Page"))
    if len(page_els) > limits.max_pages:
        raise ReadError(f"OFD 有 {len(page_els)} 页，超过上限 {limits.max_pages} 页")
    for p in page_els:
        loc = posixpath.join(doc_dir, p.get("BaseLoc") or "")
        content = pkg.xml(loc)
        words, ids = _text_objects(content)
        all_ids.update(ids)
        if content is not None:
            for tpl in content.iter(f"{NS}Template"):
                tpl_loc = templates.get(tpl.get("TemplateID"))
                if tpl_loc:
                    tw, _ = _text_objects(pkg.xml(tpl_loc))
                    words.extend(tw)
        w, h = _page_size(content, default_size)
        pages.append(Page(w, h, words))
    if not any(p.words for p in pages):
        raise ReadError(errors.NOT_INVOICE)
    tags = pkg.xml(posixpath.join(doc_dir, "Tags", "CustomTag.xml"))
    if tags is not None:
        for el in tags.iter():
            name = el.tag.replace(NS, "")
            if name in TAG_FACTS:
                refs = [all_ids.get((r.text or "").strip(), "") for r in el.iter(f"{NS}ObjectRef")]
                refs = list(dict.fromkeys(refs))  # a field repeated on every page is one value
                value = re.sub(r"[¥￥\s]", "", "".join(refs))
                if value:
                    facts.setdefault(TAG_FACTS[name], value)
    return Document(FORMAT, pages, facts)
