"""Support: how-to questions answered from the knowledge base, and 转人工 to a person.

- Free text nobody else understood (``SUPPORT_GROUP``) and ``/ask 问题`` go to the knowledge
  base: the best article (title and a short body), up to two related articles as buttons
  (``kb:art:<slug>``) and 🙋 转人工 (``kb:human:<question id>``). A question that matches
  nothing well is not answered with a guess: the reply says so and offers 转人工.
- 转人工 (the button, or the text "转人工") opens a ``Ticket`` and sends it to every active
  admin, or to ``settings.support_chat_id`` when set. An admin *replies* to that message in
  Telegram; each such bot message is a ``TicketMessage``, so the reply finds its ticket and
  the answer goes back to the asker. Under the confirmation the admin gets one tap
  📚 存为知识库文章 (``kb:save:<ticket>``), which writes the question and answer as a new
  article and re-indexes the base at once.
- ``/tickets`` (admins, managers) lists open tickets; ``/kb_<slug>`` shows one article (the
  link every refusal carries, see ``handlers.common.explain``).

The asked question lives in a ``pending_action`` row (kind ``kbq``): buttons carry its id,
so they work after a restart and a second tap opens no second ticket.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from pathlib import Path

from sqlmodel import select
from telegram import Message, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.context import AppContext
from bot.knowledge import ARTICLES_DIR, Article, ArticleError, KnowledgeBase
from erp import tickets
from erp.db import transaction
from erp.errors import ErpError
from erp.models import PendingAction, Staff, Ticket
from erp.staff import ROLES, active_staff, can
from handlers.common import (
    AUTH_GROUP,
    COMMAND_GROUP,
    MAX_TEXT,
    SUPPORT_GROUP,
    Buttons,
    app_context,
    article_command,
    detached,
    edit,
    final,
    keyboard,
    parse_callback,
    reply,
    reply_error,
    staff_of,
)
from handlers.intents import is_greeting
from values import clock

log = logging.getLogger(__name__)

PREFIX = "kb"
QUESTION_KIND = "kbq"  # pending_action kind: a question the knowledge base was asked
KB_KEY = "knowledge_base"  # AppContext.extras: the KnowledgeBase this bot answers from
KB_DIR_KEY = "kb_dir"  # AppContext.extras: where saved answers are written (tests: tmp_path)
SAVED_TOPIC = "员工补充"
SHORT_BODY = 300  # characters of the best article in an answer
ARTICLE_BODY = 1500  # characters when an article is opened
LAST_QUESTION_WINDOW = dt.timedelta(hours=2)  # "转人工" alone refers to a question this recent
TICKET_ROLES = ("admin", "manager")
MAX_BUTTON_LABEL = 30
MAX_CALLBACK = 64

HUMAN_TEXT = re.compile(r"^\s*(?:转人工|人工客服|找人工)\s*[:：,，。!！]?\s*(?P<question>.*)$", re.S)
ARTICLE_COMMAND = re.compile(r"^/kb_(?P<slug>[a-z0-9_]+)(?:@\w+)?\s*$")

# --- texts ----------------------------------------------------------------------

ASK_USAGE = (
    "❓ 用法：/ask 问题，例如\n"
    "/ask 怎么开红字发票\n"
    "/ask 凭证录错了怎么冲销\n\n"
    "也可以直接打字提问。知识库话题：{topics}。\n"
    "答不上来的问题可以点「🙋 转人工」，管理员会回复您。"
)
NO_ANSWER = (
    "🤔 我没看懂「{question}」，知识库里也没有找到可靠的答案（我不乱猜）。\n\n"
    "您可以换个说法再问，例如「怎么开红字发票」「月末结账要做什么」；"
    "查数据可以问「库存 A001」「华为欠多少」「收到华为 5000」；发送 /help 查看全部用法。\n\n"
    "需要的话点「🙋 转人工」，把问题交给管理员回答。"
)
GREETING_REPLY = (
    "👋 您好，我是账房。把发票发给我记账；问「库存 A001」「华为欠多少」；"
    "或者直接问记账、发票、报税的问题，例如「怎么开红字发票」。发送 /help 查看全部用法。"
)
DECLINED = "🙅 「{question}」不在我的知识库范围（我不乱猜）。\n\n{pointer}"
HANDED_OFF = "🙋 已转人工（工单 #{id}）。管理员回复后，我会把答案发给您。"
NOBODY_TO_ASK = "⚠️ 问题已记录（工单 #{id}），但现在没有能接收的管理员账号。请直接联系公司管理员；管理员可用 /tickets 查看。"
HUMAN_USAGE = "请把问题一起发给我，例如：转人工 发票抬头开错了怎么办"
FORWARD = (
    "🙋 工单 #{id}：{asker}（{role}）问：\n\n{question}\n\n↩️ 直接「回复」这条消息作答，答案会转给{asker}。"
)
DELIVERED = "💬 您的问题（工单 #{id}）有回复了：\n「{question}」\n\n{answerer}：{answer}"
ANSWERED_BY_OTHER = "\n\n✅ {answerer} 已回复：{answer}"


# --- the knowledge base this bot answers from --------------------------------------


def saved_articles_dir(ctx: AppContext) -> Path:
    """Where 📚 存为知识库文章 writes: ``extras["kb_dir"]``, a ``kb_dir`` setting, or storage/knowledge."""
    configured = ctx.extras.get(KB_DIR_KEY) or getattr(ctx.settings, "kb_dir", None)
    return Path(configured) if configured else Path(ctx.settings.storage_dir) / "knowledge"


def load_knowledge(saved_dir: Path) -> KnowledgeBase:
    """The product's articles plus the answers staff saved; new articles go to ``saved_dir``."""
    return KnowledgeBase.from_dirs([ARTICLES_DIR, saved_dir], write_dir=saved_dir)


