"""How common a word is in general Chinese, from jieba's bundled dictionary.

Seventy articles are too few for idf to know that 今天 or 手机 are everyday
words: in our corpus they are rare, so a question about the weather would look
specific. jieba ships word frequencies counted over a large general corpus
(``dict.txt``, offline); a term that is frequent there carries less evidence
that a question is *about* bookkeeping. Without jieba every term counts as rare.
"""

from __future__ import annotations

from collections.abc import Iterable


def background_freq(terms: Iterable[str]) -> dict[str, int]:
    """Frequency in jieba's dictionary of each multi-character term that is listed there."""
    wanted = {t for t in terms if len(t) > 1}
    try:
        import jieba
    except ImportError:  # pragma: no cover - jieba is a declared dependency
        return {}
    found: dict[str, int] = {}
    with jieba.get_dict_file() as fh:
        for raw in fh:
            word, _, rest = raw.decode("utf-8").partition(" ")
            if word in wanted:
                found[word] = int(rest.split(" ", 1)[0])
    return found
