"""Positioned words: what every reader produces and the field extractor consumes.

Coordinates are in the page's own units with the origin top-left (y grows
downwards). ``conf`` is the reader's confidence in the word's text, 1.0 for
text read from a file's text layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    conf: float = 1.0

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 1e-6)

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass
class Page:
    width: float
    height: float
    words: list[Word] = field(default_factory=list)


@dataclass
class Document:
    """What a reader hands to the extractor: pages of words plus any structured facts.

    ``facts`` carries values a file states outright (PDF document info, OFD
    CustomData): the extractor cross-checks against them, it never uses them
    as the only source.
    """

    format: str
    pages: list[Page]
    facts: dict[str, str] = field(default_factory=dict)
    engine: str | None = None


@dataclass
class TextLine:
    """Words on one visual line, left to right, with the line's text and each char's word."""

    words: list[Word]
    page: int
    raw: list[Word] = field(default_factory=list)

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    def word_at(self, index: int) -> Word:
        """The word holding character ``index`` of ``text``."""
        pos = 0
        for w in self.words:
            end = pos + len(w.text)
            if index < end + 1:
                return w
            pos = end + 1
        return self.words[-1]

    def x_at(self, index: int) -> float:
        """Approximate x of character ``index`` of ``text`` (chars spread evenly in their word)."""
        pos = 0
        for w in self.words:
            end = pos + len(w.text)
            if index <= end:
                n = max(len(w.text), 1)
                return w.x0 + (w.x1 - w.x0) * (index - pos) / n
            pos = end + 1
        return self.words[-1].x1


def merge_close_words(words: list[Word], gap_ratio: float = 0.45) -> list[Word]:
    """Join neighbours on a line whose gap is small next to the text height.

    OCR engines split Chinese runs into single characters; a PDF keeps
    ``名称：南华大学`` together. Joining close words gives both the same shape.
    """
    if not words:
        return []
    out: list[Word] = [words[0]]
    for w in words[1:]:
        prev = out[-1]
        h = min(prev.height, w.height)
        gap = w.x0 - prev.x1
        if -h < gap < gap_ratio * h:
            out[-1] = Word(
                prev.text + w.text,
                prev.x0,
                min(prev.top, w.top),
                max(prev.x1, w.x1),
                max(prev.bottom, w.bottom),
                min(prev.conf, w.conf),
            )
        else:
            out.append(w)
    return out


def group_lines(page: Page, page_index: int = 0, merge: bool = True) -> list[TextLine]:
    """Group a page's words into lines by vertical overlap, top to bottom."""
    words = sorted((w for w in page.words if w.text.strip()), key=lambda w: (w.cy, w.x0))
    lines: list[list[Word]] = []
    for w in words:
        placed = False
        for line in reversed(lines[-4:]):
            top = min(x.top for x in line)
            bottom = max(x.bottom for x in line)
            mid = sum(x.cy for x in line) / len(line)
            h = min(w.height, bottom - top)
            if abs(w.cy - mid) < 0.45 * max(h, 1e-6):
                line.append(w)
                placed = True
                break
        if not placed:
            lines.append([w])
    out = []
    for line in lines:
        line.sort(key=lambda w: w.x0)
        out.append(TextLine(merge_close_words(line) if merge else line, page_index, list(line)))
    out.sort(key=lambda ln: ln.cy)
    return out