def knowledge_base(context: ContextTypes.DEFAULT_TYPE | AppContext) -> KnowledgeBase:
    ctx = context if isinstance(context, AppContext) else app_context(context)
    kb = ctx.extras.get(KB_KEY)
    if kb is None:
        kb = ctx.extras[KB_KEY] = load_knowledge(saved_articles_dir(ctx))
    return kb


def topics_line(kb: KnowledgeBase) -> str:
    return "、".join(topic for topic, _ in kb.topics())


# --- rendering -----------------------------------------------------------------------


def _label(prefix: str, title: str) -> str:
    text = f"{prefix}{title}"
    return text if len(text) <= MAX_BUTTON_LABEL else text[: MAX_BUTTON_LABEL - 1] + "…"


def _article_button(art: Article, prefix: str = "📘 ") -> tuple[str, str] | None:
    data = f"{PREFIX}:art:{art.slug}"
    return (_label(prefix, art.title), data) if len(data.encode()) <= MAX_CALLBACK else None


def answer_view(best: Article, others: list[Article], question_id: int) -> tuple[str, Buttons]:
    summary = best.summary(SHORT_BODY)
    text = f"📖 {best.title}\n\n{summary}"
    rows: list[list[tuple[str, str]]] = []
    if len(summary) < len(best.summary(ARTICLE_BODY)):
        full = _article_button(best, "📄 看全文：")
        if full:
            rows.append([full])
    rows += [[b] for b in (_article_button(o) for o in others) if b]
    rows.append([("🙋 转人工", f"{PREFIX}:human:{question_id}")])
    return text, rows


def article_view(art: Article, others: list[Article], question_id: int | None) -> tuple[str, Buttons]:
    text = f"📖 {art.title}\n\n{art.summary(ARTICLE_BODY)}"
    rows: list[list[tuple[str, str]]] = [[b] for b in (_article_button(o) for o in others) if b]
    if question_id is not None:
        rows.append([("🙋 转人工", f"{PREFIX}:human:{question_id}")])
    else:
        text += "\n\n还有疑问？直接打字提问，或发送「转人工 问题」。"
    return text, rows


def forward_text(ticket: Ticket, asker: Staff) -> str:
    return FORWARD.format(
        id=ticket.id, asker=asker.name, role=ROLES.get(asker.role, asker.role), question=ticket.question
    )


