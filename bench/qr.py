"""Phone photos read with and without the QR cross-check, in the same run.

    PYTHONPATH=. OMP_THREAD_LIMIT=1 python bench/qr.py [--n 16] [--workers 2]

Each photo is a corpus invoice rendered with its QR (intact, stained,
damaged past repair, or cropped out of the frame) and degraded as a phone
photo; half of them harder than the default. Each is read once by
``invoice_ocr.read`` with the QR cross-check off (the baseline), then
``qr.cross_check`` is applied to a copy of that same reading, so both columns
come from one OCR pass. Printed per column: field accuracy, share of fully
correct invoices, share of invoices returned without warnings, and the share
of fields returned without a warning that are wrong (a confident wrong value
is the worst outcome in bookkeeping) — overall and for the fields the QR
speaks for (number, date, amount).
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

TODAY = date(2026, 11, 28)
QR_FIELDS = ("number", "issue_date", "total", "total_amount")
PLAN = ("ok", "ok", "ok", "stained", "ok", "damaged", "ok", "cropped")  # repeated over the photos


from tests.invoice_corpus.score import flatten  # noqa: E402 - the scoring the tests and bench/invoices use
from tests.invoice_corpus.score import is_doubtful as doubtful  # noqa: E402


@dataclass
class Score:
    invoices: int = 0
    fully_correct: int = 0
    without_warnings: int = 0
    fields: int = 0
    correct: int = 0
    confident: int = 0
    confident_wrong: int = 0
    qr_fields: int = 0
    qr_correct: int = 0
    qr_confident: int = 0
    qr_confident_wrong: int = 0
    wrong: list[str] = field(default_factory=list)
    qr_wrong: list[str] = field(default_factory=list)

    def add(self, got: dict[str, Any], truth: dict[str, Any], unsure: set[str], key: str) -> None:
        n = len(truth["lines"])
        want, have = flatten(truth, n), flatten(got, n)
        self.invoices += 1
        self.without_warnings += not got["warnings"]
        all_right = True
        for name, value in want.items():
            right = have[name] == value
            confident = have[name] is not None and not doubtful(name, unsure)
            all_right &= right
            self.fields += 1
            self.correct += right
            self.confident += confident
            self.confident_wrong += confident and not right
            if name in QR_FIELDS:
                self.qr_fields += 1
                self.qr_correct += right
                self.qr_confident += confident
                self.qr_confident_wrong += confident and not right
                if not right:
                    flag = "confident" if confident else "flagged"
                    self.qr_wrong.append(f"{key} {name}: {have[name]!r} (truth {value!r}, {flag})")
            if confident and not right:
                self.wrong.append(f"{key} {name}: {have[name]!r} (truth {value!r})")
        self.fully_correct += all_right

    def merge(self, other: Score) -> None:
        for name in self.__dataclass_fields__:
            if name in ("wrong", "qr_wrong"):
                getattr(self, name).extend(getattr(other, name))
            else:
                setattr(self, name, getattr(self, name) + getattr(other, name))


def one_photo(job: tuple[int, str, float, str, int]) -> dict[str, Any]:
    """Read one photo: the baseline reading, then the QR cross-check on a copy of it."""
    from invoice_ocr import qr, read
    from invoice_ocr.readers import Limits
    from tests.invoice_corpus.data import make_corpus
    from tests.invoice_corpus.qr import photo_with_qr

    index, state, strength, engine, dpi = job
    inv = make_corpus()[index]
    data = photo_with_qr(inv, state, seed=1000 + index, strength=strength, dpi=dpi)
    source = f"{inv.key}-{state}.jpg"
    started = time.monotonic()
    with qr.disabled():
        base = read(data, source=source, today=TODAY, limits=Limits(ocr_engine=engine))
    ocr_seconds = time.monotonic() - started
    checked = copy.deepcopy(base)
    started = time.monotonic()
    qr.cross_check(checked, data, "image", today=TODAY)
    qr_seconds = time.monotonic() - started
    truth = inv.truth_json(source, "image")
    return {
        "key": source,
        "state": state,
        "strength": strength,
        "truth": truth,
        "runs": {
            "without QR": (base.to_json_dict(), sorted(base.doubtful_fields()), base.error),
            "with QR": (checked.to_json_dict(), sorted(checked.doubtful_fields()), checked.error),
        },
        "decoded": "qr" in checked.meta,
        "payload": checked.meta.get("qr"),
        "chosen": {**checked.meta.get("qr_chosen", {}), **checked.meta.get("qr_filled", {})},
        "confirmed": checked.meta.get("qr_confirmed", []),
        "ocr_seconds": ocr_seconds,
        "qr_seconds": qr_seconds,
    }


def pct(a: int, b: int) -> str:
    return f"{100 * a / b:5.1f}%" if b else "   – "


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=16, help="photos (default 16)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engine", default="auto", help="OCR engine for Limits.ocr_engine (default auto)")
    parser.add_argument("--dpi", type=int, default=200, help="page resolution before degrading (default 200)")
    parser.add_argument(
        "--hard", type=float, default=1.5, help="degradation of every other photo (default 1.5)"
    )
    parser.add_argument(
        "--show-wrong", action="store_true", help="list confident wrong fields and QR-field errors"
    )
    args = parser.parse_args(argv)

    from tests.invoice_corpus.data import make_corpus

    corpus_size = len(make_corpus())
    jobs = [
        (
            int(k * corpus_size / args.n) % corpus_size,
            PLAN[k % len(PLAN)],
            1.0 if k % 2 == 0 else args.hard,
            args.engine,
            args.dpi,
        )
        for k in range(args.n)
    ]
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(one_photo, jobs))
    wall = time.monotonic() - started

    scores = {"without QR": Score(), "with QR": Score()}
    by_state: dict[str, dict[str, Score]] = {}
    failed = 0
    for r in results:
        for run, (got, unsure, error) in r["runs"].items():
            if error:
                failed += run == "without QR"
            s = Score()
            s.add(got, r["truth"], set(unsure), r["key"])
            scores[run].merge(s)
            by_state.setdefault(r["state"], {}).setdefault(run, Score()).merge(s)

    print(
        f"{len(results)} photos ({failed} not read at all), engine {args.engine}, "
        f"strength 1.0/{args.hard}, {args.dpi} dpi, {args.workers} workers, {wall:.0f} s wall"
    )
    decoded = {st: [r["decoded"] for r in results if r["state"] == st] for st in dict.fromkeys(PLAN)}
    print("QR decoded: " + ", ".join(f"{st} {sum(v)}/{len(v)}" for st, v in decoded.items() if v))
    print(
        f"median seconds per photo: OCR {statistics.median(r['ocr_seconds'] for r in results):.2f}, "
        f"QR cross-check {statistics.median(r['qr_seconds'] for r in results):.3f}"
    )
    header = (
        f"{'':12}{'field acc':>10}{'fully ok':>10}{'no warn':>9}{'conf.wrong':>11}"
        f"{'QR-field acc':>13}{'QR conf.wrong':>14}{'confident':>10}"
    )
    print(header)
    for run, s in scores.items():
        print(
            f"{run:12}{pct(s.correct, s.fields):>10}{pct(s.fully_correct, s.invoices):>10}"
            f"{pct(s.without_warnings, s.invoices):>9}{pct(s.confident_wrong, s.confident):>11}"
            f"{pct(s.qr_correct, s.qr_fields):>13}{pct(s.qr_confident_wrong, s.qr_confident):>14}"
            f"{pct(s.confident, s.fields):>10}"
        )
    print("by QR state (field acc / confident wrong, without → with):")
    for state, runs in by_state.items():
        a, b = runs["without QR"], runs["with QR"]
        print(
            f"  {state:8} {pct(a.correct, a.fields)} → {pct(b.correct, b.fields)}   "
            f"{pct(a.confident_wrong, a.confident)} → {pct(b.confident_wrong, b.confident)}"
        )
    # Not done (the rule keeps an unread number or date null): how often the QR could have filled one.
    could, right = 0, 0
    for r in results:
        payload, got = r["payload"], r["runs"]["with QR"][0]
        if not payload:
            continue
        for name, value in (
            ("number", payload["number"]),
            ("issue_date", payload["issue_date"]),
            (payload["amount_field"], payload["amount"]),
        ):
            if name and got.get(name) is None:
                could += 1
                right += r["truth"][name] == value
    print(
        f"null QR fields the QR could have filled (left null by the rule): {could}, equal to the truth: {right}"
    )
    chosen = [(r["key"], r["chosen"]) for r in results if r["chosen"]]
    print(f"QR chose or filled a value on {len(chosen)} photos: {chosen}")
    if args.show_wrong:
        for run, s in scores.items():
            print(f"confident wrong, {run}:")
            for w in s.wrong:
                print("   ", w)
            print(f"QR-field errors, {run}:")
            for w in s.qr_wrong:
                print("   ", w)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
