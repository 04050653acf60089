"""The invoice QR code: payload fields per invoice kind, decoding from every format, and the cross-check.

Sample payloads and their truth are written out by hand from the files in
tests/fixtures/samples (copied from ../shared/samples); the amount of each is
checked against the invoice's own totals, which is how the amount basis per
kind in invoice_ocr/qr_payload.py was found.
"""

from __future__ import annotations

import copy
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from invoice_ocr import qr, read
from invoice_ocr.checks import check
from invoice_ocr.model import ParsedInvoice
from invoice_ocr.qr import (
    apply_qr,
    choose_payload,
    cross_check,
    decode_qr,
    parse_payload,
    qr_from_image,
    qr_from_ofd,
    qr_from_pdf,
)
from invoice_ocr.qr_payload import read_payload
from tests.invoice_corpus.data import make_corpus
from tests.invoice_corpus.qr import (
    QR_STATES,
    ofd_with_qr,
    page_with_qr,
    payload_for,
    pdf_with_qr,
    qr_image,
)
from tests.invoice_corpus.render import to_pdf

SAMPLES = Path(__file__).parent / "fixtures" / "samples"
TODAY = date(2026, 11, 28)
CORPUS = make_corpus(12)

# file -> (QR text, type code, 发票代码, 发票号码, amount, which total the amount is, date, 校验码)
SAMPLE_QR = {
    "zqywuxie__postage_1.pdf": (
        "01,32,,25437000000297554203,17.00,20251013,,9D0B",
        "32", None, "25437000000297554203", "17.00", "total", date(2025, 10, 13), None,
    ),
    "ofdrw__20240531141733_shudian.ofd": (
        "01,31,,24112000000048542163,4449.00,20240528,,B2B6",
        "31", None, "24112000000048542163", "4449.00", "total", date(2024, 5, 28), None,
    ),
    "ofdrw__1.ofd": (  # the QR is a JBIG2 image
        "01,10,033002000211,83089647,510.68,20200723,16197833567414507415,0941,",
        "10", "033002000211", "83089647", "510.68", "total_amount", date(2020, 7, 23), "16197833567414507415",
    ),
    "ofdrw__fapiao_shili.ofd": (
        "01,10,050001700111,99999951,300.00,20201010,14754822929856772523,E400,",
        "10", "050001700111", "99999951", "300.00", "total_amount", date(2020, 10, 10), "14754822929856772523",
    ),
    "yooongchun__didi.pdf": (
        "01,10,012001800211,23326471,734.59,20180921,16707184549009707698,B7D0,",
        "10", "012001800211", "23326471", "734.59", "total_amount", date(2018, 9, 21), "16707184549009707698",
    ),
    "yooongchun__91420000722084584J_8cd62e109ec84973b3b39d166e52298c.pdf": (  # tolls, still type 10
        "01,10,042001700112,11162913,184.65,20180323,11241636206802490280,DDB1,",
        "10", "042001700112", "11162913", "184.65", "total_amount", date(2018, 3, 23), "11241636206802490280",
    ),
}  # fmt: skip
# The same invoices' printed totals (金额, 价税合计), from test_invoice_samples.TRUTH.
SAMPLE_TOTALS = {
    "zqywuxie__postage_1.pdf": ("16.04", "17.00"),
    "ofdrw__20240531141733_shudian.ofd": ("4197.17", "4449.00"),
    "ofdrw__1.ofd": ("510.68", "526.00"),
    "ofdrw__fapiao_shili.ofd": ("300.00", "318.00"),
    "yooongchun__didi.pdf": ("734.59", "756.63"),
    "yooongchun__91420000722084584J_8cd62e109ec84973b3b39d166e52298c.pdf": ("184.65", "190.19"),
}


# ---------------------------------------------------------------- payload


@pytest.mark.parametrize("name", sorted(SAMPLE_QR))
def test_sample_payload_parses_to_its_fields(name: str) -> None:
    text, type_code, code, number, amount, basis, day, check_code = SAMPLE_QR[name]
    p = parse_payload(text)
    assert p is not None
    assert (p.type_code, p.code, p.number, p.amount, p.issue_date, p.check_code) == (
        type_code,
        code,
        number,
        Decimal(amount),
        day,
        check_code,
    )
    assert p.amount_field == basis
    assert p.is_shudian == (code is None)


