"""Scans and phone photos of generated invoices, read by OCR; the process pool; the CLI.

One scan, one rotated photo and a masked field run by default; the corpus
sample (scans and photos through a 2-worker pool) is marked slow.
"""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from invoice_ocr import read
from invoice_ocr.pool import InvoicePool
from invoice_ocr.readers import Limits
from tests.invoice_corpus.data import make_corpus
from tests.invoice_corpus.render import to_photo_jpeg, to_scan_pdf, to_scan_png
from tests.invoice_corpus.score import Score

TODAY = date(2026, 11, 28)
CORPUS = make_corpus()
ROOT = Path(__file__).resolve().parent.parent


def test_clean_scan_reads_to_its_truth() -> None:
    inv = CORPUS[0]
    got = read(to_scan_png(inv), source="scan.png", today=TODAY).to_json_dict()
    assert got == inv.truth_json("scan.png", "image")


def test_photo_turned_by_exif_is_read_upright() -> None:
    from PIL import Image

    inv = CORPUS[2]
    photo = Image.open(io.BytesIO(to_photo_jpeg(inv, seed=3, strength=0.6)))
    turned = photo.rotate(90, expand=True)  # the sensor's orientation …
    exif = Image.Exif()
    exif[0x0112] = 6  # … and the tag that says "turn me 90° clockwise to view"
    buf = io.BytesIO()
    turned.save(buf, "JPEG", quality=85, exif=exif)
    parsed = read(buf.getvalue(), source="photo.jpg", today=TODAY)
    want = inv.truth_json("photo.jpg", "image")
    got = parsed.to_json_dict()
    assert got["number"] == want["number"]
    assert got["total"] == want["total"]
    score = Score()
    score.add(got, want, parsed.doubtful_fields())
    assert score.confident_wrong == 0, score.wrong_examples
    assert score.accuracy >= 0.9


def test_unreadable_number_is_null_with_a_warning_never_a_guess() -> None:
    from PIL import Image, ImageDraw

    inv = CORPUS[4]
    img = Image.open(io.BytesIO(to_scan_png(inv))).convert("L")
    d = ImageDraw.Draw(img)
    w, h = img.size
    # The invoice number sits at the top right, after its label: paint the digits out.
    d.rectangle([int(w * 0.8), int(h * 0.06), w - 1, int(h * 0.12)], fill=255)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    parsed = read(buf.getvalue(), source="masked.png", today=TODAY)
    assert parsed.number is None or parsed.number != inv.number and "number" in parsed.doubtful_fields()
    assert not parsed.ok
    assert any("发票号码" in w for w in parsed.warnings)
    assert parsed.total is not None and str(parsed.total) == str(inv.total)


@pytest.mark.slow
def test_multi_page_scanned_pdf_reads_to_its_truth() -> None:
    inv = next(i for i in CORPUS if i.lines_per_page < len(i.lines))
    got = read(to_scan_pdf(inv), source="scan.pdf", today=TODAY).to_json_dict()
    want = inv.truth_json("scan.pdf", "pdf")
    score = Score()
    score.add(got, want, None if got["ok"] else set())
    assert got["number"] == want["number"] and len(got["lines"]) == len(want["lines"])
    assert score.accuracy >= 0.95


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["scan", "photo"])
def test_corpus_images_through_the_pool(kind: str) -> None:
    sample = CORPUS[::4]
    render = to_scan_png if kind == "scan" else to_photo_jpeg
    files = [render(inv) for inv in sample]
    score = Score()
    with InvoicePool(workers=2, limits=Limits(ocr_timeout_seconds=60)) as pool:
        futures = [pool.submit(data, f"{inv.key}.{kind}") for inv, data in zip(sample, files, strict=True)]
        for inv, fut in zip(sample, futures, strict=True):
            parsed = pool.collect(fut, inv.key)
            want = inv.truth_json(parsed.source, "image")
            if len(inv.lines) > inv.lines_per_page:
                continue  # the PNG holds only the first page
            score.add(parsed.to_json_dict(), want, set(parsed.meta.get("doubtful", {})))
    assert score.accuracy >= (0.97 if kind == "scan" else 0.9), score.wrong_examples
    assert score.confident_wrong_share <= 0.005, score.wrong_examples


def test_pool_answers_while_a_photo_is_read() -> None:
    photo = to_photo_jpeg(CORPUS[1], seed=1)

    async def main() -> tuple[int, object]:
        ticks = 0
        with InvoicePool(workers=1) as pool:
            task = asyncio.create_task(pool.read_async(photo, "photo.jpg"))
            while not task.done():
                ticks += 1
                await asyncio.sleep(0.05)
            return ticks, task.result()

    ticks, parsed = asyncio.run(main())
    assert ticks > 5  # the loop kept running during the read
    assert parsed.number == CORPUS[1].number  # type: ignore[attr-defined]


def test_pool_job_over_its_time_limit_fails_clearly_and_the_pool_recovers() -> None:
    photo = to_photo_jpeg(CORPUS[1], seed=1)
    with InvoicePool(workers=1, timeout=0.2) as pool:
        parsed = pool.read(photo, "slow.jpg")
        assert not parsed.ok and "超时" in (parsed.error or "")
        pool.timeout = 120
        pdf = ROOT / "tests" / "fixtures" / "samples" / "zqywuxie__postage_1.pdf"
        assert pool.read(pdf, "again.pdf").number == "25437000000297554203"


CLI = (
    "import argparse, sys\n"
    "from invoice_ocr import cli\n"
    "p = argparse.ArgumentParser(); cli.register(p.add_subparsers())\n"
    "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))\n"
)


def test_cli_prints_json_lines_in_order_and_fails_when_a_file_is_unreadable(tmp_path: Path) -> None:
    samples = ROOT / "tests" / "fixtures" / "samples"
    bad = tmp_path / "note.pdf"
    bad.write_bytes(b"<html>not an invoice</html>")
    files = [str(samples / "ofdrw__1.ofd"), str(bad), str(samples / "zqywuxie__postage_1.pdf")]
    proc = subprocess.run(
        [sys.executable, "-c", CLI, "invoice", "parse", *files, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "OMP_THREAD_LIMIT": "1"},
    )
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["source"] for r in rows] == files
    assert rows[0]["number"] == "83089647" and rows[2]["total"] == "17.00"
    assert rows[1]["ok"] is False and "网页" in rows[1]["error"]
    assert proc.returncode == 1
    ok = subprocess.run(
        [sys.executable, "-c", CLI, "invoice", "parse", files[0]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "OMP_THREAD_LIMIT": "1"},
    )
    assert ok.returncode == 0 and "83089647" in ok.stdout and "校验通过" in ok.stdout


def test_webp_photo_named_pdf_is_read_as_an_image(tmp_path: Path) -> None:
    from PIL import Image

    inv = CORPUS[9]
    img = Image.open(io.BytesIO(to_scan_png(inv)))
    path = tmp_path / "invoice.pdf"  # the name lies; the bytes decide
    img.save(path, "WEBP", quality=90)
    parsed = read(path, today=TODAY)
    assert parsed.format == "image" and parsed.error is None
    assert parsed.number == inv.number and str(parsed.total) == str(inv.total)
