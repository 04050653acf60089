"""Images to positioned words: preprocessing, OCR engines, and check-driven passes."""
