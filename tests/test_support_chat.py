"""Support end to end: the real Application against the local Bot API (bot/fakeapi.py).

How-to questions answered from the knowledge base with buttons, 转人工 to an admin whose
Telegram *reply* goes back to the asker and can be saved as an article, refusals with their
code and article, and strangers kept out.
"""

from __future__ import annotations

from sqlmodel import select

from bot.fakeapi import SentMessage
from bot.knowledge import KnowledgeBase
from erp.db import transaction
from erp.models import Ticket
from erp.staff import add_staff, deactivate
from handlers.common import detached
from tests.test_bot_helpers import (
    ACCOUNTANT,
    ADMIN,
    SALES,
    STRANGER,
    WAREHOUSE,
    LocalChat,
    company_settings,
    make_ctx,
    run,
    seed_company,
    user,
)

KB = KnowledgeBase.load()
ADMIN2 = 1006
SUPPORT_GROUP_CHAT = -1001234567890


def local_chat(ctx) -> LocalChat:
    return LocalChat(ctx)


async def reply_to(
    chat: LocalChat, who: dict, message: SentMessage, text: str, *, group: int | None = None
) -> list[SentMessage]:
    """``who`` answers ``message`` with Telegram's "reply" (in a group chat when ``group``)."""
    mark = chat.api.mark()
    msg = chat.api._message(who, text=text, reply_to_message=message.to_json())
    if group is not None:
        msg["chat"] = {"id": group, "type": "supergroup", "title": "财务支持群"}
        msg["reply_to_message"]["chat"] = msg["chat"]
    update_id = await chat.api._push({"message": msg})
    return await chat._processed(update_id, mark, group if group is not None else who["id"], 15)


def _tickets(engine) -> list[Ticket]:
    with detached(engine) as s:
        return list(s.exec(select(Ticket).order_by(Ticket.id)).all())


def test_how_to_question_is_answered_with_related_articles_and_handoff_buttons(engine, settings, tmp_path):
    seed_company(engine)
    ctx = make_ctx(engine, company_settings(settings), kb_dir=tmp_path / "kb")
    me = user(ACCOUNTANT, "李会计")

    async def scenario():
        async with local_chat(ctx) as chat:
            r = await chat.say(me, "怎么开红字发票")
            assert len(r) == 1
            answer = r[0]
            assert answer.body.startswith(f"📖 {KB.get('red-invoice').title}\n")
            data = [d for _, d in answer.buttons]
            related = [d for d in data if d.startswith("kb:art:") and d != "kb:art:red-invoice"]
            assert len(related) == 2 and "kb:art:red-confirm-form" in related
            assert any(d.startswith("kb:human:") for d in data)

            # a related article replaces the answer in place; the tap is answered
            answered_before = len(chat.api.answered)
            r = await chat.press(me, answer, "kb:art:red-confirm-form")
            assert len(chat.api.answered) == answered_before + 1
            assert [m.message_id for m in r] == [answer.message_id] and answer.edits == 1
            assert answer.body.startswith(f"📖 {KB.get('red-confirm-form').title}\n")
            data = [d for _, d in answer.buttons]
            assert "kb:art:red-invoice" in data and "kb:art:red-confirm-form" not in data
            assert any(d.startswith("kb:human:") for d in data)

            r = await chat.say(me, "/ask 凭证录错了怎么冲销")
            assert len(r) == 1 and r[0].body.startswith(f"📖 {KB.get('voucher-correction').title}\n")
            r = await chat.say(me, "/ask")
            assert "用法：/ask 问题" in r[0].body and "数电票" in r[0].body
            r = await chat.say(me, "/help")
            assert "知识库话题" in r[0].body and "/ask" in r[0].body

            # a greeting gets a hello and what to ask, not a search
            for hello in ("你好", "在吗？", "早上好呀 账房"):
                r = await chat.say(me, hello)
                assert len(r) == 1 and r[0].body.startswith("👋 您好，我是账房") and r[0].buttons == []
            # no good match: no guess, only 转人工
            r = await chat.say(me, "那个东西弄好没有")
            assert len(r) == 1 and "没有找到可靠的答案" in r[0].body and "📖" not in r[0].body
            assert [label for label, _ in r[0].buttons] == ["🙋 转人工"]
            # a kind of question the base does not answer: declined, with where to ask instead
            for question, where in (("今天天气怎么样", "/help"), ("这个月工资几号发", "人事")):
                r = await chat.say(me, question)
                assert len(r) == 1 and "不在我的知识库范围" in r[0].body, question
                assert where in r[0].body and "📖" not in r[0].body
                assert [label for label, _ in r[0].buttons] == ["🙋 转人工"]
            # the stock/receivable router still answers its own questions first
            r = await chat.say(me, "华为欠多少")
            assert "应收余额" in r[-1].body and "📖" not in r[-1].body

    run(scenario())
    assert _tickets(engine) == []


