"""OCR engines behind one interface: an image in, positioned words with confidences out.

Both import their heavy dependency lazily and say whether they are available.
Tesseract always runs with OMP_THREAD_LIMIT=1: on two cores its OpenMP threads
fight each other and it gets about six times slower.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import Protocol

from ..words import Word

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


class OcrEngine(Protocol):
    name: str

    def available(self) -> bool: ...

    def words(self, page, timeout: float) -> list[Word]:  # type: ignore[no-untyped-def]
        """Words of a grayscale numpy page, in pixel coordinates."""


def _split_spaced(text: str, x0: float, top: float, x1: float, bottom: float, conf: float) -> list[Word]:
    """A text box holding several space-separated cells becomes one word per cell."""
    parts = [p for p in re.split(r"(\s+)", text) if p]
    if len(parts) == 1:
        return [Word(text, x0, top, x1, bottom, conf)]
    total = sum(len(p) for p in parts)
    out = []
    x = x0
    for p in parts:
        w = (x1 - x0) * len(p) / total
        if p.strip():
            out.append(Word(p, x, top, x + w, bottom, conf))
        x += w
    return out


def ocr_threads() -> int:
    """Threads for one PP-OCR session: set per worker by the pool (its share of the cores); a read
    outside the pool (one file from the command line) may use every core."""
    try:
        return max(1, int(os.environ.get("ZHANGFANG_OCR_THREADS", "")))
    except ValueError:
        return max(1, os.cpu_count() or 1)


class RapidEngine:
    """PP-OCR (detection + recognition) via rapidocr-onnxruntime; models ship in the wheel."""

    name = "rapidocr"
    _engine = None

    def available(self) -> bool:
        try:
            import rapidocr_onnxruntime  # noqa: F401
        except ImportError:
            return False
        return True

    def _get(self):  # type: ignore[no-untyped-def]
        if RapidEngine._engine is None:
            from rapidocr_onnxruntime import RapidOCR

            RapidEngine._engine = RapidOCR(intra_op_num_threads=ocr_threads(), inter_op_num_threads=1)
        return RapidEngine._engine

    def words(self, page, timeout: float) -> list[Word]:  # type: ignore[no-untyped-def]
        result, _ = self._get()(page, use_cls=False)
        out: list[Word] = []
        for box, text, score in result or []:
            xs = [p[0] for p in box]
            ys = [p[1] for p in box]
            out.extend(_split_spaced(text, min(xs), min(ys), max(xs), max(ys), float(score)))
        return out

    def read_cell(self, cell) -> tuple[str, float] | None:  # type: ignore[no-untyped-def]
        """Recognise one table cell (no detection): the text tightly cropped, or None when blank."""
        import numpy as np

        ys, xs = np.where(cell < 128)
        if len(xs) < 4:
            return None
        pad = 6
        crop = cell[max(0, ys.min() - pad) : ys.max() + pad, max(0, xs.min() - pad) : xs.max() + pad]
        crop = np.pad(crop, ((0, 0), (8, 8)), constant_values=255)
        result, _ = self._get()(crop, use_det=False, use_cls=False, use_rec=True)
        if not result:
            return None
        text, score = result[0][0], float(result[0][1])
        return text.strip(), score


class TesseractEngine:
    """Tesseract 5 with the chi_sim model, via pytesseract, one block of text (psm 6)."""

    name = "tesseract"

    def __init__(self, psm: int = 6) -> None:
        self.psm = psm
        self.name = "tesseract" if psm == 6 else f"tesseract-psm{psm}"

    def available(self) -> bool:
        try:
            import pytesseract  # noqa: F401
        except ImportError:
            return False
        return shutil.which("tesseract") is not None

    def words(self, page, timeout: float) -> list[Word]:  # type: ignore[no-untyped-def]
        import pytesseract
        from PIL import Image

        os.environ["OMP_THREAD_LIMIT"] = "1"
        data = pytesseract.image_to_data(
            Image.fromarray(page),
            lang="chi_sim",
            config=f"--psm {self.psm} -c preserve_interword_spaces=1",
            output_type=pytesseract.Output.DICT,
            timeout=max(1, int(timeout)),
        )
        out = []
        for i, text in enumerate(data["text"]):
            text = (text or "").strip()
            conf = float(data["conf"][i])
            if not text or conf < 0:
                continue
            x, y, w, h = data["left"][i], data["top"][i], data["width"][i], data["height"][i]
            out.append(Word(text, x, y, x + w, y + h, conf / 100))
        return out


ENGINES = {"rapidocr": RapidEngine, "tesseract": TesseractEngine}
DEFAULT_ORDER = ("rapidocr", "tesseract")


def engine_order(preference: str = "auto") -> list[OcrEngine]:
    """Available engines, the preferred (or measured-best) one first; "NAME-only" for just one."""
    names = list(DEFAULT_ORDER)
    if preference.endswith("-only") and preference[: -len("-only")] in ENGINES:
        names = [preference[: -len("-only")]]  # one engine, no fallback (for measuring)
    elif preference in ENGINES:
        names.remove(preference)
        names.insert(0, preference)
    engines = [ENGINES[n]() for n in names]
    return [e for e in engines if e.available()]
