"""The parsed invoice: plain values with Decimal money, and its JSON shape.

``to_json_dict`` gives exactly the shape of ``invoice.schema.json``: money as
two-place strings, the date as ISO text. Things the schema has no place for
(which engine read it, which fields a warning concerns) live in ``meta`` and
are not printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from values.money import to_str2


@dataclass
class Party:
    name: str | None = None
    tax_id: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return {"name": self.name, "tax_id": self.tax_id}


@dataclass
class Line:
    name: str
    amount: Decimal | None = None
    tax_rate: str | None = None
    tax: Decimal | None = None
    spec: str | None = None
    unit: str | None = None
    quantity: str | None = None
    unit_price: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "spec": self.spec,
            "unit": self.unit,
            "quantity": self.quantity,
            "unit_price": self.unit_price,
            "amount": to_str2(self.amount),
            "tax_rate": self.tax_rate,
            "tax": to_str2(self.tax),
        }


@dataclass
class ParsedInvoice:
    source: str
    ok: bool = False
    error: str | None = None
    format: str | None = None
    invoice_type: str | None = None
    is_red: bool = False
    number: str | None = None
    code: str | None = None
    issue_date: date | None = None
    buyer: Party | None = None
    seller: Party | None = None
    lines: list[Line] = field(default_factory=list)
    total_amount: Decimal | None = None
    total_tax: Decimal | None = None
    total: Decimal | None = None
    total_in_words: str | None = None
    remarks: str | None = None
    issuer: str | None = None
    warnings: list[str] = field(default_factory=list)
    # Not in the JSON: field name -> warnings about it; engine; elapsed seconds.
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def failed(cls, source: str, error: str, fmt: str | None = None) -> ParsedInvoice:
        return cls(source=source, ok=False, error=error, format=fmt)

    def warn(self, message: str, *fields: str) -> None:
        """Record a failed check, and which fields it makes doubtful."""
        if message not in self.warnings:
            self.warnings.append(message)
        doubtful = self.meta.setdefault("doubtful", {})
        for f in fields:
            doubtful.setdefault(f, []).append(message)

    def doubtful_fields(self) -> set[str]:
        return set(self.meta.get("doubtful", {}))

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "ok": self.ok,
            "error": self.error,
            "format": self.format,
            "invoice_type": self.invoice_type,
            "is_red": self.is_red,
            "number": self.number,
            "code": self.code,
            "issue_date": self.issue_date.isoformat() if self.issue_date else None,
            "buyer": self.buyer.to_json_dict() if self.buyer else None,
            "seller": self.seller.to_json_dict() if self.seller else None,
            "lines": [ln.to_json_dict() for ln in self.lines],
            "total_amount": to_str2(self.total_amount),
            "total_tax": to_str2(self.total_tax),
            "total": to_str2(self.total),
            "total_in_words": self.total_in_words,
            "remarks": self.remarks,
            "issuer": self.issuer,
            "warnings": list(self.warnings),
        }
