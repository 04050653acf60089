"""Malformed and hostile files: every one answered with ok=False and a clear error, fast, no crash."""

from __future__ import annotations

import io
import random
import struct
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from invoice_ocr import read
from invoice_ocr.readers import Limits

SAMPLES = Path(__file__).parent / "fixtures" / "samples"
PDF = (SAMPLES / "zqywuxie__postage_1.pdf").read_bytes()
OFD = (SAMPLES / "ofdrw__20240531141733_shudian.ofd").read_bytes()
LIMITS = Limits(ocr_timeout_seconds=30)
TIME_LIMIT = 35.0


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def zip_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("OFD.xml", b"<ofd:OFD/>")
        with z.open("Doc_0/Document.xml", "w", force_zip64=True) as f:
            chunk = b"\x00" * (1 << 20)
            for _ in range(100):  # 100 MB of zeros, about 100 KB compressed
                f.write(chunk)
    return buf.getvalue()


def pdf_with(draw: Callable, *, encrypt: str | None = None, pages: int = 1) -> bytes:  # type: ignore[type-arg]
    from reportlab.pdfgen import canvas

    from tests.invoice_corpus.render import FONT, _register_font

    _register_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(595, 397), encrypt=encrypt)
    for _ in range(pages):
        c.setFont(FONT, 10)
        draw(c)
        c.showPage()
    c.save()
    return buf.getvalue()


def meeting_note(c) -> None:  # type: ignore[no-untyped-def]
    for i, line in enumerate(
        [
            "周例会纪要 2026年3月2日",
            "参会人：张伟 王芳 李娜 刘洋",
            "一、上周销售回款情况良好，华东区完成目标的百分之九十二。",
            "二、仓库盘点安排在下周三，请各部门提前准备。",
            "三、新系统上线培训时间另行通知。",
        ]
    ):
        c.drawString(40, 350 - i * 20, line)


def image_bytes(fmt: str, size: tuple[int, int], draw: Callable | None = None) -> bytes:  # type: ignore[type-arg]
    from PIL import Image, ImageDraw

    im = Image.new("RGB", size, (255, 255, 255))
    if draw:
        draw(ImageDraw.Draw(im), im)
    buf = io.BytesIO()
    im.save(buf, fmt)
    return buf.getvalue()


