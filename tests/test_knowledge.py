"""The knowledge base: article files, refusal links, retrieval behaviour, saving answers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.knowledge import (
    ARTICLES_DIR,
    Article,
    ArticleError,
    KnowledgeBase,
    SearchParams,
    article_for_code,
    parse_article,
)
from bot.knowledge.articles import load_dir, render_article
from bot.knowledge.render import render_answer
from bot.knowledge.synonyms import expand
from bot.knowledge.tokenize import char_terms, normalize
from erp.errors import CODES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


def write(directory: Path, slug: str, title: str, body: str, keywords: str = "", codes: str = "") -> None:
    header = f"---\nslug: {slug}\ntitle: {title}\nkeywords: {keywords}\n"
    if codes:
        header += f"codes: {codes}\n"
    (directory / f"{slug}.md").write_text(header + f"---\n{body}\n", encoding="utf-8")


# --- the shipped articles ----------------------------------------------------------


def test_at_least_sixty_articles_each_with_title_keywords_and_body(kb: KnowledgeBase) -> None:
    assert len(kb.articles) >= 60
    for art in [*kb.articles, *kb.out_of_scope]:
        assert art.title and art.body and len(art.keywords) >= 3, art.slug
        assert len(art.body) <= 900, f"{art.slug}: articles should stay short"


def test_every_refusal_code_links_an_article_that_is_about_it() -> None:
    for code in CODES:
        art = article_for_code(code)
        assert art is not None, f"no article explains {code}"
        assert code in art.codes


def test_unknown_code_has_no_article(kb: KnowledgeBase) -> None:
    assert kb.article_for_code("NO_SUCH_CODE") is None


def test_article_codes_are_real_codes(kb: KnowledgeBase) -> None:
    for art in kb.articles:
        assert set(art.codes) <= set(CODES), art.slug


def test_every_bot_command_has_an_article(kb: KnowledgeBase) -> None:
    commands = (
        "start help stock lowstock ar aging receive voucher vouchers tb remind staff ask tickets cancel"
    )
    for name in commands.split():
        art = kb.command_article(f"/{name}")
        assert art is not None, name
        assert f"/{name}" in art.keywords


def test_topics_group_all_articles_for_help(kb: KnowledgeBase) -> None:
    topics = kb.topics()
    names = [name for name, _ in topics]
    assert {"数电票", "增值税", "使用本产品", "凭证", "月末结账", "库存", "应收", "命令"} <= set(names)
    assert sum(len(arts) for _, arts in topics) == len(kb.articles)


def test_rules_that_depend_on_the_local_bureau_say_so(kb: KnowledgeBase) -> None:
    for slug in ("red-invoice", "vat-rates", "surtax", "einvoice-basics", "small-scale-taxpayer"):
        body = kb.get(slug).body  # type: ignore[union-attr]
        assert "以当地" in body or "当地税务局" in body or "主管税务局" in body or "最新公告" in body, slug


def test_key_facts_are_stated(kb: KnowledgeBase) -> None:
    assert "20 位" in kb.get("einvoice-number").body  # type: ignore[union-attr]
    rates = kb.get("vat-rates").body  # type: ignore[union-attr]
    for rate in ("13%", "9%", "6%", "0%", "3%"):
        assert rate in rates
    non_deductible = kb.get("non-deductible").body  # type: ignore[union-attr]
    for item in ("餐饮服务", "居民日常服务", "娱乐服务", "贷款服务"):
        assert item in non_deductible
    assert "¥50,000" in kb.get("approval").body  # type: ignore[union-attr]


# --- file format --------------------------------------------------------------------


def test_summary_is_plain_text_cut_at_a_sentence(kb: KnowledgeBase) -> None:
    art = kb.get("month-end-close")
    assert art is not None
    short = art.summary(120)
    assert len(short) <= 121
    assert "**" not in short and "`" not in short
    assert short.endswith(("。", "；", "！", "？", "…")) or short == art.summary(10_000)


def test_parse_and_render_round_trip() -> None:
    art = Article("x-1", "标题", ("甲", "乙"), "正文。", ("UNBALANCED",), "凭证")
    assert parse_article(render_article(art)) == art


@pytest.mark.parametrize(
    "text, why",
    [
        ("no header", "front matter"),
        ("---\nslug: Bad Slug\ntitle: t\n---\nbody", "slug"),
        ("---\nslug: ok\ntitle:\n---\nbody", "title"),
        ("---\nslug: ok\ntitle: t\n---\n   ", "body"),
        ("---\nslug: ok\ntitle t\n---\nbody", "without ':'"),
    ],
)
def test_malformed_article_is_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(ArticleError, match=why):
        parse_article(text)


def test_duplicate_slug_and_wrong_file_name_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a", "甲", "正文")
    (tmp_path / "b.md").write_text("---\nslug: a\ntitle: 乙\n---\n正文\n", encoding="utf-8")
    with pytest.raises(ArticleError, match="duplicate slug"):
        load_dir(tmp_path)


def test_keywords_accept_chinese_separators(tmp_path: Path) -> None:
    write(tmp_path, "k", "标题", "正文", keywords="红冲、冲红，红字; 负数票")
    (art,) = load_dir(tmp_path)
    assert art.keywords == ("红冲", "冲红", "红字", "负数票")


# --- retrieval ----------------------------------------------------------------------


def test_how_to_question_answered_with_best_article_and_related_ones(kb: KnowledgeBase) -> None:
    ans = kb.answer("数电票开错了怎么开红字发票")
    assert ans.confident and ans.best is not None
    assert ans.best.slug == "red-invoice"
    assert 1 <= len(ans.others) <= 2
    assert ans.best not in ans.others


def test_unrelated_question_is_not_guessed(kb: KnowledgeBase) -> None:
    for q in ("明天北京天气怎么样", "中午吃什么", "腾讯股价多少", ""):
        ans = kb.answer(q)
        assert ans.best is None and not ans.confident and ans.others == [], q


def _with_out_of_scope_note() -> KnowledgeBase:
    pay = Article(
        "pay", "工资怎么计提", ("工资", "计提工资", "社保"), "月末计提工资：借 管理费用，贷 应付职工薪酬。"
    )
    hr = Article(
        "out-hr",
        "发薪日和请假是公司内部事务",
        ("工资几号发", "发薪日", "请假"),
        "发工资的日子和请假请问人事。",
        topic="范围外",
        scope="out",
    )
    # no thresholds: two articles are too few for idf; this is about ranking and declining
    return KnowledgeBase([pay, hr], params=SearchParams(min_evidence=0.0, min_coverage=0.0))


def test_an_out_of_scope_note_ranked_first_declines_and_says_where_to_ask() -> None:
    kb = _with_out_of_scope_note()
    ans = kb.answer("这个月工资几号发")
    assert ans.best is None and not ans.confident and ans.others == []
    assert ans.declined is not None and ans.declined.slug == "out-hr"
    assert "请问人事" in render_answer(ans)
    # the bookkeeping question still gets the article, never the note as a related one
    ans = kb.answer("工资怎么计提")
    assert ans.best is not None and ans.best.slug == "pay" and ans.declined is None
    assert all(a.in_scope for a in ans.others)
    # search (the buttons' source) and /help never show a note; it explains no refusal
    assert [h.article.slug for h in kb.search("工资几号发", k=3)] == ["pay"]
    assert kb.articles == [kb.get("pay")] and kb.out_of_scope == [kb.get("out-hr")]
    assert [name for name, _ in kb.topics()] == ["其他"]


def test_a_question_naming_what_only_a_note_knows_is_declined(tmp_path: Path) -> None:
    pay = Article("pay", "工资怎么计提", ("工资", "计提工资"), "月末计提工资：借 管理费用，贷 应付职工薪酬。")
    soft = Article(
        "out-soft", "其他财务软件", ("用友", "金蝶"), "请问软件厂商。", topic="范围外", scope="out"
    )
    params = SearchParams(min_evidence=0.0, min_coverage=0.0)
    kb = KnowledgeBase([pay, soft], params=params)
    # the article matches better, but never mentions 用友: the question is about 用友
    assert kb.search("用友里工资计提怎么做")[0].article.slug == "pay"
    ans = kb.answer("用友里工资计提怎么做")
    assert ans.best is None and ans.declined == kb.get("out-soft")
    off = KnowledgeBase(
        [pay, soft], params=SearchParams(min_evidence=0.0, min_coverage=0.0, decline_named=False)
    )
    assert off.answer("用友里工资计提怎么做").best == pay
    # a company's saved answer overrides the note
    saved = tmp_path / "saved"
    kb = KnowledgeBase([pay, soft], directory=saved, params=params)
    kb.add_article("用友里工资计提怎么做", "我们不用用友，工资在账房里手工录凭证。", ["用友"])
    assert kb.answer("用友里工资计提怎么做").best.title == "用友里工资计提怎么做"  # type: ignore[union-attr]


def test_a_notes_names_decline_without_ranking() -> None:
    dep = Article("dep", "固定资产折旧年限", ("折旧", "年限"), "电脑折旧年限 3 年，车辆 4 年。")
    topics = Article(
        "out-acc",
        "未收录的会计专题",
        ("专题",),
        "请转人工。",
        topic="范围外",
        scope="out",
        names=("无形资产",),
    )
    kb = KnowledgeBase([dep, topics], params=SearchParams(min_evidence=0.0, min_coverage=0.0))
    assert kb.answer("电脑折旧年限几年").best == dep
    ans = kb.answer("无形资产摊销年限几年")  # shares 年限 with the article; names what it never mentions
    assert ans.best is None and ans.declined == topics
    # names are not searched: they cannot pull the note up the ranking
    hits = kb.index.search("无形资产", k=2)
    assert [h.article.slug for h in hits] == ["dep", "out-acc"] and hits[1].score == 0.0
    with pytest.raises(ArticleError, match="only an out-of-scope note"):
        parse_article("---\nslug: ok\ntitle: t\nnames: 甲\n---\nbody")


def test_out_of_scope_notes_are_parsed_rendered_and_kept_apart(tmp_path: Path) -> None:
    note = Article("out-x", "范围外", ("甲", "乙"), "请问人事。", (), "范围外", scope="out", names=("丙",))
    assert parse_article(render_article(note)) == note
    with pytest.raises(ArticleError, match="scope"):
        parse_article("---\nslug: ok\ntitle: t\nscope: maybe\n---\nbody")
    with pytest.raises(ArticleError, match="refusal codes"):
        parse_article("---\nslug: ok\ntitle: t\ncodes: UNBALANCED\nscope: out\n---\nbody")
    # an article saved from a ticket is in scope, and the notes survive the re-index
    kb = KnowledgeBase([*_with_out_of_scope_note().articles, note], directory=tmp_path)
    kb.add_article("年会几号开", "12 月 20 日。")
    assert len(kb.out_of_scope) == 1 and len(kb.articles) == 2


def test_the_shipped_notes_decline_near_domain_questions(kb: KnowledgeBase) -> None:
    assert len(kb.out_of_scope) >= 5
    for note in kb.out_of_scope:
        assert note.slug.startswith("out-") and note.topic == "范围外" and not note.codes
    for question in ("你是机器人吗", "公司注销要多久"):
        ans = kb.answer(question)
        assert ans.best is None and ans.declined is not None, question


def test_search_ranks_without_threshold(kb: KnowledgeBase) -> None:
    hits = kb.search("盘盈盘亏", k=3)
    assert hits[0].article.slug == "stocktake"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_full_width_and_variant_characters_match(kb: KnowledgeBase) -> None:
    assert normalize("ＯＦＤ帐龄") == "ofd账龄"
    assert kb.answer("帐龄怎么看").best == kb.get("aging")


def test_colloquial_words_are_expanded_on_both_sides() -> None:
    assert expand("上个月的票要冲红") == "上个月的票要冲红 红字发票"
    assert expand("盘库和盘存") == "盘库和盘存 盘点 盘点"
    assert expand("今天天气") == "今天天气"
    # variants are matched after normalisation, longest first
    assert expand("增值税专用发票").endswith(" 专用发票")


def _two_articles(**params: object) -> KnowledgeBase:
    stock = Article("count", "盘点怎么做", ("盘点", "盘盈", "盘亏"), "年底清点仓库里的实物，和账上数量核对。")
    red = Article("red", "红字发票怎么开", ("红字发票", "退货"), "开错的数电票不能作废，要开红字发票冲销。")
    return KnowledgeBase([stock, red], params=SearchParams(**params))  # type: ignore[arg-type]


def test_a_synonym_finds_the_article_that_uses_the_other_word() -> None:
    assert [h.article.slug for h in _two_articles().search("年底盘库")][:1] == ["count"]
    assert [h.article.slug for h in _two_articles().search("冲红")][:1] == ["red"]
    without = _two_articles(synonyms=False)
    assert (
        without.search("冲红") == []
        or without.search("冲红")[0].score < _two_articles().search("冲红")[0].score
    )


def test_an_everyday_keyword_is_no_evidence_but_a_trade_word_is() -> None:
    pc = Article("pc", "固定资产折旧", ("电脑", "红字确认单"), "办公设备按年限平均法计提折旧。")
    plain = KnowledgeBase([pc], params=SearchParams(phrase_weight=0.0, phrase_specific=0.0))
    with_phrases = KnowledgeBase([pc])
    for question, gain in (("电脑", 0.0), ("红字确认单", 1.0)):
        before, after = plain.search(question)[0], with_phrases.search(question)[0]
        assert after.specific - before.specific == pytest.approx(gain), question


def test_a_question_about_a_company_fact_needs_more_evidence() -> None:
    kb = _two_articles()
    how = kb.search("盘点怎么做")[0]
    who = kb.search("盘点找谁做")[0]
    assert who.article.slug == how.article.slug == "count"
    assert how.specific - who.specific == pytest.approx(kb.params.fact_penalty)
    assert kb.params.fact_penalty > 0


def test_command_name_is_answered_by_its_article(kb: KnowledgeBase) -> None:
    assert kb.answer("/lowstock 是干嘛的").best == kb.get("low-stock")
    assert kb.answer("tb").best == kb.get("trial-balance")


def test_stop_words_do_not_make_n_grams_across_them() -> None:
    terms = char_terms("怎么开红字发票")
    assert "么开" not in terms and "怎么" not in terms
    assert {"红字", "发票"} <= set(terms)


def test_jieba_tokenizer_gives_the_same_api(kb: KnowledgeBase) -> None:
    jkb = KnowledgeBase(kb.articles, tokenizer="jieba")
    assert jkb.search("盘盈盘亏怎么处理", 1)[0].article.slug == "stocktake"


# --- saving a good answer as an article ---------------------------------------------------


def test_add_article_writes_a_file_and_is_searchable_at_once(tmp_path: Path) -> None:
    write(tmp_path, "stocktake", "盘点怎么做", "按仓库逐一清点。", keywords="盘点, 盘盈, 盘亏")
    kb = KnowledgeBase.from_dir(tmp_path)
    assert kb.answer("社保基数每年几月调整").best is None

    art = kb.add_article(
        "社保缴费基数每年什么时候调整",
        "一般每年 7 月按上年度职工月平均工资调整，具体以当地社保局通知为准。",
        ["社保基数", "缴费基数", "社保调整"],
    )
    assert art.path is not None and art.path.parent == tmp_path and art.path.exists()
    assert kb.answer("社保基数每年几月调整").best == art
    reloaded = KnowledgeBase.from_dir(tmp_path)
    assert reloaded.get(art.slug) == art


def test_add_article_never_overwrites_and_rejects_empty_text(tmp_path: Path) -> None:
    kb = KnowledgeBase([], directory=tmp_path)
    kb.add_article("问题", "答案。", slug="faq-1")
    with pytest.raises(ArticleError):
        kb.add_article("另一个问题", "答案。", slug="faq-1")
    with pytest.raises(ArticleError):
        kb.add_article("  ", "答案。")
    with pytest.raises(ArticleError):
        kb.add_article("问题", "  ")
    assert [p.name for p in tmp_path.iterdir()] == ["faq-1.md"]


def test_add_article_directory_is_a_parameter(tmp_path: Path, kb: KnowledgeBase) -> None:
    copy = KnowledgeBase(kb.articles)  # the shipped directory is never written by tests
    art = copy.add_article("测试问题", "测试答案。", directory=tmp_path)
    assert art.path is not None and art.path.parent == tmp_path
    assert not (ARTICLES_DIR / f"{art.slug}.md").exists()


# --- boundaries ---------------------------------------------------------------------------


def test_knowledge_package_does_not_import_telegram() -> None:
    # Usable from the console and tests: no module of the package imports telegram.
    for path in (ROOT / "bot" / "knowledge").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "telegram" for n in names), path


# --- texts for the chat and the console -------------------------------------------------


def test_refusal_text_carries_code_next_step_and_article(kb: KnowledgeBase) -> None:
    from bot.knowledge.render import render_refusal
    from erp.errors import ErpError

    err = ErpError("PERIOD_CLOSED", period="2024-05")
    text = render_refusal(err.code, err.message(), err.hint, kb)
    assert "2024-05" in text and err.hint in text and "PERIOD_CLOSED" in text
    assert kb.get("period-closed").title in text  # type: ignore[union-attr]


def test_answer_text_and_no_answer_text(kb: KnowledgeBase) -> None:
    from bot.knowledge.render import NO_ANSWER, render_answer, render_topics

    text = render_answer(kb.answer("月末结账要做什么"))
    assert text.startswith("📘 月末结账要做哪些事") and len(text) < 1200
    assert render_answer(kb.answer("qwe asd")) == NO_ANSWER
    declined = render_answer(kb.answer("今天天气怎么样"))  # small talk: said so, and what it is for
    assert declined.startswith("🙅 这个问题不在知识库范围") and "/help" in declined
    help_text = render_topics(kb)
    assert "数电票" in help_text and "应收" in help_text and len(help_text) < 4096


def test_cli_ask_and_check(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse
    import json

    from bot.knowledge.cli import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["kb", "ask", "--json", "红字发票怎么开"])
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)["best"] == "red-invoice"
    args = parser.parse_args(["kb", "ask", "中午吃什么"])
    assert args.func(args) == 1
    args = parser.parse_args(["kb", "check"])
    assert args.func(args) == 0
    from erp.errors import CODES

    assert f"{len(CODES)}/{len(CODES)}" in capsys.readouterr().out


def test_saved_answers_can_live_outside_the_package(tmp_path: Path) -> None:
    saved = tmp_path / "kb"
    kb = KnowledgeBase.from_dirs([ARTICLES_DIR, saved], write_dir=saved)  # saved/ need not exist yet
    base = len(kb.articles)
    art = kb.add_article("员工餐补发放标准", "按公司制度每人每天 30 元，随工资发放。", ["餐补", "伙食补贴"])
    assert art.path is not None and art.path.parent == saved
    again = KnowledgeBase.from_dirs([ARTICLES_DIR, saved], write_dir=saved)
    assert len(again.articles) == base + 1 and again.get(art.slug) == art
    write(saved, "red-invoice", "重复", "正文")
    with pytest.raises(ArticleError, match="duplicate slug"):
        KnowledgeBase.from_dirs([ARTICLES_DIR, saved])
