"""Retrieval quality on the labelled questions (tests/knowledge_eval.jsonl).

Parameters were tuned on the ``dev`` rows; the ``test`` rows were written
before the last round of tuning and held out. Targets from the feature, on the
whole set: top-1 ≥ 85 %, top-3 ≥ 95 %, false answers on unanswerable ≤ 10 %.
"""

from __future__ import annotations

import time

import pytest

from bot.knowledge import KnowledgeBase
from bot.knowledge.evaluate import KBRetriever, Metrics, SubstringBaseline, evaluate, load_eval


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


@pytest.fixture(scope="module")
def overall(kb: KnowledgeBase) -> Metrics:
    return evaluate(KBRetriever(kb), load_eval())


def test_eval_set_is_big_enough_and_labels_real_articles(kb: KnowledgeBase) -> None:
    rows = load_eval()
    answerable = [r for r in rows if r.slug is not None]
    assert len(answerable) >= 120
    assert sum(r.slug is None for r in rows) >= 20
    assert {r.slug for r in answerable} <= {a.slug for a in kb.articles}
    assert {r.split for r in rows} == {"dev", "test", "test2", "test3", "test4"}
    questions = [r.question for r in rows]
    assert len(questions) == len(set(questions)), "duplicate questions"
    # several phrasings per article
    per_article = {a.slug: sum(r.slug == a.slug for r in answerable) for a in kb.articles}
    assert min(per_article.values()) >= 2


def test_top1_top3_and_false_answers_meet_targets(overall: Metrics) -> None:
    assert overall.top1 >= 0.85, overall.misses
    assert overall.top3 >= 0.95
    assert overall.false_answer <= 0.10


def test_held_out_half(kb: KnowledgeBase) -> None:
    # Questions written before the last tuning round and never tuned on. Measured
    # when first run: top-1 76.4 %, top-3 95.5 %, false answers 0 % (the previous
    # held-out round: 80.4 / 96.6 / 4.0 %). Unseen phrasings do NOT reach 85 %
    # top-1; the floor here guards against regressions, not the target.
    held_out = evaluate(KBRetriever(kb), load_eval(split="test"))
    assert held_out.top1 >= 0.75  # no misses in the message: nobody should tune on them
    assert held_out.top3 >= 0.95
    assert held_out.false_answer <= 0.10


def test_beats_the_substring_baseline(kb: KnowledgeBase, overall: Metrics) -> None:
    baseline = evaluate(SubstringBaseline(kb.articles), load_eval())
    assert overall.top1 > baseline.top1 + 0.10
    assert overall.top3 > baseline.top3


def test_answer_takes_under_20_ms(kb: KnowledgeBase) -> None:
    questions = [r.question for r in load_eval()]
    start = time.perf_counter()
    for q in questions:
        kb.answer(q)
    per_question_ms = 1000 * (time.perf_counter() - start) / len(questions)
    assert per_question_ms < 20
