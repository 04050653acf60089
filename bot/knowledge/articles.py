"""Articles as Markdown files with a small front matter.

    ---
    slug: red-invoice
    title: 怎么开红字发票
    keywords: 红冲, 红字确认单, 退货
    codes: DUPLICATE_INVOICE
    topic: 数电票
    ---
    正文（Markdown）……

``keywords`` and ``codes`` are comma-separated (、，, all accepted); ``topic``
groups articles for /help. The file
name is ``<slug>.md``; the slug is the stable id other code links to.

``scope: out`` marks an *out-of-scope* note (files ``out-*.md``): a kind of
question the base deliberately does not answer (公司内部事务, 个人社保公积金,
政府部门地址电话 …). It is searched like an article on its title and keywords;
when it ranks first the bot declines and its body says where to ask instead
(12366, 人事 …). It never appears in /help, as a related article or as a
refusal's link. A note may also list ``names``: concepts it stands for (在建工程,
留抵退税) that are not used for ranking; a question naming one that the best
article never mentions is declined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_LIST_SPLIT = re.compile(r"[,，、;；]\s*")


class ArticleError(ValueError):
    """A malformed article file; the message names the file and the problem."""


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    keywords: tuple[str, ...] = ()
    body: str = ""
    codes: tuple[str, ...] = ()
    topic: str = "其他"
    path: Path | None = field(default=None, compare=False)
    scope: str = "in"  # "out": an out-of-scope note, see the module docstring
    names: tuple[str, ...] = ()  # a note's concepts: named in a question, they decline it

    @property
    def in_scope(self) -> bool:
        return self.scope == "in"

    def summary(self, max_chars: int = 300) -> str:
        """The body as plain text, cut at a sentence end near ``max_chars``."""
        text = _plain(self.body)
        if len(text) <= max_chars:
            return text
        cut = text[:max_chars]
        ends = [cut.rfind(p) for p in ("。", "；", "！", "？", "\n")]
        end = max(ends)
        if end >= max_chars // 2:
            return cut[: end + 1].rstrip()
        return cut.rstrip() + "…"


def _plain(markdown: str) -> str:
    lines = []
    for line in markdown.strip().splitlines():
        line = re.sub(r"^#+\s*", "", line)
        line = re.sub(r"\*\*(.+?)\*\*", r"\1", line)
        line = re.sub(r"`([^`]+)`", r"\1", line)
        lines.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in _LIST_SPLIT.split(value) if item.strip())


def parse_article(text: str, path: Path | None = None) -> Article:
    where = str(path) if path else "<text>"
    if not text.startswith("---"):
        raise ArticleError(f"{where}: missing front matter (--- … ---)")
    try:
        _, header, body = text.split("---", 2)
    except ValueError as exc:
        raise ArticleError(f"{where}: front matter not closed with ---") from exc
    meta: dict[str, str] = {}
    for line in header.strip().splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise ArticleError(f"{where}: header line without ':': {line!r}")
        meta[key.strip().lower()] = value.strip()
    slug = meta.get("slug", "")
    if not _SLUG.match(slug):
        raise ArticleError(f"{where}: slug {slug!r} must be lower-case letters, digits and '-'")
    title = meta.get("title", "")
    if not title:
        raise ArticleError(f"{where}: title is empty")
    body = body.strip()
    if not body:
        raise ArticleError(f"{where}: body is empty")
    codes = tuple(c.upper() for c in _split_list(meta.get("codes", "")))
    keywords = _split_list(meta.get("keywords", ""))
    scope = meta.get("scope", "in").lower() or "in"
    if scope not in ("in", "out"):
        raise ArticleError(f"{where}: scope must be 'in' or 'out', not {scope!r}")
    if scope == "out" and codes:
        raise ArticleError(f"{where}: an out-of-scope note cannot explain refusal codes")
    names = _split_list(meta.get("names", ""))
    if names and scope != "out":
        raise ArticleError(f"{where}: only an out-of-scope note has names")
    return Article(slug, title, keywords, body, codes, meta.get("topic") or "其他", path, scope, names)


def render_article(article: Article) -> str:
    lines = ["---", f"slug: {article.slug}", f"title: {article.title}"]
    lines.append(f"keywords: {', '.join(article.keywords)}")
    if article.codes:
        lines.append(f"codes: {', '.join(article.codes)}")
    lines.append(f"topic: {article.topic}")
    if not article.in_scope:
        lines.append(f"scope: {article.scope}")
    if article.names:
        lines.append(f"names: {', '.join(article.names)}")
    lines += ["---", "", article.body.strip(), ""]
    return "\n".join(lines)


def load_dir(directory: Path) -> list[Article]:
    articles = [parse_article(p.read_text(encoding="utf-8"), p) for p in sorted(directory.glob("*.md"))]
    seen: dict[str, Path | None] = {}
    for art in articles:
        if art.slug in seen:
            raise ArticleError(f"duplicate slug {art.slug!r}: {seen[art.slug]} and {art.path}")
        if art.path is not None and art.path.stem != art.slug:
            raise ArticleError(f"{art.path}: file name must be {art.slug}.md")
        seen[art.slug] = art.path
    return articles