def test_unanswerable_question_goes_to_admins_and_the_reply_comes_back_and_is_saved(
    engine, settings, tmp_path
):
    seed_company(engine)
    with transaction(engine) as s:
        add_staff(s, telegram_id=ADMIN2, name="周管理", role="admin")
    kb_dir = tmp_path / "kb"
    ctx = make_ctx(engine, company_settings(settings), kb_dir=kb_dir)
    asker, admin, admin2 = user(SALES, "钱销售"), user(ADMIN, "王管理"), user(ADMIN2, "周管理")
    question = "打印机卡纸了怎么弄"
    extra = "打印机型号是 HP M227 的话，卡纸灯灭了才算取干净。"
    answer_text = "先关机，打开前盖把卡住的纸顺着出纸方向抽出来，再开机；还不行打行政电话 8001 报修。"

    async def scenario():
        async with local_chat(ctx) as chat:
            r = await chat.say(asker, question)
            offer = r[0]
            assert "不在我的知识库范围" in offer.body and "网管" in offer.body  # out of scope: says so
            human = offer.button("转人工")
            await chat.press(asker, offer, "转人工")
            assert "已转人工（工单 #1）" in offer.body and offer.buttons == []  # cannot be pressed twice
            to_admin = await chat.api.wait_for("工单 #1", chat_id=ADMIN)
            to_admin2 = await chat.api.wait_for("工单 #1", chat_id=ADMIN2)
            assert "钱销售（销售）问" in to_admin.body and question in to_admin.body
            # the same tap delivered again (a double tap, a replay) opens no second ticket
            mark = chat.api.mark()
            await chat._processed(
                await chat.api.push_callback(asker, offer.message_id, human), mark, SALES, 15
            )
            assert len(_tickets(engine)) == 1
            assert sum("工单 #" in e.message.body for e in chat.api.events if e.message.chat_id == ADMIN) == 1

            # the asker cannot list tickets; the admin can
            r = await chat.say(asker, "/tickets")
            assert "PERMISSION_DENIED" in r[0].body
            r = await chat.say(admin, "/tickets")
            assert "#1 钱销售" in r[0].body and question in r[0].body

            # the admin replies to the forwarded message in Telegram
            r = await reply_to(chat, admin, to_admin, answer_text)
            confirm = r[-1]
            assert "已把您的回复发给钱销售" in confirm.body
            delivered = await chat.api.wait_for("有回复了", chat_id=SALES)
            assert question in delivered.body and "王管理：" + answer_text in delivered.body
            # the other admin's copy says it is answered
            assert "王管理 已回复" in to_admin2.body
            r = await chat.say(admin, "/tickets")
            assert "没有待回复的问题" in r[0].body
            # the other admin adds something: it reaches the asker too and joins the answer
            mark = chat.api.mark()
            await reply_to(chat, admin2, to_admin2, extra)
            more = await chat.api.wait_for("有回复了", chat_id=SALES, after=mark)
            assert "周管理：" + extra in more.body

            # only an admin or manager may save it; then one tap makes it an article
            await chat.api.push_callback(asker, confirm.message_id, confirm.button("存为知识库文章"))
            await chat.press(admin, confirm, "存为知识库文章")
            assert "已存为知识库文章「打印机卡纸了怎么弄」" in confirm.body and confirm.buttons == []
            saved = list(kb_dir.glob("*.md"))
            assert len(saved) == 1
            assert f"{answer_text}\n\n{extra}" in saved[0].read_text(encoding="utf-8")
            # the base answers it now, without a restart
            r = await chat.say(user(WAREHOUSE), "打印机卡纸怎么办")
            assert r[0].body.startswith("📖 打印机卡纸了怎么弄") and "抽出来" in r[0].body
            # a second save tap writes nothing more
            await chat.api.push_callback(admin, confirm.message_id, "kb:save:1")
            await chat.api.wait_for("已存为知识库文章：/kb_faq", chat_id=ADMIN)
            assert len(list(kb_dir.glob("*.md"))) == 1
            # a fresh load (as after a restart) reads the saved article from kb_dir
            ctx.extras.pop("knowledge_base")
            r = await chat.say(user(ACCOUNTANT), "打印机卡纸了怎么弄")
            assert r[0].body.startswith("📖 打印机卡纸了怎么弄")

    run(scenario())
    [ticket] = _tickets(engine)
    assert ticket.status == "answered" and ticket.answer == f"{answer_text}\n\n{extra}"
    assert ticket.article_slug and ticket.article_slug.startswith("faq-")


