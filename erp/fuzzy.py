"""Fuzzy name matching shared by parties and products (rapidfuzz)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, TypeVar

from rapidfuzz import fuzz

T = TypeVar("T")

_NOISE = re.compile(r"(有限责任公司|股份有限公司|有限公司|集团|公司|\s|[（）()·,，.。-])")


def normalise(text: str) -> str:
    return _NOISE.sub("", text or "").upper()


@dataclass
class Match(Generic[T]):
    item: T
    score: float
    matched_on: str


def score(query: str, candidate: str) -> float:
    """0-100: how well ``query`` names ``candidate``; containment scores high."""
    q, c = normalise(query), normalise(candidate)
    if not q or not c:
        return 0.0
    if q == c:
        return 100.0
    if q in c:
        return 90.0 + 10.0 * len(q) / len(c) * 0.5
    if c in q:
        return 85.0
    return max(fuzz.ratio(q, c), fuzz.partial_ratio(q, c) * 0.9)
