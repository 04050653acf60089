"""Invoice reading: accuracy and speed per format, against a naive baseline measured in the same run.

Corpus: the generated invoices of tests/invoice_corpus (truth known), rendered
as text PDF, OFD, XML, 200-dpi scan (PNG) and degraded phone photo (JPEG).
Baseline: flat text (pdfplumber extract_text / OFD text codes / XML text;
Tesseract image_to_string for images) plus regular expressions.

    python bench/invoices.py [--images N] [--engines]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import io
import multiprocessing as mp
import os
import re
import resource
import statistics
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from invoice_ocr import read  # noqa: E402
from invoice_ocr.pool import InvoicePool  # noqa: E402
from invoice_ocr.readers import Limits  # noqa: E402
from tests.invoice_corpus.data import TruthInvoice, make_corpus  # noqa: E402
from tests.invoice_corpus.render import to_ofd, to_pdf, to_photo_jpeg, to_scan_png, to_xml  # noqa: E402
from tests.invoice_corpus.score import Score  # noqa: E402
from values.money import q2, to_str2  # noqa: E402

# ---------------------------------------------------------------- naive baseline

MONEY = r"-?\d[\d,]*\.\d{2}"


def naive_extract(text: str, fmt: str) -> dict[str, Any]:
    """What a flat text dump and a handful of regular expressions give."""
    flat = re.sub(r"[ \t]+", " ", text)

    def first(pattern: str) -> str | None:
        m = re.search(pattern, flat)
        return m.group(1) if m else None

    names = re.findall(r"名\s*称\s*[:：]\s*(\S+)", flat)
    ids = re.findall(r"纳税人识别号\s*[:：]\s*([0-9A-Z]{15,20})", flat)
    date_m = re.search(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日", flat)
    lines = []
    for m in re.finditer(
        rf"(\*[^*\s]+\*\S+)[^\n]*?({MONEY})\s+(\d{{1,2}}%|免税|不征税)\s+({MONEY}|\*\*\*)", flat
    ):
        tax = "0.00" if m.group(4) == "***" else m.group(4).replace(",", "")
        lines.append(
            {
                "name": m.group(1),
                "spec": None,
                "unit": None,
                "quantity": None,
                "unit_price": None,
                "amount": m.group(2).replace(",", ""),
                "tax_rate": m.group(3),
                "tax": tax,
            }
        )
    totals = re.search(rf"合\s*计\s*[¥￥Y]?\s*({MONEY})\s*[¥￥Y]?\s*({MONEY})", flat)
    total = first(rf"小\s*写\s*[)）]\s*[¥￥Y]?\s*({MONEY})")

    def money(v: str | None) -> str | None:
        try:
            return to_str2(q2(v.replace(",", ""))) if v else None
        except Exception:
            return None

    return {
        "format": fmt,
        "invoice_type": "special" if "专用发票" in flat else "normal" if "普通发票" in flat else None,
        "is_red": bool(total and total.startswith("-")),
        "number": first(r"发票号码\s*[:：]?\s*(\d{8,20})"),
        "code": first(r"发票代码\s*[:：]?\s*(\d{10,12})"),
        "issue_date": f"{date_m.group(1)}-{int(date_m.group(2)):02d}-{int(date_m.group(3)):02d}"
        if date_m
        else None,
        "buyer": {"name": names[0] if names else None, "tax_id": ids[0] if ids else None},
        "seller": {"name": names[1] if len(names) > 1 else None, "tax_id": ids[1] if len(ids) > 1 else None},
        "lines": lines,
        "total_amount": money(totals.group(1)) if totals else None,
        "total_tax": money(totals.group(2)) if totals else None,
        "total": money(total),
        "total_in_words": first(
            r"大\s*写\s*[)）]\s*([（(]?负?数?[)）]?[零壹贰叁肆伍陆柒捌玖拾佰仟万亿圆元角分整]+)"
        ),
        "remarks": None,
        "issuer": first(r"开票人\s*[:：]\s*(\S+)"),
        "error": None,
    }


def naive_text(data: bytes, fmt: str) -> str:
    if fmt == "pdf":
        import pdfplumber

        with pdfplumber.open(io.BytesIO(data)) as pdf:
            return "\n".join(p.extract_text() or "" for p in pdf.pages)
    if fmt == "ofd":
        out = []
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for name in sorted(z.namelist()):
                if name.endswith("Content.xml"):
                    out.extend(re.findall(r"<ofd:TextCode[^>]*>([^<]*)<", z.read(name).decode("utf-8")))
        return " ".join(out)
    if fmt == "xml":
        return re.sub(r"<[^>]+>", " ", data.decode("utf-8"))
    import pytesseract
    from PIL import Image

    return pytesseract.image_to_string(Image.open(io.BytesIO(data)), lang="chi_sim", config="--psm 6")


def naive_read(data: bytes, fmt: str) -> dict[str, Any]:
    return naive_extract(naive_text(data, fmt), fmt)


# ---------------------------------------------------------------- runs

RENDER = {"pdf": to_pdf, "ofd": to_ofd, "xml": to_xml, "scan": to_scan_png, "photo": to_photo_jpeg}
SCHEMA_FORMAT = {"pdf": "pdf", "ofd": "ofd", "xml": "xml", "scan": "image", "photo": "image"}


def cpu_now() -> float:
    """This process's CPU time plus its finished children's (Tesseract runs as a child)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


CPU: dict[str, list[float]] = {}


