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
STOP_CHARS = frozenset(
    "的了吗呢吧啊呀么嘛哦噢哈是我你他她它们这那个在和与及或就都也还要会能可以怎什如何哪请问一下想得着过把被给让用对从到该咋啥呗嗯哎诶呃喔几"
)
# Words (for jieba, and as bigrams for the character tokenizer).
STOP_WORDS = frozenset(
    """怎么 怎样 怎么样 什么 为什么 如何 哪里 哪个 哪些 请问 一下 我们 你们 他们 可以 能不能 是不是 这个 那个
    这样 那样 应该 需要 时候 的话 还是 就是 然后 现在 已经 一个 有没有 怎么办 咋办 咋整 为啥 干啥 干嘛 不了
    可不可以 能否 要不要 是否 知道 告诉 帮我 麻烦 谢谢 你好 您好 这种 那种 还有 之后 以后 的时候 到底
    是什么 什么意思 怎么回事 怎么弄 怎么做 怎么操作 多少 东西 意思 啥意思""".split()
)
# Longest first, so 怎么办 is removed before 怎么.
_STOP_RE = re.compile("|".join(sorted(map(re.escape, STOP_WORDS), key=len, reverse=True)))


# Variant characters staff type interchangeably (帐 is the old form of 账 in 账户/账龄/结账).
_VARIANTS = str.maketrans({"帐": "账"})


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, one form per variant: ＯＦＤ == ofd, 帐龄 == 账龄."""
    return unicodedata.normalize("NFKC", text).lower().translate(_VARIANTS)


def char_terms(text: str) -> list[str]:
    terms: list[str] = []
    # Cutting stop words out first also avoids junk bigrams across them (怎么开 -> 么开).
    for run in _RUN.findall(_STOP_RE.sub(" ", normalize(text))):
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
    for part in _STOP_RE.sub(" ", normalize(text)).split():
        for word in jieba.lcut_for_search(part):  # type: ignore[attr-defined]
            word = word.strip()
            if not (_IS_CJK.search(word) or _RUN.fullmatch(word)):
                continue  # punctuation, symbols
            if word in STOP_WORDS or (len(word) == 1 and word in STOP_CHARS):
                continue
            terms.append(word)
    return terms


def char_units(term: str) -> bool:
    """Terms that count toward question coverage: characters and Latin words.

    Bigrams rank well but make a poor coverage measure: a typo or a run of filler
    characters creates bigrams no article has, and each would count as missing
    information."""
    return len(term) == 1 or term.isascii()


def all_units(term: str) -> bool:
    return True


# name -> (tokenizer, which of its terms measure question coverage)
TOKENIZERS: dict[str, tuple[Callable[[str], list[str]], Callable[[str], bool]]] = {
    "char": (char_terms, char_units),
    "jieba": (jieba_terms, all_units),
}
