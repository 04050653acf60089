"""Retrieval quality on the labelled questions (tests/knowledge_eval.jsonl).

Parameters were tuned on the ``dev`` rows; ``test`` … ``test7``, ``test11`` and ``test15`` were each written
before the change they first measured and were never tuned on (bot/knowledge/
evaluate.py tells the story). Targets from the feature: top-1 ≥ 85 %, top-3 ≥ 95 %,
false answers on unanswerable ≤ 10 %, < 20 ms per question.
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
    assert {"dev", *HELD_OUT_FLOORS} <= {r.split for r in rows}
    questions = [r.question for r in rows]
    assert len(questions) == len(set(questions)), "duplicate questions"
    # several phrasings per article
    per_article = {a.slug: sum(r.slug == a.slug for r in answerable) for a in kb.articles}
    assert min(per_article.values()) >= 2


def test_top1_top3_and_false_answers_meet_targets(overall: Metrics) -> None:
    # floats: a failure must not print the misses
    top1, top3, false = overall.top1, overall.top3, overall.false_answer
    assert top1 >= 0.85  # measured 88.4 % on all 2,095 answerable
    assert top3 >= 0.95  # 96.9 %
    assert false <= 0.10  # 7.4 % on all 829 unanswerable


def test_false_answers_on_the_old_near_domain_rounds_are_known_to_miss(kb: KnowledgeBase) -> None:
    # test3-test7 (written in the first session to find false answers, scored by every
    # version since) are where the target is still missed: 21.0 % of their 105
    # unanswerable questions are answered. Everything else: 5.4 % of 724.
    near_domain = {"test3", "test4", "test5", "test6", "test7"}
    rows = [r for r in load_eval() if r.split not in near_domain]
    false = evaluate(KBRetriever(kb), rows).false_answer  # a float: no misses in a failure
    assert false <= 0.07
    false = evaluate(KBRetriever(kb), [r for r in load_eval() if r.split in near_domain]).false_answer
    assert false <= 0.25


# Held-out rounds, never tuned on, as bench/knowledge.py printed them for the shipped
# retriever (top-1 / top-3 / false answers). Fresh for that run: test15 only; the others
# had been scored by earlier versions (bot/knowledge/evaluate.py tells the story; test8,
# test9, test10, test12, test13 and test14 were scored once each and are in dev now). The
# floors guard against regressions; they sit about one question below the measurement,
# not at the targets.
HELD_OUT_FLOORS = {
    "test": (0.76, 0.93, 0.07),  # measured 77.5 / 94.4 / 6.7 % (89 + 15 questions)
    "test2": (0.86, 0.95, 0.10),  # measured 87.5 / 95.8 / 9.1 % (144 + 22)
    "test3": (0.83, 0.97, 0.28),  # measured 86.0 / 100 / 24.0 % (43 + 25)
    "test4": (0.80, 0.90, 0.20),  # measured 85.0 / 95.0 / 15.0 % (20 + 20)
    "test5": (0.70, 0.95, 0.20),  # measured 75.0 / 100 / 15.0 % (20 + 20)
    "test6": (0.90, 0.95, 0.35),  # measured 95.0 / 100 / 30.0 % (20 + 20)
    "test7": (0.85, 0.90, 0.25),  # measured 90.0 / 95.0 / 20.0 % (20 + 20)
    "test11": (0.90, 0.98, 0.04),  # measured 90.7 / 98.7 / 1.6 % (151 + 63)
    "test15": (0.83, 0.96, 0.13),  # measured 84.3 / 97.1 / 10.9 % (140 + 64)
}


@pytest.mark.parametrize("split", sorted(HELD_OUT_FLOORS))
def test_held_out_rounds(kb: KnowledgeBase, split: str) -> None:
    top1, top3, false = HELD_OUT_FLOORS[split]
    held_out = evaluate(KBRetriever(kb), load_eval(split=split))
    # plain floats, so a failure shows no misses: nobody should tune on them
    got_top1, got_top3, got_false = held_out.top1, held_out.top3, held_out.false_answer
    assert got_top1 >= top1
    assert got_top3 >= top3
    assert got_false <= false


def test_beats_the_substring_baseline(kb: KnowledgeBase, overall: Metrics) -> None:
    baseline = evaluate(SubstringBaseline(kb.articles), load_eval())
    ours, theirs = (overall.top1, overall.top3), (baseline.top1, baseline.top3)
    assert ours[0] > theirs[0] + 0.10
    assert ours[1] > theirs[1]


def test_answer_takes_under_20_ms(kb: KnowledgeBase) -> None:
    questions = [r.question for r in load_eval()]
    start = time.perf_counter()
    for q in questions:
        kb.answer(q)
    per_question_ms = 1000 * (time.perf_counter() - start) / len(questions)
    assert per_question_ms < 20
