"""Plain-text replies built from knowledge-base results (zh-CN).

Pure functions, no Telegram: the chat handlers add buttons (the ``others``
articles and 转人工) around these texts; the console prints them as they are.
"""

from __future__ import annotations

from bot.knowledge import Answer, Article, KnowledgeBase

NO_ANSWER = "抱歉，知识库里没有找到可靠的答案。可以换个说法再问，或点「转人工」把问题交给管理员。"


def article_text(article: Article, max_chars: int = 600) -> str:
    return f"📘 {article.title}\n\n{article.summary(max_chars)}"


def render_answer(answer: Answer, max_chars: int = 600) -> str:
    """The best article's title and a short body, or the no-answer text."""
    if answer.best is None:
        if answer.declined is not None:
            return f"🙅 这个问题不在知识库范围（不乱猜）。\n\n{answer.declined.summary(max_chars)}"
        return NO_ANSWER
    text = article_text(answer.best, max_chars)
    if answer.others:
        text += "\n\n相关问题：" + "；".join(a.title for a in answer.others)
    return text


def render_refusal(code: str, message: str, hint: str, kb: KnowledgeBase | None = None) -> str:
    """A refusal (erp.errors.ErpError: code, message(), hint) with its article.

    The handler passes ``err.code, err.message(), err.hint``; the article's slug
    is what a "详细说明" button should carry (e.g. ``kb:art:<slug>``).
    """
    kb = kb or KnowledgeBase.load()
    lines = [f"⚠️ {message}", f"下一步：{hint}"]
    article = kb.article_for_code(code)
    if article is not None:
        lines.append(f"详细说明：《{article.title}》")
    lines.append(f"（代码 {code}）")
    return "\n".join(lines)


def render_topics(kb: KnowledgeBase, per_topic: int = 4) -> str:
    """Topic list for /help: each topic with a few article titles."""
    lines = ["可以直接提问，或用 /ask 问题。常见主题："]
    for topic, articles in kb.topics():
        titles = "；".join(a.title for a in articles[:per_topic])
        more = f" 等 {len(articles)} 篇" if len(articles) > per_topic else ""
        lines.append(f"• {topic}：{titles}{more}")
    return "\n".join(lines)
