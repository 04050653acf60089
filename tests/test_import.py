"""Bulk import: a zip from the tax platform with duplicates, junk and hostile entries."""

from __future__ import annotations

import dataclasses
import io
import json
import random
import zipfile
from decimal import Decimal

import pytest
from sqlmodel import Session, select

import main
from erp.book import open_book
from erp.config import Settings, get_settings
from erp.importer import collect, import_batch
from erp.models import Invoice, Voucher
from tests.factories import OUR_NAME, OUR_TAX_ID
from tests.invoice_corpus.data import TruthLine, make_corpus
from tests.invoice_corpus.render import to_ofd, to_pdf, to_xml


def purchase(inv, **changes):
    """A corpus invoice with our company as the buyer."""
    return dataclasses.replace(inv, buyer_name=OUR_NAME, buyer_tax_id=OUR_TAX_ID, **changes)


def blue(corpus):
    return [purchase(i) for i in corpus if not i.is_red]


@pytest.fixture
def book(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'import.db'}"
    for k, v in {
        "DATABASE_URL": url,
        "ZHANGFANG_COMPANY_TAX_ID": OUR_TAX_ID,
        "ZHANGFANG_COMPANY_NAME": OUR_NAME,
        "ZHANGFANG_APPROVAL_THRESHOLD": "100000000",
    }.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    settings = Settings(_env_file=None)
    engine = open_book(settings)
    yield engine, settings
    engine.dispose()
    get_settings.cache_clear()


def make_zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_zip_import_counts_and_second_run_is_a_no_op(book, tmp_path):
    engine, settings = book
    invs = blue(make_corpus(12))[:6]
    a, b, c, d, e, f = invs
    inner = make_zip({"f.xml": to_xml(f)})
    pdf_a = to_pdf(a)
    archive = make_zip(
        {
            "2024-05/a.pdf": pdf_a,
            "2024-05/b.ofd": to_ofd(b),
            "2024-05/c.xml": to_xml(c),
            "2024-05/a_again.xml": to_xml(a),  # same invoice as a.pdf, other format
            "2024-05/a_copy.pdf": pdf_a,  # the same file twice
            "2024-06/d.pdf": to_pdf(d),
            "2024-06/nested/more.zip": inner,
            "notes/meeting.txt": "周五开会讨论预算".encode(),
            "broken/e.pdf": to_pdf(e)[:400],  # truncated
            "__MACOSX/._a.pdf": b"junk",
        }
    )
    path = tmp_path / "export.zip"
    path.write_bytes(archive)
    items = collect([path], settings)
    report = import_batch(engine, settings, items, post=True, workers=1)
    s = report.summary()
    assert s["files"] == 9, report.summary_text()
    assert s["posted"] == 5  # a, b, c, d, f
    assert s["duplicates"] == 2  # a_again.xml (same number), a_copy.pdf (same file)
    assert s["failed"] == 2  # meeting.txt, truncated e.pdf
    reasons = {o.source.rsplit("!", 1)[-1]: o.reason for o in report.outcomes if o.status == "failed"}
    assert set(reasons) == {"notes/meeting.txt", "broken/e.pdf"}
    assert all(reasons.values())
    with Session(engine) as session:
        assert len(session.exec(select(Invoice)).all()) == 5
        vouchers = session.exec(select(Voucher)).all()
        assert len(vouchers) == 5 and all(v.status == "posted" for v in vouchers)
    again = import_batch(engine, settings, collect([path], settings), post=True, workers=1)
    assert again.summary()["posted"] == 0
    assert again.summary()["duplicates"] == 7
    with Session(engine) as session:
        assert len(session.exec(select(Voucher)).all()) == 5
    xlsx = report.write(tmp_path / "report.xlsx")
    csv_path = report.write(tmp_path / "report.csv")
    assert xlsx.stat().st_size > 0
    assert "重复跳过" in csv_path.read_text(encoding="utf-8-sig")


def test_already_booked_invoice_is_skipped(book, tmp_path):
    engine, settings = book
    inv = blue(make_corpus(3))[0]
    (tmp_path / "one.xml").write_bytes(to_xml(inv))
    first = import_batch(engine, settings, collect([tmp_path / "one.xml"], settings), post=False, workers=1)
    assert first.summary()["drafted"] == 1
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "same.pdf").write_bytes(to_pdf(inv))
    second = import_batch(engine, settings, collect([tmp_path / "dir"], settings), post=True, workers=1)
    assert second.summary()["duplicates"] == 1
    assert second.outcomes[0].voucher is not None


def test_zip_bomb_and_path_traversal_refused(book, tmp_path):
    engine, settings = book
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("../../etc/evil.xml", b"<x/>")
        zf.writestr("/abs/evil.xml", b"<x/>")
        zf.writestr("bomb.pdf", b"\0" * (60 << 20))  # 60 MB of zeros, a few KB compressed
    path = tmp_path / "evil.zip"
    path.write_bytes(buf.getvalue())
    small = settings.model_copy(update={"zip_max_total_mb": 500})
    items = collect([path], small)
    errors = {it.source.rsplit("!", 1)[-1]: it.error for it in items}
    assert "越出" in errors["../../etc/evil.xml"]
    assert "绝对路径" in errors["/abs/evil.xml"]
    assert "压缩炸弹" in errors["bomb.pdf"]
    assert all(it.data is None for it in items)
    # a declared total beyond the cap is refused before anything is read
    tiny = settings.model_copy(update={"zip_max_total_mb": 10})
    refused = collect([path], tiny)
    assert len(refused) == 1 and "上限" in refused[0].error
    report = import_batch(engine, settings, items, workers=1)
    assert report.summary()["failed"] == 3