@pytest.mark.parametrize("name", sorted(SAMPLE_QR))
def test_amount_basis_matches_the_invoices_own_totals(name: str) -> None:
    """数电票 (31, 32) carry 价税合计; legacy type 10 carries 金额 without tax — and never the other one."""
    text, *_ = SAMPLE_QR[name]
    total_amount, total = SAMPLE_TOTALS[name]
    p = parse_payload(text)
    assert p is not None
    expected = total if p.amount_field == "total" else total_amount
    other = total_amount if p.amount_field == "total" else total
    assert str(p.amount) == expected != other


def test_every_sample_file_is_covered() -> None:
    assert sorted(SAMPLE_QR) == sorted(p.name for p in SAMPLES.iterdir())


@pytest.mark.parametrize(
    "text, why",
    [
        ("https://inv-veri.chinatax.gov.cn/", "不是发票信息"),
        ("WIFI:S:office;T:WPA;P:12345678;;", "不是发票信息"),
        ("", "不是发票信息"),
        ("01,32,,2543700000029755420,17.00,20251013,,9D0B", "发票号码"),  # 19 digits
        ("01,32,,25437000000297554203,17.00,20251332,,9D0B", "不是真实的日期"),
        ("01,32,,25437000000297554203,十七元,20251013,,9D0B", "金额"),
        ("01,10,,83089647,510.68,20200723,16197833567414507415,0941,", "不相配"),  # 8 digits need a code
        ("01,31,033002000211,24112000000048542163,4449.00,20240528,,B2B6", "不相配"),
    ],
)
def test_non_invoice_payload_is_none_with_a_reason(text: str, why: str) -> None:
    payload, reason = read_payload(text)
    assert payload is None and reason is not None and why in reason
    assert parse_payload(text) is None


def test_red_invoice_amount_is_signed() -> None:
    p = parse_payload("01,32,,25437000000297554203,-17.00,20251013,,9D0B")
    assert p is not None and p.amount == Decimal("-17.00")


def test_unknown_kind_keeps_the_amount_but_compares_nothing_with_it() -> None:
    p = parse_payload("01,03,033002000211,83089647,510.68,20200723,,0941")
    assert p is not None and p.amount_field is None and p.invoice_type is None


# ---------------------------------------------------------------- decoding


@pytest.mark.parametrize("name", sorted(SAMPLE_QR))
def test_sample_qr_decodes_from_the_file(name: str) -> None:
    data = (SAMPLES / name).read_bytes()
    texts = qr_from_pdf(data) if name.endswith(".pdf") else qr_from_ofd(data)
    assert texts[:1] == [SAMPLE_QR[name][0]]


def test_jbig2_qr_in_ofd_is_decoded_from_the_image_not_only_the_graph_code() -> None:
    import zipfile

    src = zipfile.ZipFile(SAMPLES / "ofdrw__1.ofd")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for name in src.namelist():
            if not name.endswith("original_invoice.xml"):
                dst.writestr(name, src.read(name))
    assert qr_from_ofd(buf.getvalue()) == [SAMPLE_QR["ofdrw__1.ofd"][0]]


def test_generated_pdf_and_ofd_carry_the_payload() -> None:
    inv = CORPUS[1]
    assert qr_from_pdf(pdf_with_qr(inv)) == [payload_for(inv)]
    assert qr_from_ofd(ofd_with_qr(inv)) == [payload_for(inv)]
    assert qr_from_pdf(to_pdf(inv)) == []


def test_payload_for_a_truth_invoice_states_its_fields() -> None:
    for inv in CORPUS:
        p = parse_payload(payload_for(inv))
        assert p is not None
        assert (p.number, p.issue_date, p.amount, p.invoice_type) == (
            inv.number,
            inv.issue_date,
            inv.total,
            inv.invoice_type,
        )


@pytest.mark.parametrize("state", QR_STATES)
def test_page_image_decodes_only_when_the_code_survives(state: str) -> None:
    inv = CORPUS[2]
    texts = decode_qr(page_with_qr(inv, state, seed=7))
    assert texts == ([payload_for(inv)] if state in ("ok", "stained") else [])


def test_decode_accepts_numpy_gray_and_bgr() -> None:
    import numpy as np

    img = qr_image("01,32,,25437000000297554203,17.00,20251013,,9D0B")
    gray = np.asarray(img)
    bgr = np.stack([gray] * 3, axis=-1)
    assert decode_qr(gray) == decode_qr(bgr) == ["01,32,,25437000000297554203,17.00,20251013,,9D0B"]


