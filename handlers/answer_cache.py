"""Answers to read-only questions, reused while the book has not changed.

"库存 A001" asked by five people in a minute is one set of queries, not five. An answer is
reused only while the book's *watermark* is the same: the highest id of the tables every
business change writes to (the audit log gets a row for each voucher, invoice, receipt and
state change; stock moves, allocations, products, parties and invoices are append-only or
audited). Edits that add no row (a product's minimum changed from the CLI) are seen
within ``TTL`` seconds. Permission checks are never cached: callers check the role first
and put what the staff member may see into the key.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from erp.models import Allocation, AuditLog, Invoice, Party, Product, Settlement, StockMove
from handlers.common import detached

T = TypeVar("T")
TTL = 30.0
SIZE = 1024
_WATERMARK = select(
    *(
        select(func.max(m.id)).scalar_subquery()
        for m in (AuditLog, StockMove, Allocation, Invoice, Settlement, Product, Party)
    )
)


def watermark(engine: Engine) -> tuple[Any, ...]:
    with engine.connect() as conn:
        return tuple(conn.execute(_WATERMARK).one())


class AnswerCache:
    def __init__(self, ttl: float = TTL, size: int = SIZE) -> None:
        self.ttl = ttl
        self.size = size
        self._items: OrderedDict[Hashable, tuple[tuple, float, Any]] = OrderedDict()
        self.hits = self.misses = 0

    def answer(self, engine: Engine, key: Hashable, compute: Callable[[Any], T]) -> T:
        """``compute(session)``'s result for ``key``, computed again only if the book moved on."""
        mark = watermark(engine)
        now = time.monotonic()
        hit = self._items.get(key)
        if hit is not None and hit[0] == mark and hit[1] > now:
            self._items.move_to_end(key)
            self.hits += 1
            return hit[2]
        self.misses += 1
        with detached(engine) as session:
            value = compute(session)
        self._items[key] = (mark, now + self.ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value


def cache_of(ctx: Any) -> AnswerCache:
    cache = ctx.extras.get("answer_cache")
    if cache is None:
        cache = ctx.extras["answer_cache"] = AnswerCache()
    return cache
