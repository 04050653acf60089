"""BM25F over three fields (title, keywords, body) with a no-guess threshold.

Questions and articles are both expanded with synonyms.py (冲红 -> 红字发票,
盘库 -> 盘点) before they are cut into terms. An article keyword found verbatim
in the question adds ``phrase_weight`` to the score and, unless it is an
everyday word (开始, 电脑, 员工), ``phrase_specific`` to the evidence below.
A question asking for a company fact (几点, 电话, 谁: FACT_CUES) loses
``fact_penalty`` of evidence on every hit.

Ranking: term frequency is combined across fields before saturation (BM25F): a
word in the title counts ``weights[0]`` times a word in the body, each field
normalised by its own average length.

Out-of-scope notes (articles with ``scope: out``) are ranked with the articles on
their title and keywords; a note's ``names`` are only looked for verbatim. ``decide``
(bot/knowledge/__init__.py) declines when a note scores at least ``decline_ratio`` of
the best article, or when the question names a note's keyword or name that the best
article never mentions (``decline_named``).

Confidence combines two measures of the best hit:
- *coverage* (0..1): the idf-weighted share of the question's characters (or
  words) that the article contains: a question mostly about something else is
  not answered;
- *specific*: the evidence from matched multi-character terms, each weighted by
  its idf and by how rare it is in general Chinese (background.py): sharing
  今天 or 手机 with an article says little, sharing 红字 or 盘点 says a lot.
The hit is confident when ``specific + coverage_weight * coverage >= min_evidence``
and ``coverage >= min_coverage``: a short question fully explained by an
article ("折旧咋提") needs less specific evidence than a long one.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.knowledge.articles import Article
from bot.knowledge.background import background_freq
from bot.knowledge.synonyms import expand
from bot.knowledge.tokenize import TOKENIZERS, normalize

FIELDS = ("title", "keywords", "body")  # an out-of-scope note's body is not indexed
# Asking for a company fact (a time, a phone number, a person, a password), not how
# something is done: the articles cannot know it, so such a question needs more
# evidence before it is answered ("税务局几点下班" is not about 纳税申报).
FACT_CUES = re.compile(r"几点|电话|微信|哪个门|哪家|名字|密码|谁")


@dataclass(frozen=True)
class SearchParams:
    """Tuned on the dev rows of tests/knowledge_eval.jsonl.

    Weights, b, k1, background_power, synonyms, the phrase weights and
    fact_penalty: cross-validation on dev over small grids. min_evidence and
    min_coverage: what ``evaluate.tune_thresholds`` picks on the whole of dev
    (5 % false-answer budget), chosen before test15 was scored. decline_ratio:
    1.0, what a grid over it picked on the last two runs it was part of (earlier,
    without ``decline_named`` and the notes' names, 2-fold cross-validation
    picked 0.75-0.9).
    """

    weights: tuple[float, float, float] = (5.0, 5.0, 1.0)  # title, keywords, body
    b: tuple[float, float, float] = (0.3, 0.3, 0.5)
    k1: float = 2.0
    min_evidence: float = 2.5
    coverage_weight: float = 2.0
    min_coverage: float = 0.1
    background_power: float = 0.2  # term weight factor (1 + general frequency) ** -power
    synonyms: bool = True  # expand colloquial words to the articles' words (synonyms.py)
    phrase_weight: float = 1.0  # score added per article keyword found verbatim in the question
    phrase_specific: float = 1.0  # evidence added per such keyword, unless it is an everyday word:
    everyday_freq: int = 3000  # frequency in general Chinese (background.py) from which a word is everyday
    fact_penalty: float = 2.0  # evidence taken from every hit of a question with a FACT_CUES word
    # Decline when the best out-of-scope note scores at least this share of the best
    # article's score (1.0: only when it ranks first).
    decline_ratio: float = 1.0
    # Decline when the question names something only an out-of-scope note knows (用友,
    # 离职证明, 核定征收: a note's specific keyword found verbatim) and the best article
    # never mentions it.
    decline_named: bool = True


@dataclass(frozen=True)
class Hit:
    article: Article
    score: float
    coverage: float = 0.0
    specific: float = 0.0
    # the article's specific keywords (and a note's names) found verbatim in the question
    phrases: tuple[str, ...] = ()


def is_confident(hit: Hit, p: SearchParams) -> bool:
    return (
        hit.coverage >= p.min_coverage and hit.specific + p.coverage_weight * hit.coverage >= p.min_evidence
    )


@dataclass
class _Doc:
    article: Article
    tf: list[Counter[str]]
    lengths: list[int]
    terms: set[str] = field(default_factory=set)
    phrases: dict[str, float] = field(default_factory=dict)  # keyword -> evidence weight
    names: frozenset[str] = frozenset()  # a note's names (Article.names), normalised


class Index:
    """An immutable BM25F index over a list of articles for one tokenizer."""

    def __init__(
        self, articles: Sequence[Article], tokenizer: str = "char", params: SearchParams | None = None
    ) -> None:
        self.tokenizer_name = tokenizer
        self.tokenize: Callable[[str], list[str]]
        self.tokenize, self.is_unit = TOKENIZERS[tokenizer]
        self.params = params or SearchParams()
        self.docs: list[_Doc] = []
        df: Counter[str] = Counter()
        for art in articles:
            # An out-of-scope note is matched on its title and keywords only: its body is
            # the reply (where to ask instead) and names in-scope things (凭证, 发票).
            texts = (art.title, " ".join(art.keywords), art.body if art.in_scope else "")
            tfs = [Counter(self.tokenize(self._expand(t))) for t in texts]
            doc = _Doc(art, tfs, [sum(c.values()) for c in tfs])
            doc.terms = set().union(*tfs)
            df.update(doc.terms)
            self.docs.append(doc)
        n = max(len(self.docs), 1)
        self.avg_len = [max(sum(d.lengths[i] for d in self.docs) / n, 1.0) for i in range(len(FIELDS))]
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        # A term no article has is as informative as the rarest term there is.
        self.unknown_idf = math.log(1 + (n + 0.5) / 0.5)
        phrases = {
            doc.article.slug: {
                normalize(k) for k in doc.article.keywords if len(k) > 1 and not k.startswith("/")
            }
            for doc in self.docs
        }
        bg = background_freq([*self.idf, *set().union(*phrases.values())])
        for doc in self.docs:
            doc.names = frozenset(normalize(n) for n in doc.article.names)
            # An everyday keyword (开始, 电脑, 员工) found in a question is no evidence that the
            # question is about bookkeeping; 红字确认单 or 折旧 is.
            doc.phrases = {
                k: 0.0 if bg.get(k, 0) >= self.params.everyday_freq else 1.0
                for k in phrases[doc.article.slug]
            }
        self.specific_weight = {
            t: idf * (1 + bg.get(t, 0)) ** -self.params.background_power
            for t, idf in self.idf.items()
            if len(t) > 1  # Latin words (ofd, xml, dso) count fully: no background for them
        }

    def search(self, question: str, k: int = 3) -> list[Hit]:
        """Best ``k`` articles with any score > 0 (and notes only named, at 0), best first (not thresholded)."""
        hits = self._score_all(question)
        hits.sort(key=lambda h: (-h.score, h.article.slug))
        return hits[:k]

    def _expand(self, text: str) -> str:
        return expand(text) if self.params.synonyms else text

    def is_confident(self, hit: Hit) -> bool:
        return is_confident(hit, self.params)

    def _score_all(self, question: str) -> list[Hit]:
        p = self.params
        q_terms = set(self.tokenize(self._expand(question)))
        q_norm = normalize(question)
        penalty = p.fact_penalty if p.fact_penalty and FACT_CUES.search(q_norm) else 0.0
        if not q_terms:
            return []
        # An amount, a date or a code no article mentions (欠8000, 5月, B002, 记-202406-0031)
        # is context, not topic.
        units = {
            t for t in q_terms if self.is_unit(t) and (t in self.idf or not any(c.isdigit() for c in t))
        } or q_terms
        q_info = sum(self.idf.get(t, self.unknown_idf) for t in units)
        hits: list[Hit] = []
        for doc in self.docs:
            matched = q_terms & doc.terms
            named = tuple(n for n in doc.names if n in q_norm)
            if not matched:
                if named:  # no score, but decide() must see what the question names
                    hits.append(Hit(doc.article, 0.0, 0.0, 0.0, named))
                continue
            score = 0.0
            for t in matched:
                tf = 0.0
                for i in range(len(FIELDS)):
                    f = doc.tf[i].get(t, 0)
                    if f:
                        # a note's long keyword list is many short topics, not one long one
                        length = doc.lengths[i] if doc.article.in_scope else self.avg_len[i]
                        norm = 1 - p.b[i] + p.b[i] * length / self.avg_len[i]
                        tf += p.weights[i] * f / norm
                score += self.idf[t] * tf / (p.k1 + tf)
            coverage = sum(self.idf[t] for t in matched & units) / q_info
            specific = sum(self.specific_weight.get(t, 0.0) for t in matched)
            phrases: tuple[str, ...] = ()
            if p.phrase_weight or p.phrase_specific:
                found = [(ph, w) for ph, w in doc.phrases.items() if ph in q_norm]
                score += p.phrase_weight * len(found)
                specific += p.phrase_specific * sum(w for _, w in found)
                phrases = tuple(ph for ph, w in found if w)
            hits.append(Hit(doc.article, score, coverage, specific - penalty, phrases + named))
        return hits
