"""The one entry point: bytes or a path in, a checked ParsedInvoice out, never an exception."""

from __future__ import annotations

import logging
import os
import time
from datetime import date
from pathlib import Path

from . import errors
from .checks import check
from .errors import ReadError
from .extract import extract
from .model import ParsedInvoice
from .readers import Limits
from .sniff import sniff
from .words import Document

log = logging.getLogger(__name__)
MIN_TEXT_WORDS = 8  # fewer words than this on a PDF means a scan: OCR it


def limits_from_settings(settings: object | None = None) -> Limits:
    if settings is None:
        return Limits()
    return Limits(
        max_bytes=int(settings.max_file_mb) * 1024 * 1024,  # type: ignore[attr-defined]
        ocr_timeout_seconds=float(settings.ocr_timeout_seconds),  # type: ignore[attr-defined]
        ocr_engine=str(settings.ocr_engine),  # type: ignore[attr-defined]
    )


def _load(path_or_bytes: str | os.PathLike[str] | bytes, limits: Limits) -> bytes:
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        data = bytes(path_or_bytes)
    else:
        path = Path(path_or_bytes)
        try:
            size = path.stat().st_size
        except FileNotFoundError as exc:
            raise ReadError(f"找不到文件 {path}") from exc
        except OSError as exc:
            raise ReadError(f"无法打开文件 {path}：{exc.strerror or exc}") from exc
        if path.is_dir():
            raise ReadError(f"{path} 是一个文件夹，不是文件")
        if size > limits.max_bytes:
            raise ReadError(errors.too_large(size / 1024 / 1024, limits.max_bytes // (1024 * 1024)))
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ReadError(f"无法读取文件 {path}：{exc.strerror or exc}") from exc
    if len(data) > limits.max_bytes:
        raise ReadError(errors.too_large(len(data) / 1024 / 1024, limits.max_bytes // (1024 * 1024)))
    if not data:
        raise ReadError(errors.EMPTY)
    return data


def _looks_like(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return "这是一个网页（HTML）文件，不是发票；请上传发票的 PDF、OFD、XML 或照片"
    if head.startswith(b"pk\x03\x04"):
        return "这是一个压缩包，但不是 OFD 发票文件"
    if head[:2] == b"\x1f\x8b":
        return "这是一个 gzip 压缩文件，不是发票文件"
    return errors.NOT_SUPPORTED


def _document(
    kind: str, data: bytes, limits: Limits, deadline: float, today: date | None
) -> Document | ParsedInvoice:
    if kind == "pdf":
        from .readers import pdf

        doc = pdf.read(data, limits)
        if sum(len(p.words) for p in doc.pages) >= MIN_TEXT_WORDS:
            return doc
        from .readers import image

        pages = pdf.render_pages(data, limits)
        scanned = image.ocr_images(pages, limits, deadline, "pdf", today)
        scanned.meta.setdefault("facts", {}).update(doc.facts)
        return scanned
    if kind == "ofd":
        from .readers import ofd

        return ofd.read(data, limits)
    if kind == "xml":
        from .readers import xml_einvoice

        return xml_einvoice.read(data, limits)
    if kind == "image":
        from .readers import image

        return image.read(data, limits, deadline, today)
    raise ReadError(_looks_like(data))


def _looks_like_invoice(inv: ParsedInvoice) -> bool:
    return bool(inv.number or inv.code or inv.lines or inv.total is not None or inv.total_amount is not None)


def read(
    path_or_bytes: str | os.PathLike[str] | bytes,
    *,
    source: str | None = None,
    limits: Limits | None = None,
    today: date | None = None,
) -> ParsedInvoice:
    """Read one invoice file. Bad input gives ``ok=False`` with ``error`` in words, never an exception."""
    limits = limits or Limits()
    if source is None:
        source = (
            "<bytes>" if isinstance(path_or_bytes, bytes | bytearray | memoryview) else str(path_or_bytes)
        )
    started = time.monotonic()
    deadline = started + limits.ocr_timeout_seconds
    kind = None
    try:
        data = _load(path_or_bytes, limits)
        kind = sniff(data)
        if kind is None:
            raise ReadError(_looks_like(data))
        result = _document(kind, data, limits, deadline, today)
        if isinstance(result, Document):
            inv = extract(result, source)
            if result.engine:
                inv.meta["engine"] = result.engine
        else:
            inv = result
            inv.source = source
        if not _looks_like_invoice(inv):
            raise ReadError(errors.NOT_INVOICE)
        if not inv.meta.get("checked"):
            check(inv, today)
        # the QR code and the printed text check each other (number, date, amount, kind)
        from .qr import cross_check

        cross_check(inv, data, kind, today=today, limits=limits)
    except ReadError as exc:
        inv = ParsedInvoice.failed(source, str(exc), _schema_format(kind))
    except MemoryError:
        inv = ParsedInvoice.failed(source, "文件过大，读取时内存不足", _schema_format(kind))
    except RecursionError:
        inv = ParsedInvoice.failed(source, errors.TRUNCATED, _schema_format(kind))
    except Exception as exc:  # the promise is "never an exception": log it, say it plainly
        log.exception("unexpected failure reading %s", source)
        inv = ParsedInvoice.failed(
            source, f"读取失败（{type(exc).__name__}）：文件可能已损坏", _schema_format(kind)
        )
    inv.meta["seconds"] = time.monotonic() - started
    return inv


def _schema_format(kind: str | None) -> str | None:
    return kind if kind in ("pdf", "image", "xml", "ofd") else None
