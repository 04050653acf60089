"""Text PDFs via pdfplumber words; PDFs without a text layer go to OCR page images."""

from __future__ import annotations

import io
import logging

from .. import errors
from ..errors import ReadError
from ..words import Document, Page, Word
from . import Limits

FORMAT = "pdf"
# The tax platform writes these into the PDF's document info; used only as a cross-check.
FACT_KEYS = (
    "InvoiceNumber",
    "IssueTime",
    "TotalAmWithoutTax",
    "TotalTaxAm",
    "TotalTax-includedAmount",
    "BuyerIdNum",
    "SellerIdNum",
    "InvoiceCode",
)


def available() -> bool:
    try:
        import pdfplumber  # noqa: F401
    except ImportError:
        return False
    return True


def _open(data: bytes):  # type: ignore[no-untyped-def]
    import pdfplumber

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    try:
        return pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises many types for broken files
        text = f"{type(exc).__name__} {exc!r}".lower()
        if "password" in text or "encrypt" in text:
            raise ReadError(errors.ENCRYPTED) from exc
        raise ReadError(errors.TRUNCATED) from exc


def read(data: bytes, limits: Limits) -> Document:
    """Words of every page. A page with no text layer is marked for OCR in ``facts['scanned']``."""
    pdf = _open(data)
    try:
        try:
            pages_n = len(pdf.pages)
        except Exception as exc:
            raise ReadError(errors.TRUNCATED) from exc
        if pages_n == 0:
            raise ReadError(errors.TRUNCATED)
        if pages_n > limits.max_pages:
            raise ReadError(f"PDF 有 {pages_n} 页，超过上限 {limits.max_pages} 页，不像是一张发票")
        facts = {
            k: str(v)
            for k, v in (pdf.metadata or {}).items()
            if k in FACT_KEYS and isinstance(v, str | bytes)
        }
        pages = []
        for p in pdf.pages:
            try:
                raw = p.extract_words(keep_blank_chars=False, use_text_flow=False)
            except Exception as exc:
                text = repr(exc).lower()
                if "password" in text or "encrypt" in text:
                    raise ReadError(errors.ENCRYPTED) from exc
                raise ReadError(errors.TRUNCATED) from exc
            words = [Word(w["text"], w["x0"], w["top"], w["x1"], w["bottom"]) for w in raw]
            pages.append(Page(float(p.width), float(p.height), words))
        return Document(FORMAT, pages, facts)
    finally:
        pdf.close()


def render_pages(data: bytes, limits: Limits, dpi: int = 200) -> list:  # type: ignore[type-arg]
    """Page images of a scanned PDF (PIL images), for OCR."""
    pdf = _open(data)
    try:
        out = []
        for p in pdf.pages[: limits.max_pages]:
            mp = float(p.width) * float(p.height) * (dpi / 72) ** 2 / 1e6
            if mp > limits.max_megapixels:
                raise ReadError(errors.too_many_pixels(mp, limits.max_megapixels))
            out.append(p.to_image(resolution=dpi).original.convert("RGB"))
        return out
    except ReadError:
        raise
    except Exception as exc:
        raise ReadError(errors.TRUNCATED) from exc
    finally:
        pdf.close()