def test_handoff_by_text_to_a_support_group_and_ordinary_replies_still_work(engine, settings, tmp_path):
    seed_company(engine)
    bot_settings = company_settings(settings).model_copy(update={"support_chat_id": SUPPORT_GROUP_CHAT})
    ctx = make_ctx(engine, bot_settings, kb_dir=tmp_path / "kb")
    asker, manager = user(WAREHOUSE, "赵仓管"), user(1003, "张经理")

    async def scenario():
        async with local_chat(ctx) as chat:
            r = await chat.say(asker, "转人工")
            assert "请把问题一起发给我" in r[0].body
            await chat.say(asker, "wifi密码是多少")
            r = await chat.say(asker, "转人工")  # refers to the question just asked
            assert "wifi密码是多少" in r[0].body and "工单 #1" in r[0].body
            posted = await chat.api.wait_for("工单 #1", chat_id=SUPPORT_GROUP_CHAT)
            assert not any("工单 #1" in e.message.body for e in chat.api.events if e.message.chat_id == ADMIN)
            await reply_to(
                chat, manager, posted, "访客网络 zf-guest，密码贴在前台。", group=SUPPORT_GROUP_CHAT
            )
            delivered = await chat.api.wait_for("有回复了", chat_id=WAREHOUSE)
            assert "张经理：访客网络 zf-guest" in delivered.body
            # a manager not in the group takes a ticket from /tickets and answers it in private
            r = await chat.say(asker, "转人工：报销单在哪里领")
            assert "工单 #2" in r[0].body
            listing = (await chat.say(manager, "/tickets"))[0]
            assert "#2 赵仓管" in listing.body and "报销单在哪里领" in listing.body
            r = await chat.press(manager, listing, "回复 #2")
            assert "工单 #2" in r[-1].body and r[-1].chat_id == 1003
            await reply_to(chat, manager, r[-1], "财务室门口的架子上。")
            await chat.api.wait_for("张经理：财务室门口的架子上。", chat_id=WAREHOUSE)
            # a reply to any other bot message is an ordinary message for the text router
            stock = (await chat.say(asker, "库存 A001"))[-1]
            r = await reply_to(chat, asker, stock, "库存 T-RED-M")
            assert "12件" in r[-1].body

    run(scenario())
    first, second = _tickets(engine)
    assert first.question == "wifi密码是多少" and second.question == "报销单在哪里领"
    assert first.status == second.status == "answered"


