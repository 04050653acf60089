"""Reading invoice files off the event loop.

``read_invoice(ctx, data, source)`` returns the parsed invoice as a dict in the shape of
``invoice.schema.json``. Where the work runs, first that applies:
1. ``ctx.extras["invoice_reader"]``: an async callable ``(data, source) -> dict | ParsedInvoice``
   (a remote reader, or a test double for the chat flow itself);
2. ``ctx.ocr_pool``: an ``invoice_ocr.pool.InvoicePool`` (``read_async``: worker processes with a
   per-file time limit);
3. an ``InvoicePool`` built from the settings on first use and closed with the application.
Queries keep flowing while invoices are read: nothing here blocks the loop.
"""

from __future__ import annotations

from typing import Any

from bot.context import AppContext

OWN_POOL = "own_invoice_pool"


def _as_dict(result: Any) -> dict:
    return result if isinstance(result, dict) else result.to_json_dict()


def pool_of(ctx: AppContext) -> Any:
    if ctx.ocr_pool is not None:
        return ctx.ocr_pool
    pool = ctx.extras.get(OWN_POOL)
    if pool is None:
        from invoice_ocr.pool import InvoicePool

        pool = ctx.extras[OWN_POOL] = InvoicePool.from_settings(ctx.settings)
    return pool


async def read_invoice(ctx: AppContext, data: bytes, source: str | None = None) -> dict:
    reader = ctx.extras.get("invoice_reader")
    if reader is not None:
        return _as_dict(await reader(data, source))
    return _as_dict(await pool_of(ctx).read_async(data, source=source))


def shutdown(ctx: AppContext) -> None:
    """Close the pool this module started (a pool handed in by the caller is the caller's)."""
    pool = ctx.extras.pop(OWN_POOL, None)
    if pool is not None:
        pool.close()
