"""/accounts [关键字]: the chart of accounts, so a refusal that names an account can be checked."""

from __future__ import annotations

from sqlmodel import Session, select
from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from erp.models import Account
from handlers.common import COMMAND_GROUP, app_context, detached, final, reply


def accounts_text(session: Session, query: str = "") -> str:
    """Leaf and parent accounts, indented by level; filtered by code prefix or part of the name."""
    rows = session.exec(select(Account).where(Account.active == True).order_by(Account.code)).all()  # noqa: E712
    if query:
        hits = [a.code for a in rows if a.code.startswith(query) or query in a.name]
        rows = [a for a in rows if any(a.code.startswith(code) for code in hits)]  # with their sub-accounts
    if not rows:
        return f"没有找到与「{query}」相关的科目。发送 /accounts 查看完整科目表。"
    head = f"📚 科目表（小企业会计准则）{'：' + query if query else ''}"
    lines = [head]
    for a in rows:
        mark = "" if a.is_leaf else " ▸"
        aux = "（往来核算）" if a.aux_party else ""
        lines.append(f"{'  ' * (a.level - 1)}{a.code} {a.name}{aux}{mark}")
    lines.append("\n▸ 表示有下级科目：记账请选末级科目。")
    return "\n".join(lines)


@final
async def accounts_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = " ".join(context.args or []).strip()
    with detached(app_context(context).engine) as s:
        text = accounts_text(s, query)
    await reply(update, context, text)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("accounts", accounts_command), group=COMMAND_GROUP)