def test_small_code_in_a_big_photo_is_found_in_the_upscaled_corner() -> None:
    from PIL import Image

    page = page_with_qr(CORPUS[3], "ok").resize((827, 551))  # ~100 dpi: 2 px per module
    canvas = Image.new("L", (3000, 2200), 140)
    canvas.paste(page, (0, 0))
    buf = io.BytesIO()
    canvas.save(buf, "JPEG", quality=70)
    assert qr_from_image(buf.getvalue()) == [payload_for(CORPUS[3])]


def test_broken_inputs_decode_to_nothing() -> None:
    assert qr_from_pdf(b"%PDF-1.4 broken") == []
    assert qr_from_ofd(b"PK\x03\x04 not a zip") == []


# ---------------------------------------------------------------- cross-check on text files


def _read(data: bytes, source: str = "t") -> ParsedInvoice:
    """A reading without the QR, whether or not ``read`` calls ``cross_check`` itself."""
    with qr.disabled():
        inv = read(data, source=source, today=TODAY)
    assert inv.error is None, inv.error
    return inv


@pytest.mark.parametrize("name", sorted(SAMPLE_QR))
def test_samples_are_confirmed_by_their_qr_and_keep_their_json(name: str) -> None:
    data = (SAMPLES / name).read_bytes()
    inv = _read(data, name)
    before = inv.to_json_dict()
    cross_check(inv, data, "pdf" if name.endswith(".pdf") else "ofd", today=TODAY)
    assert inv.to_json_dict() == before
    basis = SAMPLE_QR[name][5]
    assert {"number", "issue_date", basis, "invoice_type"} <= set(inv.meta["qr_confirmed"])
    assert inv.meta["qr"]["raw"] == SAMPLE_QR[name][0]


def test_agreement_confirms_number_date_and_total() -> None:
    inv_truth = CORPUS[0]
    data = pdf_with_qr(inv_truth)
    inv = _read(data)
    cross_check(inv, data, "pdf", today=TODAY)
    assert inv.ok and inv.warnings == []
    assert inv.meta["qr_confirmed"] == ["number", "issue_date", "total", "invoice_type"]


def test_disagreement_warns_naming_both_values_and_keeps_the_printed_one() -> None:
    truth = CORPUS[0]
    wrong_number = truth.number[:-1] + ("0" if truth.number[-1] != "0" else "1")
    text = payload_for(truth).replace(truth.number, wrong_number).replace(str(truth.total), "1.00")
    data = pdf_with_qr(truth, text)
    inv = _read(data)
    cross_check(inv, data, "pdf", today=TODAY)
    assert inv.number == truth.number and inv.total == truth.total
    assert not inv.ok
    number_warning = next(w for w in inv.warnings if "发票号码" in w)
    assert wrong_number in number_warning and truth.number in number_warning
    total_warning = next(w for w in inv.warnings if "价税合计" in w)
    assert "1.00" in total_warning and str(truth.total) in total_warning
    assert {"number", "total"} <= inv.doubtful_fields()
    assert "number" not in inv.meta["qr_confirmed"]


def test_text_pdf_never_lets_the_qr_choose() -> None:
    truth = CORPUS[0]
    inv = _read(to_pdf(truth))
    inv.total = truth.total + Decimal("0.50")  # as if the page itself said so
    check(inv, TODAY)
    apply_qr(inv, parse_payload(payload_for(truth)), ocr=False, today=TODAY)
    assert inv.total == truth.total + Decimal("0.50") and not inv.ok


def test_url_qr_is_ignored_with_a_note() -> None:
    truth = CORPUS[1]
    data = pdf_with_qr(truth, "https://example.com/pay?id=42")
    inv = _read(data)
    cross_check(inv, data, "pdf", today=TODAY)
    assert inv.ok and inv.warnings == []
    assert "qr" not in inv.meta and any("不是发票信息" in n for n in inv.meta["qr_notes"])


def test_no_qr_leaves_the_reading_alone_with_a_note() -> None:
    data = to_pdf(CORPUS[1])
    inv = _read(data)
    before = (inv.to_json_dict(), inv.ok)
    cross_check(inv, data, "pdf", today=TODAY)
    assert (inv.to_json_dict(), inv.ok) == before
    assert inv.meta["qr_notes"] == ["未找到可识别的二维码，仅按票面文字读取"]