def test_too_many_files_capped(book, tmp_path):
    _, settings = book
    path = tmp_path / "many.zip"
    path.write_bytes(make_zip({f"f{i}.xml": b"<x/>" for i in range(30)}))
    items = collect([path], settings.model_copy(update={"zip_max_files": 10}))
    assert len(items) == 1 and "30 个文件" in items[0].error


def _draft(capsys, *argv) -> list[dict]:
    code = main.main(["invoice", "draft", "--json", "--workers", "1", *argv])
    out = capsys.readouterr().out
    rows = [json.loads(x) for x in out.splitlines() if x.strip()]
    return rows, code


def _accounts(row) -> dict[str, tuple[str, str]]:
    return {ln["account_code"]: (ln["debit"], ln["credit"]) for ln in row["voucher"]["lines"]}


def _balanced(row) -> bool:
    lines = row["voucher"]["lines"]
    return sum(Decimal(x["debit"]) for x in lines) == sum(Decimal(x["credit"]) for x in lines)


def line(name, amount, rate, tax, qty="10"):
    return TruthLine(name=name, spec=None, unit="个", quantity=qty, unit_price=None, amount=Decimal(amount),
                     tax_rate=rate, tax=Decimal(tax))  # fmt: skip


def test_draft_json_accounting_for_each_kind(book, tmp_path, capsys):
    engine, settings = book
    base = make_corpus(1)[0]
    rng = random.Random(5)

    def num():
        return str(rng.randint(10**19, 10**20 - 1))

    goods = [line("*电子元件*电阻器", "500.00", "13%", "65.00")]
    cases = {
        "special_purchase.xml": purchase(base, number=num(), invoice_type="special", lines=goods),
        "normal_purchase.xml": purchase(base, number=num(), invoice_type="normal", lines=goods),
        "sales.xml": dataclasses.replace(
            base, number=num(), seller_name=OUR_NAME, seller_tax_id=OUR_TAX_ID, invoice_type="special",
            lines=[line("*现代服务*咨询费", "1000.00", "6%", "60.00", qty=None)],
        ),
        "exempt.xml": purchase(base, number=num(), invoice_type="normal",
                               lines=[line("*农产品*大米", "300.00", "免税", "0.00")]),
        "services.xml": purchase(base, number=num(), invoice_type="special", lines=[
            line("*餐饮服务*餐费", "100.00", "6%", "6.00", qty=None),
            line("*运输服务*货物运输服务", "200.00", "9%", "18.00", qty=None)]),
        "red.xml": purchase(base, number=num(), invoice_type="special", is_red=True,
                            lines=[line("*电子元件*电阻器", "-500.00", "13%", "-65.00", qty="-10")]),
    }  # fmt: skip
    paths = []
    for name, inv in cases.items():
        p = tmp_path / name
        p.write_bytes(to_xml(inv))
        paths.append(str(p))
    rows, code = _draft(capsys, *paths)
    by = {r["source"].rsplit("/", 1)[-1]: r for r in rows}
    assert code == 0, [r["error"] for r in rows]
    assert all(_balanced(r) for r in rows)
    assert _accounts(by["special_purchase.xml"]) == {
        "1405": ("500.00", "0.00"), "22210101": ("65.00", "0.00"), "2202": ("0.00", "565.00")}  # fmt: skip
    assert by["special_purchase.xml"]["direction"] == "purchase"
    assert _accounts(by["normal_purchase.xml"]) == {"1405": ("565.00", "0.00"), "2202": ("0.00", "565.00")}
    assert by["sales.xml"]["direction"] == "sales"
    assert _accounts(by["sales.xml"]) == {
        "1122": ("1060.00", "0.00"), "5001": ("0.00", "1000.00"), "22210102": ("0.00", "60.00")}  # fmt: skip
    exempt = _accounts(by["exempt.xml"])
    assert "22210101" not in exempt and exempt["2202"] == ("0.00", "300.00")
    svc = _accounts(by["services.xml"])
    assert svc["560202"] == ("106.00", "0.00") and svc["560101"] == ("200.00", "0.00")
    assert svc["22210101"] == ("18.00", "0.00")
    red = _accounts(by["red.xml"])
    assert red["2202"] == ("0.00", "-565.00") and red["22210101"] == ("-65.00", "0.00")
    party_lines = [
        ln for ln in by["special_purchase.xml"]["voucher"]["lines"] if ln["account_code"] == "2202"
    ]
    assert party_lines[0]["party"] == base.seller_name
    # nothing was written
    with Session(engine) as session:
        assert session.exec(select(Invoice)).all() == []


def test_draft_direction_unknown_and_override(book, tmp_path, capsys):
    inv = make_corpus(2)[1]  # neither party is us
    p = tmp_path / "other.xml"
    p.write_bytes(to_xml(inv))
    rows, _ = _draft(capsys, str(p))
    assert rows[0]["direction"] is None and rows[0]["voucher"] is None
    assert any("无法判断" in w for w in rows[0]["warnings"])
    rows, _ = _draft(capsys, "--direction", "purchase", str(p))
    assert rows[0]["direction"] == "purchase" and _balanced(rows[0])


def test_two_workers_read_in_order_with_sources(book, tmp_path):
    from erp.importer import read_items

    _, settings = book
    invs = blue(make_corpus(6))[:3]
    for i, inv in enumerate(invs):
        (tmp_path / f"{i}.pdf").write_bytes(to_pdf(inv))
    items = collect(sorted(tmp_path.glob("*.pdf")), settings)
    got = list(read_items(items, workers=2, settings=settings))
    assert [p["number"] for _, p in got] == [inv.number for inv in invs]
    assert [p["source"] for _, p in got] == [it.source for it in items]