def _short(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- asking ------------------------------------------------------------------------


def remember_question(ctx: AppContext, chat_id: int, staff: Staff, question: str, slugs: list[str]) -> int:
    with transaction(ctx.engine) as s:
        action = PendingAction(
            kind=QUESTION_KIND,
            chat_id=chat_id,
            staff_id=staff.id,
            payload=json.dumps({"question": question, "slugs": slugs}, ensure_ascii=False),
        )
        s.add(action)
        s.flush()
        return action.id


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    staff = staff_of(context, update)
    if staff is None:  # the auth gate lets only staff this far; belt and braces
        return
    if not can(staff, "support"):
        await reply_error(update, context, ErpError("PERMISSION_DENIED", action="提问", roles="员工"))
        return
    question = question.strip()[: tickets.MAX_QUESTION]
    ans = knowledge_base(context).answer(question)
    chat_id = update.effective_chat.id
    if ans.best is None:
        qid = remember_question(app_context(context), chat_id, staff, question, [])
        if ans.declined is not None:  # recognisably out of scope: say where to ask instead
            text = DECLINED.format(question=_short(question, 50), pointer=ans.declined.summary(SHORT_BODY))
        else:
            text = NO_ANSWER.format(question=_short(question, 50))
        await reply(update, context, text, [[("🙋 转人工", f"{PREFIX}:human:{qid}")]])
        return
    slugs = [ans.best.slug, *(o.slug for o in ans.others)]
    qid = remember_question(app_context(context), chat_id, staff, question, slugs)
    text, buttons = answer_view(ans.best, ans.others, qid)
    await reply(update, context, text, buttons)


def taken_earlier(application: Application, update: Update) -> bool:
    """Did a feature before the support group take this text (and perhaps fail with an error)?

    PTB goes on to later groups after a handler raises; the error handler has already told
    the user, so the knowledge base must not answer "库存 A001" as well.
    """
    for group, handlers in application.handlers.items():
        if AUTH_GROUP < group < SUPPORT_GROUP:
            for handler in handlers:
                if getattr(handler, "callback", None) is admin_reply:
                    continue  # it matches every reply and passes on those that answer no ticket
                if handler.check_update(update) not in (None, False):
                    return True
    return False


@final
async def free_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text no feature understood: the knowledge base answers it (or says it cannot)."""
    if taken_earlier(context.application, update):
        return
    if is_greeting(update.effective_message.text):
        await reply(update, context, GREETING_REPLY)
        return
    await answer_question(update, context, update.effective_message.text)


@final
async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    question = " ".join(context.args or [])
    if not question.strip():
        await reply(update, context, ASK_USAGE.format(topics=topics_line(knowledge_base(context))))
        return
    await answer_question(update, context, question)


@final
async def article_command_handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/kb_<slug>: one article (refusals link their article this way)."""
    match = ARTICLE_COMMAND.match(update.effective_message.text or "")
    art = knowledge_base(context).get(match["slug"].replace("_", "-")) if match else None
    if art is None:
        await reply(update, context, "没有这篇文章。直接打字提问，或发送 /ask 查看用法。")
        return
    text, buttons = article_view(art, [], None)
    await reply(update, context, text, buttons)


def _question_id_of(message: Message | None) -> int | None:
    """The question id a bot message's 转人工 button carries (article buttons carry only a slug)."""
    markup = message.reply_markup if message is not None else None
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            parts = (
                parse_callback(button.callback_data, PREFIX)
                if isinstance(button.callback_data, str)
                else None
            )
            if parts and parts[0] == "human" and len(parts) == 2 and parts[1].isdigit():
                return int(parts[1])
    return None


def _load_question(ctx: AppContext, question_id: int) -> tuple[PendingAction | None, dict]:
    with detached(ctx.engine) as s:
        action = s.get(PendingAction, question_id)
    if action is None or action.kind != QUESTION_KIND:
        return None, {}
    return action, json.loads(action.payload)


async def article_button(update: Update, context: ContextTypes.DEFAULT_TYPE, slug: str) -> None:
    query = update.callback_query
    kb = knowledge_base(context)
    art = kb.get(slug)
    if art is None:
        await query.answer("这篇文章已不存在，请重新提问", show_alert=True)
        return
    question_id = _question_id_of(query.message)
    others: list[Article] = []
    if question_id is not None:
        _, payload = _load_question(app_context(context), question_id)
        others = [a for a in (kb.get(s) for s in payload.get("slugs", [])) if a is not None and a != art]
    await query.answer()
    text, buttons = article_view(art, others, question_id)
    await edit(query, text, buttons)


# --- 转人工 ---------------------------------------------------------------------------


async def send_to_helpers(context: ContextTypes.DEFAULT_TYPE, ticket: Ticket, asker: Staff) -> int:
    """Send the ticket to the support chat or every active admin; how many received it."""
    ctx = app_context(context)
    if ctx.settings.support_chat_id:
        targets = [ctx.settings.support_chat_id]
    else:
        with detached(ctx.engine) as s:
            targets = [a.telegram_id for a in active_staff(s, "admin")]
        if len(targets) > 1 and asker.telegram_id in targets:
            targets.remove(asker.telegram_id)  # another admin answers an admin's question
    text = forward_text(ticket, asker)[:MAX_TEXT]
    delivered = 0
    for chat_id in targets:
        try:
            sent = await context.bot.send_message(chat_id, text)
        except (Forbidden, BadRequest) as exc:
            log.warning("ticket #%s not delivered to %s: %s", ticket.id, chat_id, exc)
            continue
        with transaction(ctx.engine) as s:
            tickets.record_forward(s, ticket_id=ticket.id, chat_id=chat_id, message_id=sent.message_id)
        delivered += 1
    return delivered


async def hand_off(context: ContextTypes.DEFAULT_TYPE, asker: Staff, chat_id: int, question: str) -> str:
    """Open (or find) the ticket, send it to the helpers; the text to tell the asker."""
    ctx = app_context(context)
    with transaction(ctx.engine) as s:
        ticket = tickets.open_ticket(s, asker=asker, chat_id=chat_id, question=question)
        already_sent = bool(tickets.forwards_of(s, ticket.id))
    if already_sent:
        return HANDED_OFF.format(id=ticket.id)
    delivered = await send_to_helpers(context, ticket, asker)
    return (HANDED_OFF if delivered else NOBODY_TO_ASK).format(id=ticket.id)


async def human_button(update: Update, context: ContextTypes.DEFAULT_TYPE, question_id: int) -> None:
    query = update.callback_query
    ctx = app_context(context)
    staff = staff_of(context, update)
    action, payload = _load_question(ctx, question_id)
    if action is None or staff is None:
        await query.answer("这个按钮已失效，请重新提问", show_alert=True)
        return
    if action.staff_id != staff.id:
        await query.answer("只有提问的人可以转人工", show_alert=True)
        return
    await query.answer()
    try:
        note = await hand_off(context, staff, action.chat_id or update.effective_chat.id, payload["question"])
    except ErpError as exc:
        await reply_error(update, context, exc)
        return
    with transaction(ctx.engine) as s:
        row = s.get(PendingAction, question_id)
        row.status = "done"
        s.add(row)
    # the keyboard goes: 转人工 cannot be pressed twice, the article stays readable
    await edit(query, f"{query.message.text}\n\n{note}", None)


@final
async def human_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ "转人工" with a question, or alone (then the asker's last question, if recent)."""
    staff = staff_of(context, update)
    if staff is None or taken_earlier(context.application, update):
        return
    match = HUMAN_TEXT.match(update.effective_message.text or "")
    question = (match["question"] if match else "").strip()
    if not question:
        question = last_question(app_context(context), staff) or ""
    if not question:
        await reply(update, context, HUMAN_USAGE)
        return
    try:
        note = await hand_off(context, staff, update.effective_chat.id, question)
    except ErpError as exc:
        await reply_error(update, context, exc)
        return
    await reply(update, context, f"「{_short(question, 80)}」\n{note}")


def last_question(ctx: AppContext, staff: Staff) -> str | None:
    since = clock.now() - LAST_QUESTION_WINDOW
    with detached(ctx.engine) as s:
        action = s.exec(
            select(PendingAction)
            .where(
                PendingAction.kind == QUESTION_KIND,
                PendingAction.staff_id == staff.id,
                PendingAction.created_at >= since,
            )
            .order_by(PendingAction.id.desc())  # type: ignore[union-attr]
        ).first()
    return json.loads(action.payload)["question"] if action is not None else None


# --- the admin's side -------------------------------------------------------------------


async def admin_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply to a forwarded ticket is its answer; any other reply passes on to the text router."""
    message = update.effective_message
    target = message.reply_to_message
    if target is None or (target.from_user is not None and target.from_user.id != context.bot.id):
        return
    ctx = app_context(context)
    with detached(ctx.engine) as s:
        ticket = tickets.ticket_for_message(s, chat_id=message.chat_id, message_id=target.message_id)
    if ticket is None:
        return
    answerer = staff_of(context, update)
    if answerer is None:
        raise ApplicationHandlerStop
    try:
        with transaction(ctx.engine) as s:
            ticket = tickets.answer_ticket(s, ticket_id=ticket.id, answerer=answerer, answer=message.text)
            asker = s.get(Staff, ticket.asker_id)
            forwards = tickets.forwards_of(s, ticket.id)
    except ErpError as exc:
        await reply_error(update, context, exc)
        raise ApplicationHandlerStop from exc
    delivered_text = DELIVERED.format(
        id=ticket.id,
        question=_short(ticket.question, 200),
        answerer=answerer.name,
        answer=message.text.strip(),
    )
    try:
        await context.bot.send_message(ticket.chat_id, delivered_text[:MAX_TEXT])
        confirm = f"✅ 已把您的回复发给{asker.name}（工单 #{ticket.id}）。"
    except (Forbidden, BadRequest) as exc:
        log.warning("answer to ticket #%s not delivered: %s", ticket.id, exc)
        confirm = (
            f"⚠️ 回复已记录，但没能发给{asker.name}（对方可能停用了机器人），请直接联系。工单 #{ticket.id}"
        )
    buttons = None if ticket.article_slug else [[("📚 存为知识库文章", f"{PREFIX}:save:{ticket.id}")]]
    await context.bot.send_message(
        message.chat_id, confirm, reply_to_message_id=message.message_id, reply_markup=keyboard(buttons)
    )
    # the other admins' copies say it is answered, so nobody answers twice
    others = [f for f in forwards if (f.chat_id, f.message_id) != (message.chat_id, target.message_id)]
    note = ANSWERED_BY_OTHER.format(answerer=answerer.name, answer=_short(message.text, 300))
    for fwd in others:
        try:
            await context.bot.edit_message_text(
                (forward_text(ticket, asker) + note)[:MAX_TEXT],
                chat_id=fwd.chat_id,
                message_id=fwd.message_id,
            )
        except (Forbidden, BadRequest) as exc:
            log.info("could not mark ticket #%s answered in chat %s: %s", ticket.id, fwd.chat_id, exc)
    raise ApplicationHandlerStop


async def save_button(update: Update, context: ContextTypes.DEFAULT_TYPE, ticket_id: int) -> None:
    query = update.callback_query
    staff = staff_of(context, update)
    if staff is None or staff.role not in TICKET_ROLES:
        await query.answer("只有管理员或经理可以保存知识库文章", show_alert=True)
        return
    ctx = app_context(context)
    kb = knowledge_base(ctx)
    saved_before: str | None = None
    try:
        # One transaction around the file write: a second tap waits, then sees the slug.
        # Nothing is awaited inside: holding the SQLite write lock across an await would
        # stall every other handler's transaction on this event loop.
        with transaction(ctx.engine) as s:
            ticket = tickets.get_ticket(s, ticket_id)
            saved_before = ticket.article_slug
            if saved_before is None:
                title, body = tickets.article_draft(ticket)
                art = kb.add_article(title, body, topic=SAVED_TOPIC)
                tickets.mark_saved(s, ticket_id=ticket.id, slug=art.slug)
    except (ErpError, ArticleError) as exc:
        await query.answer("没有保存")
        why = exc.message() if isinstance(exc, ErpError) else str(exc)
        await edit(query, f"{query.message.text}\n\n⚠️ 没能保存为文章：{why}")
        return
    if saved_before is not None:
        await query.answer("已经保存过了")
        await edit(query, f"{query.message.text}\n\n📚 已存为知识库文章：{article_command(saved_before)}")
        return
    await query.answer("已保存")
    await edit(
        query,
        f"{query.message.text}\n\n📚 已存为知识库文章「{art.title}」，同样的问题以后由机器人直接回答。"
        f"查看：{article_command(art.slug)}",
    )


async def resend_button(update: Update, context: ContextTypes.DEFAULT_TYPE, ticket_id: int) -> None:
    """↩️ 回复 #n under /tickets: the ticket again, as a message this admin can reply to."""
    query = update.callback_query
    staff = staff_of(context, update)
    if staff is None or staff.role not in TICKET_ROLES:
        await query.answer("只有管理员或经理可以回复工单", show_alert=True)
        return
    ctx = app_context(context)
    with detached(ctx.engine) as s:
        ticket = s.get(Ticket, ticket_id)
        asker = s.get(Staff, ticket.asker_id) if ticket is not None else None
    if ticket is None or asker is None:
        await query.answer("找不到这个工单", show_alert=True)
        return
    if ticket.status != tickets.OPEN:
        await query.answer(f"工单 #{ticket.id} 已经回复过了", show_alert=True)
        return
    await query.answer()
    sent = await context.bot.send_message(update.effective_chat.id, forward_text(ticket, asker)[:MAX_TEXT])
    with transaction(ctx.engine) as s:
        tickets.record_forward(s, ticket_id=ticket.id, chat_id=sent.chat_id, message_id=sent.message_id)


@final
async def support_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """kb:art:<slug>, kb:human:<question>, kb:save:<ticket>, kb:fwd:<ticket>."""
    query = update.callback_query
    parts = parse_callback(query.data, PREFIX) or []
    action, arg = (parts + ["", ""])[:2]
    if action == "art" and arg:
        await article_button(update, context, arg)
    elif action in ("human", "save", "fwd") and arg.isdigit():
        handler = {"human": human_button, "save": save_button, "fwd": resend_button}[action]
        await handler(update, context, int(arg))
    else:
        await query.answer("这个按钮已失效，请重新提问", show_alert=True)


@final
async def tickets_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    staff = staff_of(context, update)
    if staff is None or staff.role not in TICKET_ROLES:
        await reply_error(
            update,
            context,
            ErpError("PERMISSION_DENIED", action="查看工单", roles="/".join(ROLES[r] for r in TICKET_ROLES)),
        )
        return
    ctx = app_context(context)
    now = clock.now()
    with detached(ctx.engine) as s:
        waiting = tickets.open_tickets(s)
        names = {m.id: m.name for m in s.exec(select(Staff)).all()}
    if not waiting:
        await reply(update, context, "✅ 没有待回复的问题。")
        return
    lines = [f"🙋 待回复的问题（{len(waiting)} 个，最早的在前）："]
    for t in waiting:
        hours = tickets.waiting_hours(t, now)
        age = f"{hours // 24} 天" if hours >= 24 else f"{hours} 小时" if hours else "刚刚"
        lines.append(f"#{t.id} {names.get(t.asker_id, '?')}（等了 {age}）：{_short(t.question, 60)}")
    lines.append("\n回复原消息即可作答；没有原消息的点下面的按钮重新接收。")
    buttons = [[(f"↩️ 回复 #{t.id}", f"{PREFIX}:fwd:{t.id}")] for t in waiting[:10]]
    await reply(update, context, "\n".join(lines), buttons)


def register(application: Application) -> None:
    reply_text = filters.REPLY & filters.TEXT & ~filters.COMMAND
    # Before the text router: an admin's answer must not be read as "库存 …" or a question.
    application.add_handler(MessageHandler(reply_text, admin_reply), group=COMMAND_GROUP)
    application.add_handler(CommandHandler("ask", ask_command), group=COMMAND_GROUP)
    application.add_handler(CommandHandler("tickets", tickets_command), group=COMMAND_GROUP)
    application.add_handler(
        MessageHandler(filters.COMMAND & filters.Regex(r"^/kb_[a-z0-9_]+"), article_command_handler),
        group=COMMAND_GROUP,
    )
    application.add_handler(CallbackQueryHandler(support_button, pattern=rf"^{PREFIX}:"), group=COMMAND_GROUP)
    text = filters.TEXT & ~filters.COMMAND
    application.add_handler(MessageHandler(text & filters.Regex(HUMAN_TEXT), human_text), group=SUPPORT_GROUP)
    application.add_handler(MessageHandler(text, free_text), group=SUPPORT_GROUP)


__all__ = ["answer_question", "knowledge_base", "load_knowledge", "register", "saved_articles_dir"]