def test_refusal_carries_its_code_explanation_and_article(engine, settings, tmp_path):
    seed_company(engine)
    ctx = make_ctx(engine, company_settings(settings), kb_dir=tmp_path / "kb")
    me = user(WAREHOUSE, "赵仓管")

    async def scenario():
        async with local_chat(ctx) as chat:
            r = await chat.say(me, "华为欠多少")
            refusal = r[-1].body
            assert "没有权限" in refusal and "（PERMISSION_DENIED）" in refusal
            assert "请联系管理员分配角色" in refusal  # what to do next
            assert "📖 相关说明：" in refusal and "/kb_permission_denied" in refusal
            r = await chat.say(me, "/kb_permission_denied")
            assert r[0].body.startswith(f"📖 {KB.get('permission-denied').title}\n")
            r = await chat.say(me, "/kb_no_such_article")
            assert "没有这篇文章" in r[0].body

    run(scenario())


def test_stranger_cannot_reach_the_support_flow(engine, settings, tmp_path):
    seed_company(engine)
    ctx = make_ctx(engine, company_settings(settings), kb_dir=tmp_path / "kb")
    stranger, staff = user(STRANGER, "陌生人"), user(ACCOUNTANT, "李会计")

    async def scenario():
        async with local_chat(ctx) as chat:
            offer = (await chat.say(staff, "打印机卡纸了怎么弄"))[0]
            for text in (
                "怎么开红字发票",
                "/ask 红字发票",
                "转人工 帮我查一下",
                "/tickets",
                "/kb_red_invoice",
            ):
                r = await chat.say(stranger, text)
                assert len(r) == 1 and "未授权" in r[0].body, text
                assert "📖" not in r[0].body and "工单" not in r[0].body
            # nor by a button of someone else's answer
            mark = chat.api.mark()
            update_id = await chat.api.push_callback(stranger, offer.message_id, offer.button("转人工"))
            await chat._processed(update_id, mark, STRANGER, 15)
            assert offer.edits == 0

    run(scenario())
    assert _tickets(engine) == []


def test_a_feature_that_failed_is_not_answered_again_by_the_knowledge_base(
    engine, settings, tmp_path, monkeypatch
):
    import handlers.stock

    def broken(session, query):
        raise RuntimeError("database exploded")

    monkeypatch.setattr(handlers.stock, "stock_answer", broken)
    seed_company(engine)
    ctx = make_ctx(engine, company_settings(settings), kb_dir=tmp_path / "kb")
    me = user(ACCOUNTANT, "李会计")

    async def scenario():
        async with local_chat(ctx) as chat:
            r = await chat.say(me, "库存 A001")
            assert len(r) == 1 and "出错了" in r[0].body
            # a reply to a knowledge-base answer is a new question, not swallowed as a ticket reply
            answer = (await chat.say(me, "怎么开红字发票"))[0]
            r = await reply_to(chat, me, answer, "月末结账要做什么")
            assert len(r) == 1 and r[0].body.startswith("📖 ") and "结账" in r[0].body.splitlines()[0]

    run(scenario())


def test_handoff_with_no_admin_to_receive_it_is_kept_for_tickets(engine, settings, tmp_path):
    seed_company(engine)
    with transaction(engine) as s:
        deactivate(s, ADMIN)
    ctx = make_ctx(engine, company_settings(settings), kb_dir=tmp_path / "kb")

    async def scenario():
        async with local_chat(ctx) as chat:
            r = await chat.say(user(SALES, "钱销售"), "转人工 样品能不能开票")
            assert "问题已记录（工单 #1）" in r[0].body and "没有能接收的管理员" in r[0].body
            r = await chat.say(user(1003, "张经理"), "/tickets")
            assert "#1 钱销售" in r[0].body

    run(scenario())
