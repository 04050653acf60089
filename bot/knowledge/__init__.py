"""Support knowledge base: Chinese how-to articles and offline retrieval.

No Telegram here: the chat handlers, the console and tests all call this API.

    kb = KnowledgeBase.load()                 # cached, articles from bot/knowledge/articles/
    ans = kb.answer("怎么开红字发票")          # Answer(best, others, confident, hits, declined)
    if ans.confident: reply(ans.best.title, ans.best.summary(300)); buttons(ans.others)
    elif ans.declined: reply(ans.declined.summary()) -- out of scope, says where to ask; offer 转人工
    else: offer 转人工
    article_for_code("PERIOD_CLOSED")        # the article a refusal links
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bot.knowledge.articles import Article, ArticleError, load_dir, parse_article, render_article
from bot.knowledge.search import Hit, Index, SearchParams, is_confident
from bot.knowledge.tokenize import normalize
from values import clock

ARTICLES_DIR = Path(__file__).resolve().parent / "articles"
DEFAULT_TOKENIZER = "char"
_COMMAND = re.compile(r"/[a-z]+")
_WORD = re.compile(
    r"(?<![a-z0-9])[a-z]+(?![a-z0-9])"
)  # measured better than jieba on the eval set: see bench/knowledge.py

__all__ = [
    "ARTICLES_DIR",
    "Answer",
    "Article",
    "ArticleError",
    "Hit",
    "KnowledgeBase",
    "SearchParams",
    "article_for_code",
    "parse_article",
]


@dataclass(frozen=True)
class Answer:
    """``best`` is None when nothing matches well enough: do not guess, offer 转人工.

    ``declined`` is set when the question is recognisably of a kind the base does not
    answer (an out-of-scope note ranked first and matched well, or the question names
    one of its keywords or names that the best article never mentions): its body says
    where to ask instead.
    """

    best: Article | None
    others: list[Article] = field(default_factory=list)
    confident: bool = False
    hits: list[Hit] = field(default_factory=list)  # raw ranking, for logs and debugging
    declined: Article | None = None


class KnowledgeBase:
    def __init__(
        self,
        articles: Iterable[Article],
        *,
        directory: Path | None = None,
        tokenizer: str = DEFAULT_TOKENIZER,
        params: SearchParams | None = None,
    ) -> None:
        self.directory = directory
        self.tokenizer = tokenizer
        self.params = params or SearchParams()
        self._lock = threading.Lock()
        self._set_articles(list(articles))

    @classmethod
    def from_dir(
        cls, directory: Path, *, tokenizer: str = DEFAULT_TOKENIZER, params: SearchParams | None = None
    ) -> KnowledgeBase:
        return cls(load_dir(directory), directory=directory, tokenizer=tokenizer, params=params)

    @classmethod
    def from_dirs(
        cls,
        directories: Iterable[Path],
        *,
        write_dir: Path | None = None,
        tokenizer: str = DEFAULT_TOKENIZER,
        params: SearchParams | None = None,
    ) -> KnowledgeBase:
        """Articles from several directories (e.g. the shipped ones plus a company's
        saved answers under data/); ``add_article`` writes to ``write_dir``. A slug
        may appear only once across all of them."""
        articles: list[Article] = []
        seen: dict[str, Path | None] = {}
        for directory in directories:
            if not directory.is_dir():
                continue
            for art in load_dir(directory):
                if art.slug in seen:
                    raise ArticleError(f"duplicate slug {art.slug!r}: {seen[art.slug]} and {art.path}")
                seen[art.slug] = art.path
                articles.append(art)
        return cls(articles, directory=write_dir, tokenizer=tokenizer, params=params)

    @classmethod
    def load(cls) -> KnowledgeBase:
        """The product's knowledge base, read once per process."""
        return _default_kb()

    def _set_articles(self, articles: list[Article]) -> None:
        self.articles = [a for a in articles if a.in_scope]  # what the base answers with
        self.out_of_scope = [a for a in articles if not a.in_scope]  # what it declines
        # answers the company saved (files outside the shipped articles): they override the notes
        self.company_answers = frozenset(
            a.slug for a in self.articles if a.path is not None and a.path.parent != ARTICLES_DIR
        )
        self._by_slug = {a.slug: a for a in articles}
        self._by_code: dict[str, Article] = {}
        self._by_command: dict[str, Article] = {}
        for art in self.articles:
            for code in art.codes:
                self._by_code.setdefault(code, art)
            for kw in art.keywords:
                if _COMMAND.fullmatch(kw):
                    self._by_command.setdefault(kw[1:].lower(), art)
        self.index = Index(articles, self.tokenizer, self.params)

    # --- lookups ---------------------------------------------------------------

    def get(self, slug: str) -> Article | None:
        return self._by_slug.get(slug)

    def article_for_code(self, code: str) -> Article | None:
        return self._by_code.get(code.upper())

    def topics(self) -> list[tuple[str, list[Article]]]:
        """In-scope articles grouped by topic, in the order topics first appear (file order)."""
        groups: dict[str, list[Article]] = {}
        for art in self.articles:
            groups.setdefault(art.topic, []).append(art)
        return list(groups.items())

    # --- retrieval -------------------------------------------------------------

    def search(self, question: str, k: int = 3) -> list[Hit]:
        """Ranked in-scope hits, best first, *without* the confidence threshold or
        the out-of-scope check (``answer`` applies both)."""
        return [h for h in self.index.search(question, k + len(self.out_of_scope)) if h.article.in_scope][:k]

    def command_article(self, question: str) -> Article | None:
        """The article of a bot command the question names ("/stock 怎么用", "lowstock")."""
        found = {self._by_command[w] for w in _WORD.findall(question.lower()) if w in self._by_command}
        return found.pop() if len(found) == 1 else None

    def answer(self, question: str, n_others: int = 2) -> Answer:
        hits = self.index.search(question, k=len(self.index.docs))  # every note is looked at
        return decide(hits, self.command_article(question), self.params, n_others, self.company_answers)

    # --- writing -----------------------------------------------------------------

    def add_article(
        self,
        title: str,
        body: str,
        keywords: Iterable[str] = (),
        *,
        directory: Path | None = None,
        slug: str | None = None,
        topic: str = "员工补充",
        codes: Iterable[str] = (),
    ) -> Article:
        """Save a new article as ``<slug>.md`` and index it at once.

        For "save a good answer as an article": ``title`` is usually the asker's
        question, ``body`` the admin's reply. ``directory`` defaults to the
        directory this base was loaded from. Refuses an empty title/body or an
        existing slug (never overwrites a file).
        """
        title = " ".join(title.split())
        body = body.strip()
        if not title or not body:
            raise ArticleError("标题和正文都不能为空")
        target = directory or self.directory
        if target is None:
            raise ArticleError("no directory to save the article in")
        slug = slug or _new_slug(title)
        if slug in self._by_slug:
            raise ArticleError(f"slug {slug!r} already exists")
        kw = tuple(k.strip() for k in keywords if k and k.strip())
        art = Article(slug, title, kw, body, tuple(c.upper() for c in codes), topic)
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{slug}.md"
        with path.open("x", encoding="utf-8") as fh:  # "x": fail rather than overwrite
            fh.write(render_article(art))
        art = parse_article(path.read_text(encoding="utf-8"), path)  # what a reload would see
        with self._lock:
            self._set_articles([*self.articles, *self.out_of_scope, art])
        return art