def test_ofd_cross_check_and_xml_is_skipped() -> None:
    truth = CORPUS[2]
    data = ofd_with_qr(truth)
    inv = _read(data)
    cross_check(inv, data, "ofd", today=TODAY)
    assert inv.ok and "number" in inv.meta["qr_confirmed"]
    untouched = copy.deepcopy(inv)
    cross_check(inv, b"<EInvoice/>", "xml", today=TODAY)
    assert inv.meta == untouched.meta


def test_failed_read_is_left_alone() -> None:
    inv = ParsedInvoice.failed("x", "不是发票")
    cross_check(inv, pdf_with_qr(CORPUS[0]), "pdf", today=TODAY)
    assert inv.meta == {} and inv.error == "不是发票"


def test_two_different_invoice_codes_note_that_only_the_first_was_used() -> None:
    a, b = payload_for(CORPUS[0]), payload_for(CORPUS[1])
    payload, notes = choose_payload(["https://x.cn", a, b])
    assert payload is not None and payload.raw == a
    assert any("不是发票信息" in n for n in notes) and any("只核对了第一个" in n for n in notes)


# ---------------------------------------------------------------- cross-check on OCR readings


def _ocr_reading(truth_index: int = 0, **changes: object) -> tuple[ParsedInvoice, object]:
    """A reading of a corpus invoice as OCR might return it: ``changes`` applied, then checked."""
    truth = CORPUS[truth_index]
    inv = _read(to_pdf(truth))
    low = changes.pop("low_conf", None)
    for field, value in changes.items():
        setattr(inv, field, value)
    inv.meta["engine"] = "test-ocr"
    if low:
        inv.meta["low_conf"] = set(low)  # type: ignore[arg-type]
    inv.warnings, inv.meta["doubtful"] = [], {}
    check(inv, TODAY)
    return inv, truth


def test_ocr_amount_misread_is_chosen_by_the_qr_when_words_and_sums_agree() -> None:
    truth = CORPUS[0]
    misread = truth.total + Decimal("0.50")
    inv, _ = _ocr_reading(0, total=misread)
    assert not inv.ok and "total" in inv.doubtful_fields()
    apply_qr(inv, parse_payload(payload_for(truth)), today=TODAY)
    assert inv.total == truth.total
    assert inv.ok and inv.warnings == []
    assert inv.meta["qr_chosen"] == {"total": {"printed": str(misread), "qr": str(truth.total)}}


def test_ocr_amount_is_not_chosen_when_the_checks_side_with_the_page() -> None:
    """A QR for another amount than words and sums say: prefer neither, warn with both values."""
    truth = CORPUS[0]
    inv, _ = _ocr_reading(0)
    other = truth.total + Decimal("100")
    text = payload_for(truth).replace(str(truth.total), str(other))
    apply_qr(inv, parse_payload(text), today=TODAY)
    assert inv.total == truth.total and not inv.ok
    assert any(str(other) in w and str(truth.total) in w for w in inv.warnings)


def test_missing_amount_is_filled_only_when_the_checks_agree() -> None:
    truth = CORPUS[0]
    inv, _ = _ocr_reading(0, total=None)
    apply_qr(inv, parse_payload(payload_for(truth)), today=TODAY)
    assert inv.total == truth.total and inv.ok
    assert inv.meta["qr_filled"] == {"total": str(truth.total)}

    inv, _ = _ocr_reading(0, total=None, total_in_words=None, total_tax=None)
    apply_qr(inv, parse_payload(payload_for(truth)), today=TODAY)
    assert inv.total is None and "qr_filled" not in inv.meta
    assert any("二维码上为" in w and str(truth.total) in w for w in inv.warnings)


def test_ocr_number_with_confusable_letters_is_chosen_but_a_wellformed_one_only_warned() -> None:
    truth = CORPUS[0]
    garbled = truth.number.replace("0", "O", 1).replace("1", "I", 1)
    assert garbled != truth.number
    inv, _ = _ocr_reading(0, number=garbled)
    apply_qr(inv, parse_payload(payload_for(truth)), today=TODAY)
    assert inv.number == truth.number and inv.ok

    digit_off = truth.number[:5] + str((int(truth.number[5]) + 3) % 10) + truth.number[6:]
    inv, _ = _ocr_reading(0, number=digit_off)
    apply_qr(inv, parse_payload(payload_for(truth)), today=TODAY)
    assert inv.number == digit_off and not inv.ok
    assert any(digit_off in w and truth.number in w for w in inv.warnings)


