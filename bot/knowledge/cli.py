"""``python main.py kb ...``: ask, list and check the knowledge base from a terminal.

Not yet in main.CLI_MODULES (that list is the lead's); ``bot.cli`` can call
``register(subparsers)`` from here, or add "bot.knowledge.cli" to the list.
"""

from __future__ import annotations

import argparse
import json
import sys

from bot.knowledge import ArticleError, KnowledgeBase
from bot.knowledge.render import render_answer, render_topics


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("kb", help="support knowledge base: ask, topics, check")
    sub = parser.add_subparsers(dest="kb_command", metavar="ACTION", required=True)

    ask = sub.add_parser("ask", help="answer a question as the bot would")
    ask.add_argument("question", nargs="+")
    ask.add_argument("--json", action="store_true", help="ranked hits with scores as JSON")
    ask.set_defaults(func=cmd_ask)

    topics = sub.add_parser("topics", help="list topics and articles (the /help text)")
    topics.set_defaults(func=cmd_topics)

    check = sub.add_parser("check", help="load every article and check that each refusal code has one")
    check.set_defaults(func=cmd_check)


def cmd_ask(args: argparse.Namespace) -> int:
    kb = KnowledgeBase.load()
    question = " ".join(args.question)
    answer = kb.answer(question)
    if args.json:
        data = {
            "question": question,
            "confident": answer.confident,
            "best": answer.best.slug if answer.best else None,
            "declined": answer.declined.slug if answer.declined else None,
            "others": [a.slug for a in answer.others],
            "hits": [
                {
                    "slug": h.article.slug,
                    "title": h.article.title,
                    "score": round(h.score, 3),
                    "specific": round(h.specific, 3),
                    "coverage": round(h.coverage, 3),
                }
                for h in answer.hits
            ],
        }
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(render_answer(answer))
    return 0 if answer.confident else 1


def cmd_topics(args: argparse.Namespace) -> int:
    print(render_topics(KnowledgeBase.load(), per_topic=100))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from erp.errors import CODES

    try:
        kb = KnowledgeBase.load()
    except ArticleError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    missing = [code for code in CODES if kb.article_for_code(code) is None]
    print(
        f"{len(kb.articles)} 篇文章，{len(kb.out_of_scope)} 条范围外说明；{len(CODES) - len(missing)}/{len(CODES)} 个拒绝代码有说明文章"
    )
    if missing:
        print("缺少说明：" + ", ".join(missing), file=sys.stderr)
        return 1
    return 0