def decide(
    hits: list[Hit],
    command: Article | None,
    params: SearchParams,
    n_others: int = 2,
    company_answers: frozenset[str] = frozenset(),
) -> Answer:
    """What to reply, from the ranked hits (in-scope articles and out-of-scope notes).

    An answer the company saved itself (``company_answers``, e.g. how to clear the
    office printer) is answered even where a shipped note would decline.
    """
    shown = [h for h in hits if h.article.in_scope]
    top = hits[: 1 + n_others]  # for logs and the CLI
    if command is not None:
        # A named command is unambiguous; bag-of-words would favour the command list.
        others = [h.article for h in shown if h.article != command][:n_others]
        return Answer(command, others, True, top)
    notes = [h for h in hits if not h.article.in_scope]
    company_knows = bool(shown) and shown[0].article.slug in company_answers
    if notes and not company_knows:
        named = _names_outside(shown[0].article, notes) if params.decline_named and shown else None
        if named or not shown or notes[0].score >= params.decline_ratio * shown[0].score:
            # Recognisably a question the base does not answer (工资几号发, 社保局在哪, 用友
            # 怎么录期初): say so, and where to ask, rather than offer the nearest article.
            declined = named or (notes[0].article if is_confident(notes[0], params) else None)
            return Answer(None, [], False, top, declined)
    if not shown or not is_confident(shown[0], params):
        return Answer(None, [], False, top)
    # Related articles are offered only when they also match the question reasonably.
    floor = shown[0].score * 0.35
    others = [h.article for h in shown[1 : 1 + n_others] if h.score >= floor]
    return Answer(shown[0].article, others, True, top)


def _names_outside(article: Article, notes: list[Hit]) -> Article | None:
    """The note whose specific keyword the question names and ``article`` never mentions."""
    text = normalize(" ".join((article.title, *article.keywords, article.body)))
    for hit in notes:
        if any(phrase not in text for phrase in hit.phrases):
            return hit.article
    return None


def _new_slug(title: str) -> str:
    stamp = clock.now().strftime("%Y%m%d%H%M%S")
    digest = hashlib.sha1(title.encode("utf-8")).hexdigest()[:6]
    return re.sub(r"[^a-z0-9-]", "", f"faq-{stamp}-{digest}")


@lru_cache(maxsize=1)
def _default_kb() -> KnowledgeBase:
    return KnowledgeBase.from_dir(ARTICLES_DIR)


def article_for_code(code: str) -> Article | None:
    """The article that explains refusal ``code`` (erp/errors.py CODES), or None."""
    return KnowledgeBase.load().article_for_code(code)
