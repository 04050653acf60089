"""/start, /help, page buttons of long replies, and the suggestion for anything not understood."""

from __future__ import annotations

import json

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from erp.models import PendingAction
from erp.staff import ROLES
from handlers.common import (
    AUTH_GROUP,
    COMMAND_GROUP,
    FALLBACK_GROUP,
    app_context,
    detached,
    edit,
    final,
    keyboard,
    page_view,
    parse_callback,
    reply,
    staff_of,
)

# (command, description) for the bot's command menu, in menu order
COMMANDS = [
    ("help", "用法和示例"),
    ("stock", "查库存：/stock A001"),
    ("lowstock", "低于最低库存的商品"),
    ("count", "盘点调整：/count A001 25 月末盘点"),
    ("ar", "应收账款：/ar 或 /ar 华为"),
    ("aging", "账龄图表"),
    ("receive", "登记收款：/receive 华为 5000"),
    ("voucher", "查看凭证：/voucher 记-202405-0001"),
    ("vouchers", "今天的凭证"),
    ("tb", "本月试算平衡表"),
    ("accounts", "科目表：/accounts 或 /accounts 管理费用"),
    ("ask", "问知识库：/ask 怎么开红字发票"),
    ("tickets", "待回复的问题（管理员/经理）"),
    ("remind", "我的提醒：开关和时间"),
    ("staff", "员工管理（管理员）"),
    ("cancel", "取消当前操作"),
]

HELP = """👋 我是账房，公司的记账助手。直接用中文问我就行：

🧾 发票入账：直接发送发票 PDF、OFD、XML 或照片（以「文件」方式发送照片识别更准）。我会识别发票、生成凭证，您点 ✅ 确认入账 即可；金额较大的会提交经理审批。
📦 库存：「库存 A001」「A001还有多少」「红色T恤M码库存」，/lowstock 查看需要补货的商品，/count 登记盘点结果。
💰 应收：「华为欠多少」「应收账款」「账龄」「平均回款周期」，/aging 发送账龄图表。
💵 收款：「收到华为 5000」或 /receive，确认后自动生成收款凭证。
📒 凭证：/voucher 凭证号，/vouchers 今天的凭证，/tb 本月试算平衡表。
❓ 操作和财税问题：直接打字问或 /ask 问题，答不上来可以「转人工」。知识库话题：{topics}。

命令：
{commands}"""


def kb_topics() -> str:
    from bot.knowledge import KnowledgeBase

    return "、".join(topic for topic, _ in KnowledgeBase.load().topics())


def help_text(role: str | None) -> str:
    commands = "\n".join(f"/{c} — {d}" for c, d in COMMANDS)
    text = HELP.format(commands=commands, topics=kb_topics())
    if role:
        text += f"\n\n您的角色：{ROLES.get(role, role)}"
    return text


@final
async def start_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    staff = staff_of(context)
    name = staff.name if staff else ""
    await reply(update, context, f"您好，{name}！\n\n" + help_text(staff.role if staff else None))


@final
async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    staff = staff_of(context)
    await reply(update, context, help_text(staff.role if staff else None))


@final
async def page_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """pg:<action>:<page index>: show another page of a long reply."""
    query = update.callback_query
    parts = parse_callback(query.data, "pg") or []
    with detached(app_context(context).engine) as s:
        action = s.get(PendingAction, int(parts[0]))
    if action is None or action.kind != "pages" or action.chat_id != update.effective_chat.id:
        await query.answer("这条消息已过期，请重新查询", show_alert=True)
        return
    pages = json.loads(action.payload)
    index = max(0, min(int(parts[1]), len(pages) - 1))
    text, nav = page_view(pages, index, action.id)
    await query.answer()
    await edit(query, text, nav)


SUGGESTION = (
    "🤔 我没看懂「{text}」。您可以这样问：\n"
    "• 库存 A001 / 红色T恤M码库存\n"
    "• 华为欠多少 / 应收账款 / 账龄\n"
    "• 收到华为 5000\n"
    "• 直接发送发票 PDF 或照片入账\n"
    "发送 /help 查看全部用法。"
)


def answered_earlier(application: Application, update: Update) -> bool:
    """Did a handler in a group between the gate and this fallback take the update?

    Handlers should stop the update once they answer (``handlers.common.final``); this also
    covers one that does not, so a message is never answered twice.
    """
    for group, handlers in application.handlers.items():
        if AUTH_GROUP < group < FALLBACK_GROUP:
            for handler in handlers:
                if handler.check_update(update) not in (None, False):
                    return True
    return False


@final
async def not_understood(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or answered_earlier(context.application, update):
        return
    if message.text and message.text.startswith("/"):
        await reply(update, context, f"没有这个命令：{message.text.split()[0]}。发送 /help 查看可用命令。")
    elif message.text:
        await reply(update, context, SUGGESTION.format(text=message.text[:50]))
    else:
        await reply(update, context, "这类消息我还处理不了。发票请以文件或照片发送；其他问题请用文字描述。")


@final
async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if answered_earlier(context.application, update):
        return
    await update.callback_query.answer("这个按钮已失效，请重新操作", show_alert=True)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("start", start_command), group=COMMAND_GROUP)
    application.add_handler(CommandHandler("help", help_command), group=COMMAND_GROUP)
    application.add_handler(CallbackQueryHandler(page_button, pattern=r"^pg:"), group=COMMAND_GROUP)
    application.add_handler(MessageHandler(filters.ALL, not_understood), group=FALLBACK_GROUP)
    application.add_handler(CallbackQueryHandler(stale_button), group=FALLBACK_GROUP)


__all__ = ["COMMANDS", "help_text", "keyboard", "register"]
