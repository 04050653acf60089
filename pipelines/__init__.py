"""Layer 3: the pipelines that join the reader and the books (files in, entries out), each in one place.

Imports values/, erp/ and invoice_ocr/; never handlers/, bot/ or scheduler/.
"""
