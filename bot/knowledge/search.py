"""BM25F over three fields (title, keywords, body) with a no-guess threshold.

Term frequency is combined across fields before saturation (BM25F): a word in
the title counts ``weights['title']`` times a word in the body, each field
normalised by its own average length. A hit is *confident* only when both the
score is high enough and the matched terms cover enough of the question's
information (idf-weighted share of its terms found in the article): a long
question that shares one common word with an article is not an answer.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.knowledge.articles import Article
from bot.knowledge.tokenize import TOKENIZERS

FIELDS = ("title", "keywords", "body")


@dataclass(frozen=True)
class SearchParams:
    """Tuned on the dev half of tests/knowledge_eval.jsonl only (see bench/knowledge.py)."""

    weights: tuple[float, float, float] = (3.0, 3.0, 1.0)  # title, keywords, body
    b: tuple[float, float, float] = (0.3, 0.3, 0.75)
    k1: float = 1.2
    min_score: float = 4.0
    min_coverage: float = 0.45


@dataclass(frozen=True)
class Hit:
    article: Article
    score: float
    coverage: float = 0.0


@dataclass
class _Doc:
    article: Article
    tf: list[Counter[str]]
    lengths: list[int]
    terms: set[str] = field(default_factory=set)


class Index:
    """An immutable BM25F index over a list of articles for one tokenizer."""

    def __init__(
        self, articles: Sequence[Article], tokenizer: str = "char", params: SearchParams | None = None
    ) -> None:
        self.tokenizer_name = tokenizer
        self.tokenize: Callable[[str], list[str]] = TOKENIZERS[tokenizer]
        self.params = params or SearchParams()
        self.docs: list[_Doc] = []
        df: Counter[str] = Counter()
        for art in articles:
            texts = (art.title, " ".join(art.keywords), art.body)
            tfs = [Counter(self.tokenize(t)) for t in texts]
            doc = _Doc(art, tfs, [sum(c.values()) for c in tfs])
            doc.terms = set().union(*tfs)
            df.update(doc.terms)
            self.docs.append(doc)
        n = max(len(self.docs), 1)
        self.avg_len = [max(sum(d.lengths[i] for d in self.docs) / n, 1.0) for i in range(len(FIELDS))]
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        # A term no article has is as informative as the rarest term there is.
        self.unknown_idf = math.log(1 + (n + 0.5) / 0.5)

    def search(self, question: str, k: int = 3) -> list[Hit]:
        """Best ``k`` articles with any score > 0, best first (not thresholded)."""
        hits = self._score_all(question)
        hits.sort(key=lambda h: (-h.score, h.article.slug))
        return hits[:k]

    def is_confident(self, hit: Hit) -> bool:
        return hit.score >= self.params.min_score and hit.coverage >= self.params.min_coverage

    def _score_all(self, question: str) -> list[Hit]:
        p = self.params
        q_terms = set(self.tokenize(question))
        if not q_terms:
            return []
        q_info = sum(self.idf.get(t, self.unknown_idf) for t in q_terms)
        hits: list[Hit] = []
        for doc in self.docs:
            matched = q_terms & doc.terms
            if not matched:
                continue
            score = 0.0
            for t in matched:
                tf = 0.0
                for i in range(len(FIELDS)):
                    f = doc.tf[i].get(t, 0)
                    if f:
                        norm = 1 - p.b[i] + p.b[i] * doc.lengths[i] / self.avg_len[i]
                        tf += p.weights[i] * f / norm
                score += self.idf[t] * tf / (p.k1 + tf)
            coverage = sum(self.idf[t] for t in matched) / q_info
            hits.append(Hit(doc.article, score, coverage))
        return hits
