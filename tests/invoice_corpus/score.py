"""Field-by-field scoring of a parsed invoice against the generator's truth (shared by tests and bench)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

TOP_FIELDS = (
    "invoice_type",
    "is_red",
    "number",
    "code",
    "issue_date",
    "total_amount",
    "total_tax",
    "total",
    "total_in_words",
    "remarks",
    "issuer",
)
LINE_FIELDS = ("name", "spec", "unit", "quantity", "unit_price", "amount", "tax_rate", "tax")


def flatten(d: dict[str, Any], n_lines: int | None = None) -> dict[str, Any]:
    out = {f: d.get(f) for f in TOP_FIELDS}
    for side in ("buyer", "seller"):
        party = d.get(side) or {}
        out[f"{side}.name"] = party.get("name")
        out[f"{side}.tax_id"] = party.get("tax_id")
    lines = d.get("lines") or []
    for i in range(n_lines if n_lines is not None else len(lines)):
        ln = lines[i] if i < len(lines) else {}
        for f in LINE_FIELDS:
            out[f"lines.{i}.{f}"] = ln.get(f)
    return out


TEXT_FIELDS = ("name", "remarks", "spec", "unit", "issuer")


def same(name: str, got: Any, want: Any) -> bool:
    """Equal values; free text compares after NFKC, because full- and half-width punctuation
    (： and :, （ and () look alike on paper and no OCR can tell them apart."""
    if got == want:
        return True
    if isinstance(got, str) and isinstance(want, str) and name.rsplit(".", 1)[-1] in TEXT_FIELDS:
        return unicodedata.normalize("NFKC", got) == unicodedata.normalize("NFKC", want)
    return False


def is_doubtful(name: str, doubtful: set[str]) -> bool:
    return any(name == d or name.startswith(d + ".") for d in doubtful)


@dataclass
class Score:
    fields: int = 0
    correct: int = 0
    confident: int = 0  # returned (not null) and not made doubtful by any warning
    confident_wrong: int = 0
    invoices: int = 0
    fully_correct: int = 0
    wrong_examples: list[str] = field(default_factory=list)

    def add(self, got: dict[str, Any], want: dict[str, Any], doubtful: set[str] | None) -> None:
        """``doubtful`` None means the reader gives no per-field warnings: every value counts as confident."""
        truth = flatten(want)
        seen = flatten(got, len(want["lines"]))
        self.invoices += 1
        all_ok = len(got.get("lines") or []) == len(want["lines"])
        for name, value in truth.items():
            self.fields += 1
            ok = same(name, seen.get(name), value)
            self.correct += ok
            all_ok = all_ok and ok
            returned = seen.get(name) is not None and not got.get("error")
            if returned and (doubtful is None or not is_doubtful(name, doubtful)):
                self.confident += 1
                if not ok:
                    self.confident_wrong += 1
                    if len(self.wrong_examples) < 8:
                        self.wrong_examples.append(f"{want['source']}:{name} {seen.get(name)!r}≠{value!r}")
        self.fully_correct += all_ok

    @property
    def accuracy(self) -> float:
        return self.correct / self.fields if self.fields else 0.0

    @property
    def full_share(self) -> float:
        return self.fully_correct / self.invoices if self.invoices else 0.0

    @property
    def confident_wrong_share(self) -> float:
        return self.confident_wrong / self.confident if self.confident else 0.0
