"""Reading invoice files off the event loop.

``read_invoice(ctx, data, source)`` returns the parsed invoice as a dict in the shape of
``invoice.schema.json``. Where the work runs, first that applies:
1. ``ctx.extras["invoice_reader"]``: an async callable ``(data, source) -> dict | ParsedInvoice``
   (tests, or a remote reader);
2. ``ctx.ocr_pool`` with an async ``read(data, source=...)`` (``invoice_ocr.pool``) or a
   ``concurrent.futures.Executor``;
3. a process pool of ``settings.ocr_workers`` spawned here on first use (Tesseract with
   OMP_THREAD_LIMIT=1), shut down with the application.
Queries keep flowing while invoices are read: nothing here blocks the loop.
"""

from __future__ import annotations

import asyncio
import inspect
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

from bot.context import AppContext


def _init_worker() -> None:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        import invoice_ocr  # noqa: F401 - warm the imports once per worker
    except ImportError:
        pass


def read_in_worker(data: bytes, source: str | None) -> dict:
    """Runs in a worker process: bytes in, the schema-shaped dict out."""
    import invoice_ocr

    parsed = invoice_ocr.read(data, source=source)
    return parsed.to_json_dict()


def make_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=max(1, workers), mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker
    )


def _as_dict(result: Any) -> dict:
    if isinstance(result, dict):
        return result
    return result.to_json_dict()


async def read_invoice(ctx: AppContext, data: bytes, source: str | None = None) -> dict:
    reader = ctx.extras.get("invoice_reader")
    if reader is not None:
        return _as_dict(await reader(data, source))
    pool = ctx.ocr_pool
    if pool is not None and not isinstance(pool, Executor):
        read = getattr(pool, "read", None)
        if read is not None and inspect.iscoroutinefunction(read):
            return _as_dict(await read(data, source=source))
    if pool is None:
        pool = ctx.extras.get("ocr_executor")
        if pool is None:
            pool = ctx.extras["ocr_executor"] = make_pool(ctx.settings.ocr_workers)
    loop = asyncio.get_running_loop()
    return _as_dict(await loop.run_in_executor(pool, read_in_worker, data, source))


def shutdown(ctx: AppContext) -> None:
    pool = ctx.extras.pop("ocr_executor", None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
