"""Render corpus invoices as text PDF, OFD, XML, 200-dpi scan and degraded phone photo.

The page layout lives in one function, ``draw_page``, written against a small
drawing interface so the PDF and OFD renderers share it. The top-left box
(``QR_BOX``) is left free for a QR code: pass ``qr`` (a PIL image) to draw one.
"""

from __future__ import annotations

import io
import random
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any, Protocol
from xml.sax.saxutils import escape

from values.money import to_str2

from .data import TruthInvoice

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
FONT = "WQY"
PAGE_W, PAGE_H = 595.28, 396.85  # 210 × 140 mm, the 数电票 page
QR_BOX = (18.0, 10.0, 74.0, 66.0)  # x0, top, x1, bottom in points
ROW_STEP = 11.5
COLS = {  # x and alignment of each table column's values
    "name": (14, "left"),
    "spec": (112, "left"),
    "unit": (203, "center"),
    "quantity": (292, "right"),
    "unit_price": (372, "right"),
    "amount": (436, "right"),
    "tax_rate": (472, "center"),
    "tax": (583, "right"),
}
HEADERS = (
    ("项目名称", 62),
    ("规格型号", 136),
    ("单 位", 203),
    ("数 量", 276),
    ("单 价", 346),
    ("金 额", 420),
    ("税率/征收率", 472),
    ("税 额", 563),
)
NAME_WRAP = 12  # characters of an item name per table line, as the platform wraps them


class Drawer(Protocol):
    def text(
        self, x: float, y: float, s: str, size: float = 8.5, align: str = "left", tag: str | None = None
    ) -> None:
        """Draw ``s`` with its baseline at ``y`` (points from the top)."""

    def rect(self, x0: float, top: float, x1: float, bottom: float) -> None: ...

    def image(self, img: Any, x0: float, top: float, x1: float, bottom: float) -> None: ...


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, FONT_PATH, subfontIndex=0))


def text_width(s: str, size: float) -> float:
    from reportlab.pdfbase import pdfmetrics

    _register_font()
    return pdfmetrics.stringWidth(s, FONT, size)


def money_text(v: Any) -> str:
    return to_str2(v) or ""


def table_rows(inv: TruthInvoice) -> list[dict[str, str]]:
    """Printed rows: each line, its long name wrapped onto continuation rows."""
    rows = []
    for ln in inv.lines:
        name = ln.name
        first, rest = name[:NAME_WRAP], name[NAME_WRAP:]
        rows.append(
            {
                "name": first,
                "spec": ln.spec or "",
                "unit": ln.unit or "",
                "quantity": ln.quantity or "",
                "unit_price": ln.unit_price or "",
                "amount": money_text(ln.amount),
                "tax_rate": ln.tax_rate,
                "tax": "***" if ln.tax_rate in ("免税", "不征税") else money_text(ln.tax),
                "_first": "1",
            }
        )
        while rest:
            rows.append({"name": rest[:NAME_WRAP]})
            rest = rest[NAME_WRAP:]
    return rows


def paginate(inv: TruthInvoice) -> list[list[dict[str, str]]]:
    """Split printed rows into pages, never separating a line from its continuation rows."""
    pages: list[list[dict[str, str]]] = [[]]
    count = 0
    for row in table_rows(inv):
        if row.get("_first") and count == inv.lines_per_page:
            pages.append([])
            count = 0
        if row.get("_first"):
            count += 1
        pages[-1].append(row)
    return pages


