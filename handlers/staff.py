"""/staff for admins: list, add, change role, deactivate; and the one-tap "add this stranger" buttons."""

from __future__ import annotations

import json

from sqlmodel import select
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from erp.db import transaction
from erp.errors import ErpError
from erp.models import Staff
from erp.staff import ROLES, add_staff, deactivate, require
from handlers.auth import forget_staff
from handlers.common import (
    COMMAND_GROUP,
    app_context,
    claim,
    detached,
    edit,
    final,
    notify,
    parse_callback,
    pending_action,
    reply,
    reply_error,
    staff_of,
)

USAGE = (
    "员工管理（管理员）：\n"
    "/staff — 员工列表\n"
    "/staff add TelegramID 角色 姓名 — 添加或修改\n"
    "/staff del TelegramID — 停用\n"
    f"角色：{'、'.join(f'{v}({k})' for k, v in ROLES.items())}"
)


def role_code(text: str) -> str:
    """'会计' or 'accountant' -> 'accountant'."""
    t = text.strip().lower()
    if t in ROLES:
        return t
    for code, name in ROLES.items():
        if name == text.strip():
            return code
    raise ErpError("INVALID_INPUT", why=f"角色「{text}」无效，可选：{'、'.join(ROLES.values())}")


def staff_list_text(rows: list[Staff]) -> str:
    lines = ["👥 员工列表："]
    for st in rows:
        state = "" if st.active else "（已停用）"
        lines.append(f"• {st.name} — {ROLES.get(st.role, st.role)} — ID {st.telegram_id}{state}")
    return "\n".join(lines) + "\n\n" + USAGE


@final
async def staff_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_context(context)
    args = context.args or []
    try:
        require(staff_of(context), "manage_staff")
        if not args or args[0] in ("list", "列表"):
            with detached(ctx.engine) as s:
                rows = list(s.exec(select(Staff).order_by(Staff.id)).all())
            await reply(update, context, staff_list_text(rows))
            return
        sub = args[0].lower()
        if sub in ("add", "添加") and len(args) >= 3:
            tid = _telegram_id(args[1])
            role = role_code(args[2])
            name = " ".join(args[3:]) or f"员工{tid}"
            with transaction(ctx.engine) as s:
                st = add_staff(s, telegram_id=tid, name=name, role=role)
            forget_staff(ctx)
            await reply(update, context, f"✅ 已添加/更新：{st.name}（{ROLES[role]}，ID {tid}）")
            await notify(context, tid, f"您已开通账房，角色：{ROLES[role]}。发送 /help 查看用法。")
        elif sub in ("del", "remove", "停用") and len(args) >= 2:
            tid = _telegram_id(args[1])
            if tid == update.effective_user.id:
                raise ErpError("INVALID_INPUT", why="不能停用自己")
            with transaction(ctx.engine) as s:
                st = deactivate(s, tid)
            forget_staff(ctx)
            await reply(update, context, f"已停用：{st.name}（ID {tid}）")
        else:
            await reply(update, context, USAGE)
    except ErpError as exc:
        await reply_error(update, context, exc)


def _telegram_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ErpError("INVALID_INPUT", why=f"Telegram ID 应为数字：{text}") from None


@final
async def join_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """stf:ok:<action>:<role> adds the stranger; stf:no:<action> dismisses the request."""
    query = update.callback_query
    parts = parse_callback(query.data, "stf") or []
    ctx = app_context(context)
    try:
        admin = staff_of(context)
        require(admin, "manage_staff")
        action_id = int(parts[1])
        with transaction(ctx.engine) as s:
            action = pending_action(s, action_id, "join", "申请")
            info = json.loads(action.payload)
            if not claim(s, action, "done" if parts[0] == "ok" else "cancelled", result=admin.name):
                await query.answer("已处理过")
                await edit(query, f"该申请已处理（{action.result or action.status}）")
                return
            if parts[0] == "ok":
                role = role_code(parts[2])
                add_staff(s, telegram_id=info["telegram_id"], name=info.get("name") or "", role=role)
        forget_staff(ctx)
        await query.answer()
        if parts[0] == "ok":
            await edit(query, f"✅ 已添加 {info.get('name')}（ID {info['telegram_id']}）为{ROLES[role]}")
            await notify(
                context, info["telegram_id"], f"您已开通账房，角色：{ROLES[role]}。发送 /help 查看用法。"
            )
        else:
            await edit(query, f"已忽略 {info.get('name')}（ID {info['telegram_id']}）的申请")
    except ErpError as exc:
        await query.answer(exc.message()[:190], show_alert=True)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("staff", staff_command), group=COMMAND_GROUP)
    application.add_handler(CallbackQueryHandler(join_button, pattern=r"^stf:"), group=COMMAND_GROUP)
