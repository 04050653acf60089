"""Bulk import throughput: invoices per minute for a zip of text PDFs and a zip of phone photos.

Each zip is imported twice into fresh books in the same run: with 1 worker (the
baseline) and with 2 workers, so the printed ratio is the pool's gain on this
machine. Booking (drafts, duplicates) is included; the second run of the same
zip into the same book is timed too (it must skip everything).

    PYTHONPATH=. .venv/bin/python bench/import_zip.py [--pdfs 200] [--photos 20]
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from erp.book import open_book  # noqa: E402
from erp.config import Settings  # noqa: E402
from erp.importer import collect, import_batch  # noqa: E402
from tests.invoice_corpus.data import make_corpus  # noqa: E402
from tests.invoice_corpus.render import to_pdf, to_photo_jpeg  # noqa: E402

OUR_NAME, OUR_TAX_ID = "上海账房示范贸易有限公司", "91310000MA1FL8XQ37"


def build_zip(kind: str, n: int) -> bytes:
    corpus = [
        dataclasses.replace(i, buyer_name=OUR_NAME, buyer_tax_id=OUR_TAX_ID) for i in make_corpus(max(n, 44))
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for k in range(n):
            inv = corpus[k % len(corpus)]
            inv = dataclasses.replace(inv, number=f"{inv.number[:-6]}{k:06d}")
            if kind == "pdf":
                zf.writestr(f"{k:04d}.pdf", to_pdf(inv))
            else:
                zf.writestr(f"{k:04d}.jpg", to_photo_jpeg(inv, seed=k))
    return buf.getvalue()


def run_once(archive: Path, workers: int, folder: Path) -> tuple[float, dict, float]:
    settings = Settings(
        DATABASE_URL=f"sqlite:///{folder / f'book-{workers}.db'}",
        ZHANGFANG_COMPANY_NAME=OUR_NAME,
        ZHANGFANG_COMPANY_TAX_ID=OUR_TAX_ID,
        ZHANGFANG_STORAGE_DIR=folder / "files",
        ZHANGFANG_APPROVAL_THRESHOLD="1e12",
        _env_file=None,
    )
    engine = open_book(settings)
    t0 = time.perf_counter()
    report = import_batch(engine, settings, collect([archive], settings), workers=workers)
    elapsed = time.perf_counter() - t0
    t1 = time.perf_counter()
    again = import_batch(engine, settings, collect([archive], settings), workers=workers)
    rerun = time.perf_counter() - t1
    assert again.summary()["drafted"] == 0, "a second import must change nothing"
    engine.dispose()
    return elapsed, report.summary(), rerun


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pdfs", type=int, default=200)
    ap.add_argument("--photos", type=int, default=20)
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; OMP_THREAD_LIMIT={os.environ['OMP_THREAD_LIMIT']}")
    print(
        f"{'zip':<16}{'files':>6}{'workers':>8}{'seconds':>9}{'inv/min':>9}{'drafted':>8}{'failed':>7}{'re-run s':>9}"
    )
    for kind, n in (("pdf", args.pdfs), ("photo", args.photos)):
        if n <= 0:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            archive = folder / f"{kind}.zip"
            archive.write_bytes(build_zip(kind, n))
            rates = {}
            for workers in (1, 2):
                elapsed, summary, rerun = run_once(archive, workers, folder)
                rates[workers] = summary["read"] / elapsed * 60
                print(
                    f"{kind + ' zip':<16}{n:>6}{workers:>8}{elapsed:>9.1f}{rates[workers]:>9.0f}"
                    f"{summary['drafted']:>8}{summary['failed']:>7}{rerun:>9.1f}"
                )
            print(f"{'':<16}2 workers vs 1 worker (baseline): {rates[2] / rates[1]:.2f}×")


if __name__ == "__main__":
    main()
