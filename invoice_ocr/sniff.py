"""Which reader a file needs, decided by its first bytes, never by its name alone."""

from __future__ import annotations

import io
import zipfile


def sniff(data: bytes) -> str | None:
    """'pdf', 'ofd', 'xml', 'image' or None for anything else."""
    head = data[:2048]
    if head.startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, ValueError, OSError):
            return "ofd"  # a broken zip: the OFD reader says it is corrupt
        if "OFD.xml" in names or any(n.lower().endswith("ofd.xml") for n in names):
            return "ofd"
        return None
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF8", b"BM")):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<?xml") or text.startswith(b"<EInvoice") or text.startswith(b"<eInvoice"):
        low = data[:4096].lower()
        if b"<html" in low:
            return None
        return "xml"
    return None