def draw_page(
    d: Drawer, inv: TruthInvoice, page_no: int, pages: list[list[dict[str, str]]], qr: Any = None
) -> None:
    """One invoice page. Page 0 carries the parties, the last page the totals."""
    last = page_no == len(pages) - 1
    title = "电子发票（增值税专用发票）" if inv.invoice_type == "special" else "电子发票（普通发票）"
    d.text(PAGE_W / 2, 38, title, size=15, align="center")
    if qr is not None:
        d.image(qr, *QR_BOX)
    d.text(438, 40, f"发票号码：{inv.number}", size=8.5, tag="InvoiceNo")
    d.text(
        438,
        57,
        f"开票日期：{inv.issue_date.year}年{inv.issue_date.month:02d}月{inv.issue_date.day:02d}日",
        tag="IssueDate",
    )
    if len(pages) > 1:
        d.text(438, 72, f"共{len(pages)}页 第{page_no + 1}页", size=7.5)
    top = 86.0
    if page_no == 0:
        d.rect(12, top, 586, top + 56)
        for k, ch in enumerate("购买方信息"):
            d.text(17, top + 12 + k * 10, ch, size=8)
        for k, ch in enumerate("销售方信息"):
            d.text(302, top + 12 + k * 10, ch, size=8)
        d.text(32, top + 17, f"名称：{inv.buyer_name}", tag="BuyerName")
        d.text(32, top + 43, f"统一社会信用代码/纳税人识别号：{inv.buyer_tax_id or ''}", tag="BuyerTaxID")
        d.text(317, top + 17, f"名称：{inv.seller_name}", tag="SellerName")
        d.text(317, top + 43, f"统一社会信用代码/纳税人识别号：{inv.seller_tax_id}", tag="SellerTaxID")
        top += 62
    for label, x in HEADERS:
        d.text(x, top + 10, label, align="center")
    y = top + 22
    for row in pages[page_no]:
        for col, (x, align) in COLS.items():
            value = row.get(col)
            if value:
                d.text(x, y, value, size=8, align=align)
        y += ROW_STEP
    if not last:
        return
    y = max(y + 6, 262.0)
    d.text(58, y, "合")
    d.text(103, y, "计")
    d.text(
        COLS["amount"][0], y, "¥" + money_text(inv.total_amount), align="right", tag="TaxExclusiveTotalAmount"
    )
    d.text(COLS["tax"][0], y, "¥" + money_text(inv.total_tax), align="right", tag="TaxTotalAmount")
    y += 18
    d.rect(12, y - 12, 586, y + 6)
    d.text(47, y, "价税合计（大写）")
    d.text(178, y, inv.total_in_words)
    d.text(407, y, f"（小写）¥{money_text(inv.total)}", tag="TaxInclusiveTotalAmount")
    y += 16
    d.text(17, y + 8, "备", size=8)
    d.text(17, y + 26, "注", size=8)
    if inv.remarks:
        d.text(33, y + 8, inv.remarks, size=8)
    d.text(56, 376, f"开票人：{inv.issuer}", tag="InvoiceClerk")


class PdfDrawer:
    def __init__(self, canvas: Any) -> None:
        self.c = canvas

    def text(
        self, x: float, y: float, s: str, size: float = 8.5, align: str = "left", tag: str | None = None
    ) -> None:
        self.c.setFont(FONT, size)
        yy = PAGE_H - y
        if align == "right":
            self.c.drawRightString(x, yy, s)
        elif align == "center":
            self.c.drawCentredString(x, yy, s)
        else:
            self.c.drawString(x, yy, s)

    def rect(self, x0: float, top: float, x1: float, bottom: float) -> None:
        self.c.setLineWidth(0.6)
        self.c.rect(x0, PAGE_H - bottom, x1 - x0, bottom - top)

    def image(self, img: Any, x0: float, top: float, x1: float, bottom: float) -> None:
        from reportlab.lib.utils import ImageReader

        self.c.drawImage(ImageReader(img), x0, PAGE_H - bottom, x1 - x0, bottom - top)


def to_pdf(inv: TruthInvoice, qr: Any = None) -> bytes:
    from reportlab.pdfgen import canvas

    _register_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(PAGE_W, PAGE_H))
    c.setTitle("电子发票")
    pages = paginate(inv)
    for k in range(len(pages)):
        draw_page(PdfDrawer(c), inv, k, pages, qr=qr)
        c.showPage()
    c.save()
    return buf.getvalue()


MM = 25.4 / 72


class OfdDrawer:
    """Collects TextObjects in millimetres, as an OFD page holds them."""

    def __init__(self, first_id: int) -> None:
        self.objects: list[str] = []
        self.tags: dict[str, list[int]] = {}
        self.next_id = first_id

    def text(
        self, x: float, y: float, s: str, size: float = 8.5, align: str = "left", tag: str | None = None
    ) -> None:
        cut = max(s.rfind("："), s.rfind("）"))
        if tag and align == "left" and cut >= 0:
            # The platform writes a field's label (template) and value (tagged) as separate objects.
            label, value = s[: cut + 1], s[cut + 1 :]
            self.text(x, y, label, size, align)
            if value:
                self.text(x + text_width(label, size), y, value, size, align, tag)
            return
        width = text_width(s, size)
        x0 = x - width if align == "right" else x - width / 2 if align == "center" else x
        deltas = " ".join(f"{text_width(ch, size) * MM:.4f}" for ch in s[:-1])
        oid = self.next_id
        self.next_id += 1
        box = f"{x0 * MM:.4f} {(y - size) * MM:.4f} {width * MM + 1:.4f} {size * 1.3 * MM:.4f}"
        delta_attr = f' DeltaX="{deltas}"' if deltas else ""
        self.objects.append(
            f'<ofd:TextObject ID="{oid}" Boundary="{box}" Font="1" Size="{size * MM:.4f}">'
            f'<ofd:TextCode X="0" Y="{size * MM:.4f}"{delta_attr}>{escape(s)}</ofd:TextCode></ofd:TextObject>'
        )
        if tag:
            self.tags.setdefault(tag, []).append(oid)

    def rect(self, x0: float, top: float, x1: float, bottom: float) -> None:
        pass

    def image(self, img: Any, x0: float, top: float, x1: float, bottom: float) -> None:
        pass


