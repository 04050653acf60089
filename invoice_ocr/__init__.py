"""Read Chinese VAT invoices (数电票 PDF/OFD/XML, legacy e-invoices, scans, photos) into checked data.

``read(path_or_bytes)`` is the entry point; it never raises for bad input.
"""

from .model import Line, ParsedInvoice, Party
from .pool import InvoicePool
from .reader import read
from .readers import Limits

__all__ = ["InvoicePool", "Limits", "Line", "ParsedInvoice", "Party", "read"]