def test_ocr_number_with_a_dropped_digit_is_chosen() -> None:
    truth = CORPUS[0]
    inv, _ = _ocr_reading(0, number=truth.number[:7] + truth.number[8:])
    apply_qr(inv, parse_payload(payload_for(truth)), today=TODAY)
    assert inv.number == truth.number and inv.ok


def test_missing_number_is_not_filled_but_the_warning_gives_the_qr_value() -> None:
    truth = CORPUS[0]
    inv, _ = _ocr_reading(0, number=None)
    apply_qr(inv, parse_payload(payload_for(truth)), today=TODAY)
    assert inv.number is None and not inv.ok
    assert any("发票号码" in w and truth.number in w for w in inv.warnings)


def test_confirmation_answers_a_low_confidence_flag() -> None:
    truth = CORPUS[0]
    inv, _ = _ocr_reading(0, low_conf={"number", "seller.name"})
    assert any("发票号码识别置信度低" in w for w in inv.warnings)
    apply_qr(inv, parse_payload(payload_for(truth)), today=TODAY)
    assert not any("发票号码" in w for w in inv.warnings)
    assert any("销售方名称识别置信度低" in w for w in inv.warnings)  # the QR says nothing about names
    assert "number" in inv.meta["qr_confirmed"]


def test_legacy_payload_checks_total_amount_not_total() -> None:
    data = (SAMPLES / "yooongchun__didi.pdf").read_bytes()
    inv = _read(data)
    inv.total_amount = Decimal("784.59")  # a 3 read as 8
    inv.meta["engine"] = "test-ocr"
    inv.warnings, inv.meta["doubtful"] = [], {}
    check(inv, TODAY)
    apply_qr(inv, parse_payload(SAMPLE_QR["yooongchun__didi.pdf"][0]), today=TODAY)
    assert inv.total_amount == Decimal("734.59") and inv.ok


def test_red_invoice_with_signed_amount_is_confirmed() -> None:
    red = next(inv for inv in make_corpus() if inv.is_red)
    data = pdf_with_qr(red)
    inv = _read(data)
    assert inv.total is not None and inv.total < 0
    cross_check(inv, data, "pdf", today=TODAY)
    assert "total" in inv.meta["qr_confirmed"] and inv.ok


def test_disabled_cross_check_does_nothing() -> None:
    data = pdf_with_qr(CORPUS[0])
    inv = _read(data)
    with qr.disabled():
        cross_check(inv, data, "pdf", today=TODAY)
    assert "qr_confirmed" not in inv.meta and "qr_notes" not in inv.meta
    cross_check(inv, data, "pdf", today=TODAY)
    assert "number" in inv.meta["qr_confirmed"]


@pytest.mark.parametrize("state", ["stained", "damaged", "cropped"])
def test_photo_cross_check_uses_a_readable_code_and_reads_on_without_one(state: str) -> None:
    """The reading stands in for OCR's (the text PDF's); the QR comes from the degraded photo."""
    from tests.invoice_corpus.qr import photo_with_qr

    truth = CORPUS[4]
    inv = _read(to_pdf(truth))
    inv.meta["engine"] = "test-ocr"
    before = inv.to_json_dict()
    cross_check(inv, photo_with_qr(truth, state, seed=11), "image", today=TODAY)
    assert inv.to_json_dict() == before
    if state == "stained":
        assert {"number", "issue_date", "total"} <= set(inv.meta["qr_confirmed"])
    else:
        assert "qr" not in inv.meta and inv.meta["qr_notes"] == ["未找到可识别的二维码，仅按票面文字读取"]


def test_scanned_pdf_and_photo_pdf_give_their_qr() -> None:
    from PIL import Image

    from tests.invoice_corpus.qr import photo_with_qr

    truth = CORPUS[5]
    scan = page_with_qr(truth, "ok").convert("RGB")
    photo = Image.open(io.BytesIO(photo_with_qr(truth, "ok", seed=3))).convert("RGB")
    for img in (scan, photo):
        buf = io.BytesIO()
        img.save(buf, "PDF", resolution=200)
        assert qr_from_pdf(buf.getvalue()) == [payload_for(truth)]
