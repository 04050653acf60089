"""QR codes for corpus invoices: the payload a TruthInvoice's issuer would encode, its image, and photos.

The payload follows invoice_ocr/qr_payload.py (the samples' layout):
``01,<31|32>,,<20-digit number>,<价税合计>,<YYYYMMDD>,,<4 hex>``. Photos come
with the code intact, stained (error correction repairs it), damaged past
repair, cropped out of the frame, or with no code at all.
"""

from __future__ import annotations

import io
import random
import zipfile
import zlib
from typing import Any

from values.money import to_str2

from .data import TruthInvoice
from .render import QR_BOX, degrade, scan_images, to_ofd, to_pdf

QR_STATES = ("ok", "stained", "damaged", "cropped", "none")


def payload_for(inv: TruthInvoice) -> str:
    """The 数电票 QR text: type 31 专票 / 32 普票, no 发票代码, 价税合计 (signed on red invoices)."""
    type_code = "31" if inv.invoice_type == "special" else "32"
    day = inv.issue_date.strftime("%Y%m%d")
    check = f"{zlib.crc32(inv.key.encode()) & 0xFFFF:04X}"  # opaque on real invoices too
    return f"01,{type_code},,{inv.number},{to_str2(inv.total)},{day},,{check}"


def qr_image(text: str) -> Any:
    """A black-on-white QR code (PIL, mode L) as the platform prints it: error correction M."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=1)
    code.add_data(text)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("L")


def pdf_with_qr(inv: TruthInvoice, text: str | None = None) -> bytes:
    """The text PDF with the QR drawn in its top-left box (``text`` overrides the payload)."""
    return to_pdf(inv, qr=qr_image(text if text is not None else payload_for(inv)))


def ofd_with_qr(inv: TruthInvoice, text: str | None = None) -> bytes:
    """The OFD with the QR as a PNG resource and an ImageObject on page 0, as the platform stores it."""
    src = zipfile.ZipFile(io.BytesIO(to_ofd(inv)))
    png = io.BytesIO()
    qr_image(text if text is not None else payload_for(inv)).save(png, "PNG")
    mm = 25.4 / 72
    x0, top, x1, bottom = (v * mm for v in QR_BOX)
    image_object = (
        f'<ofd:ImageObject ID="9000" CTM="{x1 - x0:.2f} 0 0 {bottom - top:.2f} 0 0" '
        f'Boundary="{x0:.2f} {top:.2f} {x1 - x0:.2f} {bottom - top:.2f}" ResourceID="8999"/>'
    )
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            body = src.read(name)
            if name == "Doc_0/Pages/Page_0/Content.xml":
                body = body.replace(b"</ofd:Layer>", image_object.encode() + b"</ofd:Layer>", 1)
            dst.writestr(name, body)
        dst.writestr(
            "Doc_0/DocumentRes.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res {ns} BaseLoc="Res"><ofd:MultiMedias>'
            f'<ofd:MultiMedia ID="8999" Type="Image" Format="PNG"><ofd:MediaFile>qr.png</ofd:MediaFile>'
            f"</ofd:MultiMedia></ofd:MultiMedias></ofd:Res>",
        )
        dst.writestr("Doc_0/Res/qr.png", png.getvalue())
    return out.getvalue()


def _qr_pixels(page: Any) -> tuple[int, int, int, int]:
    """Where QR_BOX lands on a page image (pixels)."""
    scale = page.width / 595.28
    return tuple(int(v * scale) for v in QR_BOX)  # type: ignore[return-value]


def damage_qr(page: Any, seed: int) -> Any:
    """Scribble and stain over the code past what error correction M repairs (a pen mark, a fold)."""
    from PIL import ImageDraw

    rng = random.Random(seed)
    page = page.copy()
    x0, top, x1, bottom = _qr_pixels(page)
    draw = ImageDraw.Draw(page)
    w, h = x1 - x0, bottom - top
    # Both top finder patterns and a band through the middle: nothing left to locate or correct.
    draw.rectangle((x0, top, x0 + w * 0.32, top + h * 0.32), fill=rng.choice((0, 255)))
    draw.rectangle((x1 - w * 0.32, top, x1, top + h * 0.32), fill=rng.choice((0, 255)))
    for _ in range(6):
        y = top + rng.uniform(0.3, 0.8) * h
        draw.line((x0, y, x1, y + rng.uniform(-8, 8)), fill=0, width=max(2, int(h * 0.05)))
    return page


def stain_qr(page: Any, seed: int) -> Any:
    """A small ink blot on the code's data area: error correction M (15%) repairs it."""
    from PIL import ImageDraw

    rng = random.Random(seed)
    page = page.copy()
    x0, top, x1, bottom = _qr_pixels(page)
    w, h = x1 - x0, bottom - top
    cx, cy = x0 + w * rng.uniform(0.5, 0.6), top + h * rng.uniform(0.5, 0.6)
    r = w * 0.09
    ImageDraw.Draw(page).ellipse((cx - r, cy - r, cx + r, cy + r), fill=rng.choice((0, 255)))
    return page


def crop_qr_away(page: Any) -> Any:
    """The photo was framed askew: the page's top-left corner, QR and all, is off the picture (desk shows).

    The cut is a diagonal from 200 pt along the top edge to 105 pt down the left edge, which takes the
    whole QR box and no printed field.
    """
    from PIL import ImageDraw

    scale = page.width / 595.28
    page = page.copy()
    ImageDraw.Draw(page).polygon([(0, 0), (200 * scale, 0), (0, 105 * scale)], fill=100)
    return page


def page_with_qr(inv: TruthInvoice, state: str = "ok", seed: int = 0, dpi: int = 200) -> Any:
    """First page as a clean grayscale scan, its QR in ``state`` (one of QR_STATES)."""
    if state not in QR_STATES:
        raise ValueError(f"unknown QR state {state!r}")
    pdf = to_pdf(inv) if state == "none" else pdf_with_qr(inv)
    page = next(scan_images(pdf, dpi))
    if state == "stained":
        page = stain_qr(page, seed)
    elif state == "damaged":
        page = damage_qr(page, seed)
    elif state == "cropped":
        page = crop_qr_away(page)
    return page


def photo_with_qr(
    inv: TruthInvoice, state: str = "ok", seed: int | None = None, strength: float = 1.0, dpi: int = 200
) -> bytes:
    """A degraded phone photo (JPEG) of the invoice with its QR in one of QR_STATES.

    ``dpi`` below 200 is a photo taken from further away: fewer pixels per character and per module.
    """
    seed = seed if seed is not None else zlib.crc32(inv.key.encode()) % 10_000
    return degrade(page_with_qr(inv, state, seed, dpi), seed, strength)
