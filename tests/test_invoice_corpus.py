"""Golden tests on the generated corpus: the generator knows the truth, the parser must give it back.

Text PDF, OFD and XML run by default (fast); scans and photos are in
test_invoice_images.py.
"""

from __future__ import annotations

from datetime import date

import pytest

from invoice_ocr import read
from tests.invoice_corpus.data import RATES, make_corpus
from tests.invoice_corpus.render import paginate, to_ofd, to_pdf, to_xml

TODAY = date(2026, 11, 28)
CORPUS = make_corpus()
RENDER = {"pdf": to_pdf, "ofd": to_ofd, "xml": to_xml}


def test_corpus_covers_what_the_issue_asks_for() -> None:
    assert len(CORPUS) >= 40
    assert {inv.invoice_type for inv in CORPUS} == {"special", "normal"}
    assert {ln.tax_rate for inv in CORPUS for ln in inv.lines} == set(RATES)
    assert {len(inv.lines) for inv in CORPUS} == set(range(1, 9))
    assert any(inv.buyer_tax_id is None for inv in CORPUS)  # persons as buyers
    assert any(inv.is_red for inv in CORPUS)
    assert any(len(paginate(inv)) > 1 for inv in CORPUS)
    assert any(len(ln.unit_price or "") > 10 for inv in CORPUS for ln in inv.lines)
    assert any(len(inv.seller_name) > 18 for inv in CORPUS)
    assert any(len(ln.name) > 12 for inv in CORPUS for ln in inv.lines)  # wrapped names


@pytest.mark.parametrize("fmt", sorted(RENDER))
@pytest.mark.parametrize("inv", CORPUS, ids=[inv.key for inv in CORPUS])
def test_generated_invoice_reads_to_its_truth(fmt: str, inv) -> None:  # noqa: ANN001
    source = f"{inv.key}.{fmt}"
    got = read(RENDER[fmt](inv), source=source, today=TODAY).to_json_dict()
    assert got == inv.truth_json(source, fmt)
