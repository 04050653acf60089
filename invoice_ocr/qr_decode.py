"""Find and decode QR codes: in page images, PDF pages, OFD resources and photos.

zxing-cpp does the decoding (its wheel ships the native code). Each source is
tried cheapest first and stops at the first code found: the invoice's QR sits
top left, so that corner is tried at a resolution where a module is several
pixels wide before the whole page.
"""

from __future__ import annotations

import io
import logging
import posixpath
import re
import zipfile
from typing import Any

from .qr_payload import parse_payload
from .readers import Limits

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
JBIG2_SUFFIXES = (".jb2", ".jbig2")
MAX_RESOURCE_BYTES = 5 * 1024 * 1024
MAX_SIDE = 4000  # larger photos are scaled down first: zxing's time grows with pixels


def _gray(image: Any):  # type: ignore[no-untyped-def]
    """A 2-D uint8 array from a PIL image or a numpy array (gray, BGR or BGRA)."""
    import numpy as np

    if hasattr(image, "convert"):  # PIL
        return np.asarray(image.convert("L"))
    arr = np.asarray(image)
    if arr.ndim == 2:
        return arr.astype(np.uint8, copy=False)
    import cv2

    if arr.shape[2] == 4:
        return cv2.cvtColor(arr, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(arr, cv2.COLOR_BGR2GRAY)


def _read(gray) -> list[str]:  # type: ignore[no-untyped-def]
    import zxingcpp

    try:
        found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    except (ValueError, RuntimeError) as exc:
        log.debug("zxing failed: %s", exc)
        return []
    return [b.text for b in found if b.text]


def _scaled(gray, factor: float):  # type: ignore[no-untyped-def]
    import cv2

    h, w = gray.shape[:2]
    interp = cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA
    return cv2.resize(gray, (max(1, int(w * factor)), max(1, int(h * factor))), interpolation=interp)


def _binarised(gray):  # type: ignore[no-untyped-def]
    import cv2

    blurred = cv2.GaussianBlur(gray, (3, 3), 0)
    _, out = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return out


def _sharpened(gray):  # type: ignore[no-untyped-def]
    """Unsharp mask: restores module edges that a blurred, upscaled photo has lost."""
    import cv2

    return cv2.addWeighted(gray, 1.8, cv2.GaussianBlur(gray, (0, 0), 3), -0.8, 0)


def decode_qr(image: Any, thorough: bool = True) -> list[str]:
    """Texts of the QR codes in a page image (PIL or numpy), first found first; [] when none.

    Tries the whole page; then the top-left region (where invoices print the
    code) upscaled 2× and 3× and sharpened, which is what a small or distant
    code needs (measured on the corpus photos at 100–120 dpi: 7 of 11 codes
    the whole page missed); then an Otsu-binarised page (uneven light).
    ``thorough=False`` tries the image as it is only: enough for a clean render.
    """
    gray = _gray(image)
    if gray.size == 0:
        return []
    if not thorough:
        return list(dict.fromkeys(_read(gray)))
    h, w = gray.shape[:2]
    if max(h, w) > MAX_SIDE:
        gray = _scaled(gray, MAX_SIDE / max(h, w))
        h, w = gray.shape[:2]
    corner = gray[: max(1, int(h * 0.5)), : max(1, int(w * 0.4))]
    attempts = [lambda: gray]
    if max(corner.shape) < 1600:
        attempts += [lambda: _sharpened(_scaled(corner, 2.0)), lambda: _sharpened(_scaled(corner, 3.0))]
    attempts.append(lambda: _binarised(gray))
    for attempt in attempts:
        texts = _read(attempt())
        if texts:
            return list(dict.fromkeys(texts))
    return []


def qr_from_image(data: bytes | Any, limits: Limits | None = None) -> list[str]:
    """QR texts of a photo or scan: image bytes or an already opened PIL image."""
    from PIL import Image, ImageOps

    limits = limits or Limits()
    if isinstance(data, bytes | bytearray | memoryview):
        with Image.open(io.BytesIO(bytes(data))) as opened:
            if opened.width * opened.height > limits.max_megapixels * 1e6:
                return []
            img = ImageOps.exif_transpose(opened)
            img.load()
    else:
        img = data
    return decode_qr(img)


def qr_from_pdf(data: bytes, limits: Limits | None = None, max_pages: int = 3) -> list[str]:
    """QR texts of a PDF: each page's top-left corner at ~290 dpi, then the whole page at 200 dpi."""
    import pypdfium2 as pdfium

    limits = limits or Limits()
    try:
        pdf = pdfium.PdfDocument(data)
    except Exception as exc:  # pdfium raises PdfiumError for broken or encrypted files
        log.debug("pdfium cannot open: %s", exc)
        return []
    try:
        for index in range(min(len(pdf), max_pages)):
            page = pdf[index]
            w, h = page.get_size()
            if w * h * (200 / 72) ** 2 / 1e6 > limits.max_megapixels:
                continue
            # crop = points cut from (left, bottom, right, top): keep the top-left 40% × 50%
            corner = page.render(scale=4, crop=(0, h * 0.5, w * 0.6, 0), grayscale=True).to_pil()
            texts = decode_qr(corner, thorough=False)
            if not texts:  # a QR placed elsewhere on the page; a scan or photo gets every attempt
                scanned = page.get_textpage().count_chars() == 0
                full = page.render(scale=200 / 72, grayscale=True).to_pil()
                texts = decode_qr(full, thorough=scanned)
            if texts:
                return texts
        return []
    finally:
        pdf.close()


def _jbig2_image(stream: bytes, width: int, height: int):  # type: ignore[no-untyped-def]
    """Decode a JBIG2 image (OFD uses them for QR codes) by wrapping it in a one-page PDF for pdfium."""
    import pypdfium2 as pdfium

    if stream.startswith(b"\x97JB2\r\n\x1a\n"):  # file header -> the embedded stream PDF expects
        flags = stream[8]
        stream = stream[9 + (0 if flags & 2 else 4) :]
    content = f"q {width} 0 0 {height} 0 0 cm /Im0 Do Q".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] "
        f"/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>".encode(),
        f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace /DeviceGray "
        f"/BitsPerComponent 1 /Filter /JBIG2Decode /Length {len(stream)} >>\nstream\n".encode()
        + stream
        + b"\nendstream",
        f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream",
    ]
    out = b"%PDF-1.5\n"
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    pdf = pdfium.PdfDocument(out)
    try:
        scale = max(1.0, 400 / max(width, height))
        return pdf[0].render(scale=scale, grayscale=True).to_pil()
    finally:
        pdf.close()


