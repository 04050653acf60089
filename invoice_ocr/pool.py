"""OCR in worker processes, so a caller (the bot) keeps answering while photos are read.

``InvoicePool.read_async(path_or_bytes)`` can be awaited; each job has its own
time limit, after which the caller gets ``ok=False`` with a timeout error and
the stuck worker is replaced. Workers import the OCR engines once and keep them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import multiprocessing as mp
import os
from collections.abc import Iterable
from typing import Any

from . import errors
from .model import ParsedInvoice
from .readers import Limits


def _init_worker(ocr_threads: int = 1) -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    # the workers share the cores: each PP-OCR session gets its share, not all of them
    os.environ["ZHANGFANG_OCR_THREADS"] = str(ocr_threads)


def _read_job(
    path_or_bytes: Any, source: str | None, limits: Limits
) -> tuple[dict[str, Any], dict[str, Any]]:
    from .reader import read

    inv = read(path_or_bytes, source=source, limits=limits)
    meta = {k: v for k, v in inv.meta.items() if k in ("engine", "engines_tried", "seconds", "doubtful")}
    return inv.to_json_dict(), meta


def _from_json(d: dict[str, Any], meta: dict[str, Any]) -> ParsedInvoice:
    from datetime import date

    from values.money import parse_decimal

    from .model import Line, Party

    def money(v: str | None):  # type: ignore[no-untyped-def]
        return parse_decimal(v) if v is not None else None

    inv = ParsedInvoice(
        source=d["source"],
        ok=d["ok"],
        error=d.get("error"),
        format=d.get("format"),
        invoice_type=d.get("invoice_type"),
        is_red=d.get("is_red", False),
        number=d.get("number"),
        code=d.get("code"),
        issue_date=date.fromisoformat(d["issue_date"]) if d.get("issue_date") else None,
        buyer=Party(**d["buyer"]) if d.get("buyer") else None,
        seller=Party(**d["seller"]) if d.get("seller") else None,
        lines=[
            Line(
                name=ln["name"],
                spec=ln.get("spec"),
                unit=ln.get("unit"),
                quantity=ln.get("quantity"),
                unit_price=ln.get("unit_price"),
                amount=money(ln.get("amount")),
                tax_rate=ln.get("tax_rate"),
                tax=money(ln.get("tax")),
            )
            for ln in d.get("lines", [])
        ],
        total_amount=money(d.get("total_amount")),
        total_tax=money(d.get("total_tax")),
        total=money(d.get("total")),
        total_in_words=d.get("total_in_words"),
        remarks=d.get("remarks"),
        issuer=d.get("issuer"),
        warnings=list(d.get("warnings", [])),
    )
    inv.meta.update(meta)
    return inv


class InvoicePool:
    """A process pool for invoice reading with a per-job timeout."""

    def __init__(self, workers: int = 2, limits: Limits | None = None, timeout: float | None = None) -> None:
        self.workers = max(1, workers)
        self.limits = limits or Limits()
        self.timeout = timeout if timeout is not None else self.limits.ocr_timeout_seconds + 5
        self._executor: cf.ProcessPoolExecutor | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> InvoicePool:
        from .reader import limits_from_settings

        limits = limits_from_settings(settings)
        return cls(workers=settings.ocr_workers, limits=limits)

    def _pool(self) -> cf.ProcessPoolExecutor:
        if self._executor is None:
            self._executor = cf.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=mp.get_context("spawn"),
                initializer=_init_worker,
                initargs=(max(1, (os.cpu_count() or 1) // self.workers),),
            )
        return self._executor

    def _restart(self) -> None:
        """Drop a pool whose worker is stuck past its time limit; the next job starts a fresh one."""
        ex, self._executor = self._executor, None
        if ex is None:
            return
        for proc in list(getattr(ex, "_processes", {}).values()):
            proc.terminate()
        ex.shutdown(wait=False, cancel_futures=True)

    def submit(self, path_or_bytes: Any, source: str | None = None) -> cf.Future:  # type: ignore[type-arg]
        return self._pool().submit(_read_job, path_or_bytes, source, self.limits)

    def collect(self, fut: cf.Future, source: str) -> ParsedInvoice:  # type: ignore[type-arg]
        """The reading a submitted job gives, or ok=False with why (timeout, crashed worker)."""
        try:
            d, meta = fut.result(timeout=self.timeout)
            return _from_json(d, meta)
        except cf.TimeoutError:
            self._restart()
            return ParsedInvoice.failed(source, errors.TIMEOUT.format(seconds=self.timeout))
        except Exception as exc:  # a worker that died (out of memory, killed) loses only its own file
            self._restart()
            return ParsedInvoice.failed(source, f"识别进程异常退出（{type(exc).__name__}），请重试")

    def read(self, path_or_bytes: Any, source: str | None = None) -> ParsedInvoice:
        src = source or (str(path_or_bytes) if not isinstance(path_or_bytes, bytes) else "<bytes>")
        return self.collect(self.submit(path_or_bytes, source), src)

    def read_many(self, items: Iterable[Any]) -> list[ParsedInvoice]:
        """Read several files in parallel; results in the order given."""
        items = list(items)
        futures = [self.submit(it, str(it) if not isinstance(it, bytes) else None) for it in items]
        out = []
        for it, fut in zip(items, futures, strict=True):
            out.append(self.collect(fut, str(it) if not isinstance(it, bytes) else "<bytes>"))
        return out

    async def read_async(self, path_or_bytes: Any, source: str | None = None) -> ParsedInvoice:
        """Await a reading without blocking the event loop."""
        src = source or (str(path_or_bytes) if not isinstance(path_or_bytes, bytes) else "<bytes>")
        fut = self.submit(path_or_bytes, source)
        try:
            d, meta = await asyncio.wait_for(asyncio.wrap_future(fut), timeout=self.timeout)
            return _from_json(d, meta)
        except TimeoutError:
            self._restart()
            return ParsedInvoice.failed(src, errors.TIMEOUT.format(seconds=self.timeout))
        except Exception as exc:
            self._restart()
            return ParsedInvoice.failed(src, f"识别进程异常退出（{type(exc).__name__}），请重试")

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> InvoicePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
