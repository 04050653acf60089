"""Images (JPEG, PNG, WebP, TIFF, BMP) and page images of scanned PDFs, read by OCR."""

from __future__ import annotations

from datetime import date

from ..model import ParsedInvoice
from . import Limits

FORMAT = "image"


def available() -> bool:
    from ..ocr.engines import engine_order

    return bool(engine_order())


def read(data: bytes, limits: Limits, deadline: float, today: date | None = None) -> ParsedInvoice:
    from ..ocr.passes import read_images
    from ..ocr.preprocess import open_image

    return read_images([open_image(data, limits.max_megapixels)], limits, deadline, FORMAT, today)


def ocr_images(
    images: list, limits: Limits, deadline: float, fmt: str, today: date | None = None
) -> ParsedInvoice:  # type: ignore[type-arg]
    from ..ocr.passes import read_images

    return read_images(images, limits, deadline, fmt, today)