def _jbig2_size(stream: bytes) -> tuple[int, int] | None:
    """Width and height from the JBIG2 page-information segment (type 48)."""
    at = stream.find(b"\x30\x00\x01\x00\x00\x00\x13")  # type 48, page 1, data length 19
    if at < 0:
        return None
    body = stream[at + 7 : at + 15]
    if len(body) < 8:
        return None
    w, h = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:], "big")
    if not (0 < w <= 4000 and 0 < h <= 4000):
        return None
    return w, h


def qr_from_ofd(data: bytes, limits: Limits | None = None) -> list[str]:
    """QR texts of an OFD: its image resources decoded, then a legacy invoice's GraphCode text.

    Legacy OFDs also carry the QR's text as ``GraphCode`` in
    Doc_*/Attachs/original_invoice.xml; the image is preferred (it is what is printed),
    the text is the fallback.
    """
    from PIL import Image

    limits = limits or Limits()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return []
    if len(infos) > limits.max_zip_members:
        return []
    texts: list[str] = []
    for info in infos:
        if any(parse_payload(t) for t in texts):
            break  # the invoice's code is found; other images are seals and logos
        name = info.filename.lower()
        if info.file_size > MAX_RESOURCE_BYTES or info.is_dir():
            continue
        try:
            if name.endswith(IMAGE_SUFFIXES):
                with Image.open(io.BytesIO(zf.read(info))) as img:
                    if img.width * img.height > limits.max_megapixels * 1e6:
                        continue
                    img.load()
                    texts += decode_qr(img)
            elif name.endswith(JBIG2_SUFFIXES):
                raw = zf.read(info)
                size = _jbig2_size(raw)
                if size:
                    texts += decode_qr(_jbig2_image(raw, *size))
        except Exception as exc:  # a broken resource must not stop the others
            log.debug("OFD resource %s: %s", info.filename, exc)
    if not any(parse_payload(t) for t in texts):
        for info in infos:
            if (
                posixpath.basename(info.filename.lower()) != "original_invoice.xml"
                or info.file_size > MAX_RESOURCE_BYTES
            ):
                continue
            try:
                xml = zf.read(info).decode("utf-8", "replace")
            except Exception as exc:
                log.debug("OFD %s: %s", info.filename, exc)
                continue
            texts += [m.strip() for m in re.findall(r"GraphCode>([^<]*)</", xml) if m.strip()]
    return list(dict.fromkeys(texts))