def to_ofd(inv: TruthInvoice) -> bytes:
    """A 数电票-style OFD: text objects on pages, CustomData and CustomTag.xml naming the key fields."""
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    pages = paginate(inv)
    files: dict[str, str] = {}
    tags: dict[str, list[tuple[int, int]]] = {}
    next_id = 10
    page_refs = []
    for k in range(len(pages)):
        d = OfdDrawer(next_id)
        draw_page(d, inv, k, pages)
        next_id = d.next_id
        for tag, ids in d.tags.items():
            tags.setdefault(tag, []).extend((k, i) for i in ids)
        files[f"Doc_0/Pages/Page_{k}/Content.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {ns}><ofd:Area><ofd:PhysicalBox>0 0 210 140</ofd:PhysicalBox>'
            f'</ofd:Area><ofd:Content><ofd:Layer ID="{next_id}">{"".join(d.objects)}</ofd:Layer></ofd:Content></ofd:Page>'
        )
        next_id += 1
        page_refs.append(f'<ofd:Page ID="{1000 + k}" BaseLoc="Pages/Page_{k}/Content.xml"/>')
    files["Doc_0/Document.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {ns}><ofd:CommonData><ofd:PageArea>'
        f"<ofd:PhysicalBox>0 0 210 140</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData>"
        f"<ofd:Pages>{''.join(page_refs)}</ofd:Pages></ofd:Document>"
    )
    custom = {
        "发票号码": inv.number,
        "开票日期": f"{inv.issue_date.year}年{inv.issue_date.month:02d}月{inv.issue_date.day:02d}日",
        "合计金额": money_text(inv.total_amount),
        "合计税额": money_text(inv.total_tax),
        "销售方纳税人识别号": inv.seller_tax_id,
    }
    if inv.buyer_tax_id:
        custom["购买方纳税人识别号"] = inv.buyer_tax_id
    datas = "".join(f'<ofd:CustomData Name="{k}">{escape(v)}</ofd:CustomData>' for k, v in custom.items())
    files["OFD.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {ns} DocType="OFD" Version="1.0"><ofd:DocBody><ofd:DocInfo>'
        f"<ofd:DocID>{inv.key}</ofd:DocID><ofd:CustomDatas>{datas}</ofd:CustomDatas></ofd:DocInfo>"
        f"<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
    )

    def refs(tag: str) -> str:
        return "".join(
            f'<ofd:ObjectRef PageRef="{1000 + p}">{i}</ofd:ObjectRef>' for p, i in tags.get(tag, [])
        )

    body = "".join(f"<ofd:{t}>{refs(t)}</ofd:{t}>" for t in tags)
    files["Doc_0/Tags/CustomTag.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:root {ns}>{body}</ofd:root>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def to_xml(inv: TruthInvoice) -> bytes:
    """The tax platform's 数电票 XML (root EInvoice) for the same data."""
    label = "增值税专用发票" if inv.invoice_type == "special" else "普通发票"
    items = []
    for ln in inv.lines:
        rate = ln.tax_rate if not ln.tax_rate.endswith("%") else str(int(ln.tax_rate[:-1]) / 100)
        items.append(
            "<IssuItemInformation>"
            f"<ItemName>{escape(ln.name)}</ItemName>"
            + (f"<SpecMod>{escape(ln.spec)}</SpecMod>" if ln.spec else "")
            + (f"<MeaUnits>{escape(ln.unit)}</MeaUnits>" if ln.unit else "")
            + f"<Quantity>{ln.quantity}</Quantity><UnPrice>{ln.unit_price}</UnPrice>"
            f"<Amount>{money_text(ln.amount)}</Amount><TaxRate>{rate}</TaxRate>"
            f"<ComTaxAm>{'***' if ln.tax_rate in ('免税', '不征税') else money_text(ln.tax)}</ComTaxAm>"
            "</IssuItemInformation>"
        )
    buyer_id = f"<BuyerIdNum>{inv.buyer_tax_id}</BuyerIdNum>" if inv.buyer_tax_id else ""
    remark = (
        f"<AdditionalInformation><Remark>{escape(inv.remarks)}</Remark></AdditionalInformation>"
        if inv.remarks
        else ""
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<EInvoice><Header><EIid>' + inv.number + "</EIid>"
        f"<InherentLabel><EInvoiceType><LabelName>电子发票</LabelName></EInvoiceType>"
        f"<GeneralOrSpecialVAT><LabelName>{label}</LabelName></GeneralOrSpecialVAT></InherentLabel></Header>"
        "<EInvoiceData>"
        f"<SellerInformation><SellerIdNum>{inv.seller_tax_id}</SellerIdNum><SellerName>{escape(inv.seller_name)}</SellerName></SellerInformation>"
        f"<BuyerInformation>{buyer_id}<BuyerName>{escape(inv.buyer_name)}</BuyerName></BuyerInformation>"
        f"<BasicInformation><TotalAmWithoutTax>{money_text(inv.total_amount)}</TotalAmWithoutTax>"
        f"<TotalTaxAm>{money_text(inv.total_tax)}</TotalTaxAm>"
        f"<TotalTax-includedAmount>{money_text(inv.total)}</TotalTax-includedAmount>"
        f"<TotalTax-includedAmountInChinese>{inv.total_in_words}</TotalTax-includedAmountInChinese>"
        f"<RequestTime>{inv.issue_date.isoformat()} 10:11:12</RequestTime><Drawer>{escape(inv.issuer)}</Drawer>"
        "</BasicInformation>" + "".join(items) + remark + "</EInvoiceData>"
        f"<TaxSupervisionInfo><InvoiceNumber>{inv.number}</InvoiceNumber><IssueTime>{inv.issue_date.isoformat()}</IssueTime>"
        "</TaxSupervisionInfo></EInvoice>"
    )
    return xml.encode("utf-8")


def scan_images(pdf: bytes, dpi: int = 200) -> Iterator[Any]:
    """Each page as a clean grayscale scan at ``dpi``."""
    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            yield page.to_image(resolution=dpi).original.convert("L")


def to_scan_png(inv: TruthInvoice, dpi: int = 200) -> bytes:
    """First-page scan as PNG (multi-page invoices scan to a PDF, see ``to_scan_pdf``)."""
    img = next(scan_images(to_pdf(inv), dpi))
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def to_scan_pdf(inv: TruthInvoice, dpi: int = 200) -> bytes:
    """All pages as an image-only PDF, as a scanner writes it."""
    imgs = [im.convert("RGB") for im in scan_images(to_pdf(inv), dpi)]
    buf = io.BytesIO()
    imgs[0].save(buf, "PDF", resolution=dpi, save_all=True, append_images=imgs[1:])
    return buf.getvalue()


def degrade(img: Any, seed: int, strength: float = 1.0) -> bytes:
    """A phone photo of a printed page: on a desk, tilted, in perspective, unevenly lit, blurred, noisy, JPEG."""
    import cv2
    import numpy as np
    from PIL import Image

    rng = random.Random(seed)
    page = np.array(img.convert("RGB"))
    h, w = page.shape[:2]
    pad = int(0.08 * w)
    bg_color = np.array([rng.randint(90, 150), rng.randint(80, 130), rng.randint(60, 110)], dtype=np.uint8)
    canvas = np.empty((h + 2 * pad, w + 2 * pad, 3), dtype=np.uint8)
    canvas[:] = bg_color
    canvas[pad : pad + h, pad : pad + w] = page
    H, W = canvas.shape[:2]
    src = np.float32([[pad, pad], [pad + w, pad], [pad + w, pad + h], [pad, pad + h]])
    j = 0.025 * w * strength
    dst = src + np.float32([[rng.uniform(-j, j), rng.uniform(-j, j)] for _ in range(4)])
    angle = rng.uniform(-4, 4) * strength
    centre = (W / 2, H / 2)
    rot = cv2.getRotationMatrix2D(centre, angle, 1.0)
    dst = cv2.transform(dst.reshape(1, 4, 2), rot).reshape(4, 2)
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    out = cv2.warpPerspective(
        canvas, m, (W, H), borderMode=cv2.BORDER_CONSTANT, borderValue=bg_color.tolist()
    )
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    gx, gy = rng.uniform(-1, 1), rng.uniform(-1, 1)
    light = 1.0 - 0.28 * strength * ((gx * (xx / W - 0.5) + gy * (yy / H - 0.5)) + 0.5)
    out = np.clip(out.astype(np.float32) * light[..., None], 0, 255)
    out = cv2.GaussianBlur(out, (0, 0), 0.6 + 0.5 * strength * rng.random())
    out = out + np.random.default_rng(seed).normal(0, 5 * strength, out.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    photo = Image.fromarray(out)
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=rng.randint(55, 75))
    return buf.getvalue()


def to_photo_jpeg(inv: TruthInvoice, seed: int | None = None, strength: float = 1.0) -> bytes:
    img = next(scan_images(to_pdf(inv), 200))
    # zlib.crc32, not hash(): str hashes change from run to run, the photo must not.
    return degrade(img, seed if seed is not None else zlib.crc32(inv.key.encode()), strength)
