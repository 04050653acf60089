"""Values both sides of the house need: money, tax IDs, Chinese amount words, the business clock.

Layer 1 of the project: this package imports nothing of the project, and both ``erp/`` (the books) and
``invoice_ocr/`` (the reader) import it.
"""
