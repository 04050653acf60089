"""Scoring a retriever on the labelled questions in tests/knowledge_eval.jsonl.

Each row is ``{"q": question, "slug": expected article or null, "split": "dev"|"test"|"test2"…}``.
``null`` means the base should *not* answer (weather, lunch, share prices …).

How the set was kept honest (read before tuning anything):
- Questions are written as staff type them (colloquial, typos such as 帐/账,
  发漂, 盘店), not copied from articles; one label per question, even where a
  second article would also help, so top-1 is a strict measure.
- Held-out rounds. Round 1: the first 323 questions were split dev/test; after
  a tuning round the test half was looked at (top-1 74 %) and merged into dev.
  Round 2: 173 fresh questions written before further tuning: first run top-1
  80.4 %, top-3 96.6 %, false 4.0 %; then merged into dev. Round 3 (the current
  ``test`` rows, 104): written before the last tuning round and never tuned on:
  first run top-1 76.4 %, top-3 95.5 %, false 0 %.
  Round 4 (synonym map, keyword evidence; all in the commit log of branch kb2):
  ``test2`` (166) was committed before any change; first run after dev tuning:
  top-1 87.5 %, top-3 95.8 %, false answers 18.2 %. That number (never its
  misses) led to a stricter threshold budget, first judged on ``test3`` (68,
  written before it): 88.4 / 100 / 16.0 %; that led to "no evidence from
  everyday keywords", first judged on ``test4`` (40): 80.0 / 95.0 / 15.0 %
  (previous retriever: 75.0 / 100 / 15.0 %). Then 31 near-domain unanswerable
  questions went into dev and the thresholds were re-tuned on them, first
  judged on ``test5`` (40): 70.0 / 100 / 10.0 %, but 3-9 points of top-1 lost
  on every earlier round for one fewer false answer in 82, so the shipped
  thresholds went back to 3.0 / 0.3 (a choice that looked at held-out
  numbers). ``test6`` (40, written after that and scored once, on the final
  retriever): 95.0 / 100 / 40.0 % -- its unanswerable questions are
  near-domain on purpose (社保局在哪里, 销售提成怎么算) and the previous
  retriever scores the same 40 %. Last, a cue for questions about company
  facts (几点, 电话, 谁 …: search.FACT_CUES, from dev's unanswerable ones), first
  judged on ``test7`` (40, same kind of near-domain questions): 90.0 / 100 /
  30.0 % (previous retriever 85.0 / 100 / 25.0 %).
  Round 8 (second session): 386 questions written by a helper who read the
  articles but not this file, the retriever or any result, split at random
  (seeded) into dev and ``test8`` and committed before the change. The shipped
  retriever scored 79.7 / 94.9 / 13.0 % on test8. The change: out-of-scope
  notes (articles/out-*.md) and re-tuned thresholds, tuned on dev only; first
  run on test8: 82.6 / 94.2 / 11.1 %. test8 then went into dev.
  Round 9: 224 questions (``test9``, 63 unanswerable, 55 of them near-domain)
  by a helper who saw only copies of the in-scope articles, committed before
  the next change (a note's keyword named in the question and absent from the
  best article declines: ``decline_named``; a few keywords and synonyms from
  dev misses; thresholds re-picked by tune_thresholds). First run on test9:
  90.1 / 96.9 / 15.9 % (the same articles without notes, previous thresholds:
  88.8 / 97.5 / 22.2 %); then merged into dev.
  Round 10: 224 questions (``test10``, 70 unanswerable, asked to share a
  specific bookkeeping word with an article), same kind of helper; change:
  two more notes (会计专题 not written yet, features the product lacks),
  thresholds re-picked. First run: 89.6 / 97.4 / 22.9 % (without notes:
  89.0 / 97.4 / 41.4 %); then merged into dev.
  Round 11: 214 questions (``test11``, 63 unanswerable: a realistic mix, 20
  off-domain and the rest near-domain), same kind of helper; change: notes'
  ``names`` (a lexicon of accounting and tax concepts from 小企业会计准则's
  accounts and common tax topics, checked verbatim, not ranked), thresholds
  re-picked. First run: 91.4 / 98.7 / 1.6 % (without notes: 90.1 / 98.7 /
  20.6 %). test11 stays held out.
  Round 12: 218 questions (``test12``, a manufacturing company's staff),
  scored once with no change made for it: 83.4 / 94.7 / 11.9 % (without
  notes 80.8 / 94.7 / 22.4 %); then merged into dev.
  Round 13: 214 (``test13``, trading and online retail); change: keywords and
  names from test12, thresholds re-picked (2.25 / 0.1). First run: 81.0 /
  95.2 / 26.9 % (without notes, older thresholds: 76.9 / 95.9 / 25.4 %):
  e-commerce questions no note named went through any gate. Merged into dev.
  Round 14: 212 (``test14``, a building-materials distributor); change: an
  e-commerce note, 你是机器人吗 as a name, thresholds re-picked (2.75 / 0.15).
  First run: 89.6 / 97.9 / 11.8 % (without notes 84.0 / 97.9 / 13.2 %).
  Merged into dev.
  Round 15: ``test15`` (food wholesale and cold chain); change: names for
  everyday operations (押金, 保理, 以物抵债 …), thresholds re-picked (2.5 / 0.1).
  First run: 84.3 / 97.1 / 10.9 % (without notes 78.6 / 97.1 / 21.9 %). test11
  and test15 stay held out; the next change needs a fresh round.
  Leak, for the record: while round 8's notes were being
  built, a failing assertion printed five unanswerable questions of held-out
  rounds (the Metrics repr); nothing was changed for them, and the tests now
  assert on plain floats.
- Only dev misses fed back into the articles (colloquial keywords) and the
  parameters (grid search with 2-fold cross-validation on dev, thresholds by
  ``tune_thresholds``). When you add articles or change the retriever, keep the
  ``test`` rows out of the loop, and write a fresh test round when you merge them.

A retriever is anything with ``ranked(question, k) -> list[slug]`` and
``answered(question) -> slug | None`` (its confident answer, or None).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from bot.knowledge import KnowledgeBase, SearchParams, decide
from bot.knowledge.articles import Article
from bot.knowledge.tokenize import normalize

EVAL_FILE = Path(__file__).resolve().parents[2] / "tests" / "knowledge_eval.jsonl"


@dataclass(frozen=True)
class EvalRow:
    question: str
    slug: str | None
    split: str


def load_eval(path: Path = EVAL_FILE, split: str | None = None) -> list[EvalRow]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        data = json.loads(line)
        row = EvalRow(data["q"], data.get("slug"), data.get("split", "dev"))
        if not row.question.strip():
            raise ValueError(f"{path}:{n}: empty question")
        if split is None or row.split == split:
            rows.append(row)
    return rows


class Retriever(Protocol):
    def ranked(self, question: str, k: int) -> list[str]: ...

    def answered(self, question: str) -> str | None: ...


class KBRetriever:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def ranked(self, question: str, k: int) -> list[str]:
        return [h.article.slug for h in self.kb.search(question, k)]

    def answered(self, question: str) -> str | None:
        best = self.kb.answer(question).best
        return best.slug if best else None


class SubstringBaseline:
    """The plain approach: an article scores the total length of its title and
    keywords that occur verbatim in the question; any match is an answer."""

    def __init__(self, articles: Sequence[Article]) -> None:
        self.phrases = [
            (a.slug, [p for p in {normalize(x).lstrip("/") for x in (a.title, *a.keywords)} if p])
            for a in articles
        ]

    def _scores(self, question: str) -> list[tuple[int, str]]:
        q = normalize(question)
        scored = [(sum(len(p) for p in phrases if p in q), slug) for slug, phrases in self.phrases]
        return sorted(((s, slug) for s, slug in scored if s > 0), key=lambda t: (-t[0], t[1]))

    def ranked(self, question: str, k: int) -> list[str]:
        return [slug for _, slug in self._scores(question)[:k]]

    def answered(self, question: str) -> str | None:
        scores = self._scores(question)
        return scores[0][1] if scores else None


@dataclass(frozen=True)
class Metrics:
    answerable: int
    unanswerable: int
    top1: float  # expected article ranked first AND confidently answered
    top3: float  # expected article among the first three ranked
    false_answer: float  # share of unanswerable questions that got an answer
    ms_per_question: float
    misses: tuple[tuple[str, str, str | None], ...] = ()  # (question, expected, got)


def evaluate(retriever: Retriever, rows: Iterable[EvalRow]) -> Metrics:
    rows = list(rows)
    top1 = top3 = false = n_ans = n_unans = 0
    misses: list[tuple[str, str, str | None]] = []
    start = time.perf_counter()
    for row in rows:
        got = retriever.answered(row.question)
        if row.slug is None:
            n_unans += 1
            if got is not None:
                false += 1
                misses.append((row.question, "-", got))
            continue
        n_ans += 1
        ranked = retriever.ranked(row.question, 3)
        if got == row.slug:
            top1 += 1
        else:
            misses.append((row.question, row.slug, got))
        if row.slug in ranked:
            top3 += 1
    elapsed = time.perf_counter() - start
    return Metrics(
        answerable=n_ans,
        unanswerable=n_unans,
        top1=top1 / max(n_ans, 1),
        top3=top3 / max(n_ans, 1),
        false_answer=false / max(n_unans, 1),
        ms_per_question=1000 * elapsed / max(len(rows), 1),
        misses=tuple(misses),
    )


def tune_thresholds(
    kb: KnowledgeBase, dev: Sequence[EvalRow], max_false: float = 0.05
) -> tuple[SearchParams, float, float]:
    """Grid-search ``min_evidence`` / ``min_coverage`` on the dev rows.

    Maximises top-1 subject to a false-answer rate ≤ ``max_false``; ties go to
    the stricter setting. Half the 10 % target, as a margin. ``decline_ratio``
    and ``coverage_weight`` stay as given. Ranking does not depend on the
    thresholds, so each question is searched once. Returns (params, dev top-1,
    dev false-answer rate).

    Read the dev false-answer rate as optimistic: the out-of-scope notes were
    written from dev's unanswerable questions. Calibrating the gate without the
    notes instead does not fix that: at a 5 % budget it costs 20 points of top-1
    on dev, and on test13 the older, stricter gate without notes let 25.4 %
    through against 26.9 % for the loose one with notes -- new kinds of
    near-domain questions pass any gate; only a note that names them stops them.
    """
    n_answerable = sum(r.slug is not None for r in dev)
    n_unanswerable = len(dev) - n_answerable
    k = len(kb.index.docs)  # every note: decide() looks for named out-of-scope things
    cases = [(row, kb.command_article(row.question), kb.index.search(row.question, k)) for row in dev]

    def rates(params: SearchParams) -> tuple[float, float]:
        top1 = false = 0
        for row, command, hits in cases:
            best = decide(hits, command, params).best
            got = best.slug if best else None
            if row.slug is None:
                false += got is not None
            else:
                top1 += got == row.slug
        return top1 / max(n_answerable, 1), false / max(n_unanswerable, 1)

    best: tuple[float, float, SearchParams, float] | None = None
    for evidence in [x / 4 for x in range(0, 25)]:
        for cov in [x / 20 for x in range(0, 15)]:
            params = replace(kb.params, min_evidence=evidence, min_coverage=cov)
            top1, false = rates(params)
            if false > max_false:
                continue
            if best is None or (top1, evidence + cov) > best[:2]:
                best = (top1, evidence + cov, params, false)
    if best is None:
        raise ValueError("no threshold keeps false answers within budget")
    return best[2], best[0], best[3]