def run_ours(files: list[tuple[TruthInvoice, bytes]], kind: str, limits: Limits) -> tuple[Score, list[float]]:
    score, times = Score(), []
    cpu = CPU.setdefault(kind, [])
    for inv, data in files:
        t, c = time.perf_counter(), cpu_now()
        parsed = read(data, source=inv.key, limits=limits)
        times.append(time.perf_counter() - t)
        cpu.append(cpu_now() - c)
        score.add(
            parsed.to_json_dict(), inv.truth_json(inv.key, SCHEMA_FORMAT[kind]), parsed.doubtful_fields()
        )
    return score, times


def run_naive(files: list[tuple[TruthInvoice, bytes]], kind: str) -> tuple[Score, list[float]]:
    score, times = Score(), []
    cpu = CPU.setdefault("naive-" + kind, [])
    for inv, data in files:
        t, c = time.perf_counter(), cpu_now()
        got = naive_read(data, kind)
        times.append(time.perf_counter() - t)
        cpu.append(cpu_now() - c)
        got["source"] = inv.key
        score.add(got, inv.truth_json(inv.key, SCHEMA_FORMAT[kind]), None)
    return score, times


def _naive_job(data: bytes) -> dict[str, Any]:
    return naive_read(data, "photo")


def photos_per_minute(photos: list[bytes]) -> tuple[float, float]:
    """(ours, baseline) throughput with 2 worker processes each, after one warm-up job per worker."""
    with InvoicePool(workers=2) as pool:
        for f in [pool.submit(photos[0]), pool.submit(photos[1])]:
            f.result()
        t = time.perf_counter()
        for f in [pool.submit(p) for p in photos]:
            f.result()
        ours = len(photos) / (time.perf_counter() - t) * 60
    with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as ex:
        list(ex.map(_naive_job, photos[:2]))
        t = time.perf_counter()
        list(ex.map(_naive_job, photos))
        naive = len(photos) / (time.perf_counter() - t) * 60
    return ours, naive


def row(kind: str, n: int, ours: tuple[Score, list[float]], naive: tuple[Score, list[float]]) -> str:
    (s, t), (b, bt) = ours, naive
    return (
        f"| {kind} | {n} | {s.accuracy:.1%} ({b.accuracy:.1%}) | {s.full_share:.0%} ({b.full_share:.0%}) | "
        f"{s.confident_wrong_share:.2%} ({b.confident_wrong_share:.2%}) | "
        f"{statistics.median(t):.2f} ({statistics.median(bt):.2f}) | "
        f"{statistics.median(CPU[kind]):.2f} ({statistics.median(CPU['naive-' + kind]):.2f}) |"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=22, help="scans and photos to read (default 22; 0 = all)")
    ap.add_argument("--engines", action="store_true", help="also compare the OCR engines alone, no fallback")
    ap.add_argument(
        "--qr",
        type=int,
        default=12,
        help="photos carrying a QR code for the with/without-QR comparison (0 = skip)",
    )
    args = ap.parse_args()
    corpus = make_corpus()
    one_page = [inv for inv in corpus if len(inv.lines) <= inv.lines_per_page]
    images = (
        one_page if args.images == 0 else one_page[:: max(1, len(one_page) // args.images)][: args.images]
    )
    limits = Limits()
    print(
        "| format | files | field accuracy | fully correct | confident but wrong | median s/file (wall) "
        "| median CPU s/file |"
    )
    print("|---|---|---|---|---|---|---|")
    wrong: list[str] = []
    rendered: dict[str, list[tuple[TruthInvoice, bytes]]] = {}
    for kind in ("pdf", "ofd", "xml", "scan", "photo"):
        invs = corpus if kind in ("pdf", "ofd", "xml") else images
        files = [(inv, RENDER[kind](inv)) for inv in invs]
        rendered[kind] = files
        ours = run_ours(files, kind, limits)
        naive = run_naive(files, kind)
        wrong += ours[0].wrong_examples
        print(row(kind, len(files), ours, naive), flush=True)
    print("\nEach cell: ours (naive baseline). 'confident but wrong' = share of fields returned without any")
    print("warning touching them that differ from the truth (baseline has no warnings: every value counts).")
    print(f"Load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.")
    ours_pm, naive_pm = photos_per_minute([data for _, data in rendered["photo"]])
    print(f"\nPhotos per minute with 2 workers: {ours_pm:.1f} (baseline {naive_pm:.1f})")
    if args.qr:
        # the same photos read once with the QR cross-check and once without (bench/qr.py)
        import importlib.util

        spec = importlib.util.spec_from_file_location("bench_qr", Path(__file__).with_name("qr.py"))
        bench_qr = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench_qr)
        print(
            f"\nQR cross-check on {args.qr} photos with QR codes (intact, stained, damaged, cropped):",
            flush=True,
        )
        bench_qr.main(["--n", str(args.qr)])
    if wrong:
        print("\nConfident but wrong (first few):", *wrong[:8], sep="\n  ")
    if args.engines:
        print(
            "\n| engine alone (no fallback) | format | field accuracy | fully correct | confident but wrong | median s |"
        )
        print("|---|---|---|---|---|---|")
        for engine in ("rapidocr-only", "tesseract-only"):
            for kind in ("scan", "photo"):
                s, t = run_ours(rendered[kind], kind, Limits(ocr_engine=engine))
                print(
                    f"| {engine} | {kind} | {s.accuracy:.1%} | {s.full_share:.0%} | "
                    f"{s.confident_wrong_share:.2%} | {statistics.median(t):.2f} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
