"""Turning Chinese (and mixed) text into index terms, two ways.

``char_terms``: CJK runs become character unigrams plus bigrams; Latin words,
command names and numbers stay whole. No dictionary, robust to typos and to
words a segmenter has never seen (数电票, 红字确认单).

``jieba_terms``: jieba's search-mode segmentation (words plus their sub-words).
Loaded lazily: jieba reads its dictionary (~1 s) on first use.

Both drop the same question words (怎么, 什么, 吗 …): they say *that* something
is asked, not *what*, and would otherwise let any question match any article.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9_]+(?:\.[0-9]+)?")
_IS_CJK = re.compile(rf"[{_CJK}]")

# Single characters that carry no topic in a staff question.
STOP_CHARS = frozenset("的了吗呢吧啊呀么嘛哦噢哈是我你他她它们这那个在和与及或就都也还要会能可以怎什如何哪请问一下想得着过把被给让用对从到该")
# Words (for jieba, and as bigrams for the character tokenizer).
STOP_WORDS = frozenset(
    """怎么 怎样 怎么样 什么 为什么 如何 哪里 哪个 哪些 请问 一下 我们 你们 他们 可以 能不能 是不是 这个 那个
    这样 那样 应该 需要 时候 的话 还是 就是 然后 现在 已经 一个 有没有 么办 怎么办 咋办 咋 啥 为啥 么样 不了
    可不可以 能否 要不要 是否 知道 告诉 帮我 麻烦 谢谢 你好 您好 一般 这种 那种 还有 之后 以后 的时候""".split()
)


def normalize(text: str) -> str:
    """Full-width to half-width, lower case: ＯＦＤ == ofd, ５０００ == 5000."""
    return unicodedata.normalize("NFKC", text).lower()


def char_terms(text: str) -> list[str]:
    terms: list[str] = []
    for run in _RUN.findall(normalize(text)):
        if not _IS_CJK.match(run):
            terms.append(run)
            continue
        for ch in run:
            if ch not in STOP_CHARS:
                terms.append(ch)
        for i in range(len(run) - 1):
            pair = run[i : i + 2]
            if pair not in STOP_WORDS and not (pair[0] in STOP_CHARS and pair[1] in STOP_CHARS):
                terms.append(pair)
    return terms


@lru_cache(maxsize=1)
def _jieba() -> object:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def jieba_terms(text: str) -> list[str]:
    jieba = _jieba()
    terms: list[str] = []
    for word in jieba.lcut_for_search(normalize(text)):  # type: ignore[attr-defined]
        word = word.strip()
        if not word or not _RUN.fullmatch(word) and not _IS_CJK.search(word):
            continue
        if word in STOP_WORDS or (len(word) == 1 and word in STOP_CHARS):
            continue
        if _IS_CJK.search(word) or _RUN.fullmatch(word):
            terms.append(word)
    return terms


TOKENIZERS: dict[str, Callable[[str], list[str]]] = {"char": char_terms, "jieba": jieba_terms}
