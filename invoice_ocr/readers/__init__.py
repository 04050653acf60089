"""Readers: bytes in, a Document of positioned words (or, for structured XML, a ParsedInvoice) out.

Each reader module has ``FORMAT``, ``available()`` (its heavy dependency is
importable) and ``read(data, limits)``; heavy imports happen inside ``read``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20 * 1024 * 1024
    max_megapixels: int = 40
    max_pages: int = 20
    max_unzipped_bytes: int = 60 * 1024 * 1024
    max_zip_members: int = 400
    ocr_timeout_seconds: float = 60.0
    ocr_engine: str = "auto"