def cat_photo(d, im) -> None:  # type: ignore[no-untyped-def]
    """Something like a photo of a cat: soft colours, round shapes, no text."""
    rng = random.Random(7)
    w, h = im.size
    for y in range(0, h, 4):
        d.rectangle([0, y, w, y + 4], fill=(120 + y * 60 // h, 100 + y * 40 // h, 80))
    d.ellipse([w * 0.3, h * 0.3, w * 0.7, h * 0.9], fill=(200, 140, 60))
    d.ellipse([w * 0.38, h * 0.12, w * 0.62, h * 0.42], fill=(210, 150, 70))
    d.polygon([(w * 0.4, h * 0.2), (w * 0.43, h * 0.05), (w * 0.47, h * 0.18)], fill=(190, 130, 60))
    d.polygon([(w * 0.53, h * 0.18), (w * 0.57, h * 0.05), (w * 0.6, h * 0.2)], fill=(190, 130, 60))
    d.ellipse([w * 0.44, h * 0.22, w * 0.48, h * 0.27], fill=(30, 90, 40))
    d.ellipse([w * 0.52, h * 0.22, w * 0.56, h * 0.27], fill=(30, 90, 40))
    for _ in range(400):
        x, y = rng.randrange(w), rng.randrange(h)
        d.point((x, y), fill=(rng.randrange(256),) * 3)


def hostile_files(tmp: Path) -> dict[str, tuple[object, str]]:
    """name -> (path or bytes, the kind of error expected in words)."""
    rng = random.Random(1)
    files: dict[str, tuple[object, str]] = {}

    def add(name: str, data: bytes, expect: str = "") -> None:
        path = tmp / name
        path.write_bytes(data)
        files[name] = (path, expect)

    add("empty.pdf", b"", "空")
    add("one_byte.jpg", b"\xff", "")
    for i, n in enumerate((16, 1000, 50_000, 300_000, 2_000_000)):
        add(f"random_{i}.pdf", rng.randbytes(n), "")
    for frac in (0.05, 0.2, 0.35, 0.5):
        add(f"truncated_{int(frac * 100)}.pdf", PDF[: int(len(PDF) * frac)], "")
    add("pdf_header_only.pdf", b"%PDF-1.7\n", "")
    add("pdf_garbage.pdf", b"%PDF-1.4\n" + rng.randbytes(5000), "")
    add("encrypted.pdf", pdf_with(meeting_note, encrypt="s3cret"), "密码")
    add(
        "encrypted_invoice.pdf",
        pdf_with(lambda c: c.drawString(40, 300, "发票号码：25437000000297554203"), encrypt="x"),
        "密码",
    )
    add("html_as.pdf", b"<!DOCTYPE html><html><body>invoice</body></html>", "网页")
    add("html_as.ofd", b"<html><head><title>404</title></head></html>", "网页")
    add("html_as.jpg", b"\n\n<HTML><body>not found</body></HTML>", "网页")
    add("zip_bomb.ofd", zip_bomb(), "压缩")
    add("zip_not_ofd.ofd", zip_of({"readme.txt": b"hello"}), "OFD")
    add(
        "zip_many_members.ofd", zip_of({"OFD.xml": b"<x/>", **{f"f{i}.xml": b"<x/>" for i in range(600)}}), ""
    )
    add("ofd_bad_xml.ofd", zip_of({"OFD.xml": b"<ofd:OFD><unclosed>"}), "")
    add("ofd_no_document.ofd", zip_of({"OFD.xml": b'<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>'}), "")
    add("ofd_truncated_30.ofd", OFD[: len(OFD) * 3 // 10], "")
    add("ofd_truncated_90.ofd", OFD[: len(OFD) * 9 // 10], "")
    add(
        "ofd_empty_pages.ofd",
        zip_of(
            {
                "OFD.xml": b'<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>',
                "Doc_0/Document.xml": b'<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>',
                "Doc_0/Pages/Page_0/Content.xml": b'<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"/>',
            }
        ),
        "",
    )
    add("huge_header.png", png_header(20000, 20000), "像素")
    add("huge_header_wide.png", png_header(100000, 500), "像素")
    add("huge_real.png", image_bytes("PNG", (8000, 6000)), "像素")
    add("tiny.png", image_bytes("PNG", (1, 1)), "太小")
    add("tiny.gif", image_bytes("GIF", (20, 10)), "太小")
    jpeg = image_bytes("JPEG", (800, 600), cat_photo)
    add("truncated.jpg", jpeg[: len(jpeg) // 3], "")
    add("jpeg_header_only.jpg", jpeg[:200], "")
    png = image_bytes("PNG", (800, 600), cat_photo)
    add("truncated.png", png[: len(png) // 2], "")
    add("cat.jpg", jpeg, "发票")
    add("cat_as.pdf", image_bytes("PNG", (900, 700), cat_photo), "发票")
    add("blank_page.png", image_bytes("PNG", (1654, 1103)), "")
    add("blank.pdf", pdf_with(lambda c: None), "")
    add("meeting_note.pdf", pdf_with(meeting_note), "发票")
    add("fifty_pages.pdf", pdf_with(meeting_note, pages=50), "页")
    add("xml_not_invoice.xml", b'<?xml version="1.0"?><note><to>Tove</to></note>', "EInvoice")
    add("xml_broken.xml", b'<?xml version="1.0"?><EInvoice><EInvoiceData>', "损坏")
    add(
        "xml_billion_laughs.xml",
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><EInvoice>&lol2;</EInvoice>',
        "DOCTYPE",
    )
    add("xml_empty_einvoice.xml", b'<?xml version="1.0"?><EInvoice/>', "发票")
    add("gzip.ofd", b"\x1f\x8b\x08\x00" + rng.randbytes(500), "")
    add("elf.pdf", b"\x7fELF\x02\x01\x01" + rng.randbytes(2000), "")
    add("plain.txt", "发票号码：25437000000297554203 价税合计 17.00".encode(), "")
    add("json.pdf", b'{"number": "25437000000297554203"}', "")
    add("utf16.xml", "<?xml version='1.0'?><EInvoice/>".encode("utf-16"), "")
    add("webp_broken.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + rng.randbytes(40), "")
    add("tiff_header.tif", b"II*\x00" + rng.randbytes(100), "")
    add("bmp_header.bmp", b"BM" + rng.randbytes(60), "")
    add("too_big.pdf", b"%PDF-1.4\n" + b"0" * (21 * 1024 * 1024), "过大")
    files["a_directory"] = (tmp, "文件夹")
    files["missing.pdf"] = (tmp / "does-not-exist.pdf", "找不到")
    files["bytes_zero"] = (b"", "空")
    return files


_DIR = Path(tempfile.mkdtemp(prefix="hostile-invoices-"))
HOSTILE = hostile_files(_DIR)


def test_at_least_fifty_hostile_files() -> None:
    assert len(HOSTILE) >= 50


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_is_refused_clearly(name: str) -> None:
    target, expect = HOSTILE[name]
    started = time.monotonic()
    inv = read(target, source=name, limits=LIMITS)  # type: ignore[arg-type]
    elapsed = time.monotonic() - started
    assert elapsed < TIME_LIMIT, f"{name} took {elapsed:.1f}s"
    assert inv.ok is False
    assert inv.error, f"{name}: no error, warnings={inv.warnings}"
    assert not inv.error.startswith("读取失败（"), f"{name}: fell through to the catch-all: {inv.error}"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in inv.error)
    assert expect in inv.error, f"{name}: {inv.error!r} does not say {expect!r}"
    d = inv.to_json_dict()
    assert d["lines"] == [] and d["number"] is None and d["total"] is None
