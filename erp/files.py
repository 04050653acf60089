"""Where source documents are kept: content-addressed under the storage folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

from erp.config import Settings


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_file(settings: Settings, data: bytes, suffix: str = "") -> tuple[str, Path]:
    """Keep ``data`` as ``<storage>/<ab>/<sha256><suffix>``; storing the same bytes twice is harmless."""
    digest = sha256_of(data)
    suffix = suffix if suffix.startswith(".") or not suffix else "." + suffix
    path = Path(settings.storage_dir) / digest[:2] / f"{digest}{suffix.lower()}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return digest, path
