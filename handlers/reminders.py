"""/remind and the buttons on reminder messages.

/remind                       my reminders: each kind on/off (tap to switch) and its time
/remind 08:30 [类型]          my time of day, for all my kinds or one
/remind 开|关 类型            switch one kind on or off
/remind 恢复默认 [类型]       back to the company default
admins:
/remind 默认 类型 开|关|08:30 the company default of a kind
/remind 设置 项 值            a company setting (steps 1,7,30; holidays 2024-10-01..2024-10-07; ...)

Buttons on reminders (callback data ``rem:<action>:<id>``): ``fu`` 📞 已跟进 (a
FollowUp note and a snooze), ``sz`` ⏰ 3天后提醒, ``pay`` 💰 已收款 (how to record
the receipt), ``t`` switch a kind in the /remind panel. State lives in the
database; the callback data carries only ids.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from bot.context import app_context
from erp.db import reading, transaction
from erp.errors import ErpError
from erp.models import Party, Staff
from erp.receivables import open_balance
from erp.reminders import (
    KINDS,
    KNOB_DEFAULTS,
    KNOB_NAMES,
    kind_defaults,
    kinds_for,
    load_knobs,
    parse_time,
    prefs_of,
    record_follow_up,
    set_default,
    set_knob,
    set_pref,
)
from erp.staff import active_staff, can
from handlers.common import (
    COMMAND_GROUP,
    edit,
    final,
    notify,
    parse_callback,
    reply,
    reply_error,
    staff_of,
    today,
)
from values import clock
from values.money import fmt

PREFIX = "rem"
LATER_DAYS = 3

# --- texts ---------------------------------------------------------------------

NOT_STAFF = "你还不是本公司员工，无法设置提醒。请联系管理员添加。"
NO_KINDS = "你的岗位没有定时提醒。"
HELP = "点按钮开关提醒。修改时间：/remind 08:30（全部）或 /remind 08:30 逾期应收；恢复默认：/remind 恢复默认"
ADMIN_HELP = (
    "管理员：/remind 默认 逾期应收 开|关|09:00 设公司默认；"
    "/remind 设置 holidays 2024-10-01..2024-10-07 设节假日（项：{knobs}）"
)
DENIED = "这个客户不归你跟进。"
GONE = "找不到这个客户，可能已被删除。"

ON_WORDS = {"开", "开启", "打开", "on", "启用"}
OFF_WORDS = {"关", "关闭", "off", "停用", "不要"}
RESET_WORDS = {"恢复默认", "默认值", "reset"}
DEFAULT_WORDS = {"默认", "default"}
SET_WORDS = {"设置", "set"}


def kind_from(text: str) -> str | None:
    t = text.strip()
    if t in KINDS:
        return t
    for code, info in KINDS.items():
        if t == info.name or (len(t) >= 2 and t in info.name):
            return code
    return None


def panel(session: Session, staff: Staff) -> tuple[str, list[list[tuple[str, str]]]]:
    """The /remind text and one toggle button per kind."""
    knobs = load_knobs(session)
    prefs = prefs_of(session, staff, defaults=kind_defaults(session, knobs))
    if not prefs:
        return NO_KINDS, []
    lines = [f"⏰ {staff.name} 的提醒（工作日，北京时间）："]
    buttons = []
    for kind, p in prefs.items():
        state = "开" if p.enabled else "关"
        own = "（个人设置）" if p.personal else "（默认）"
        lines.append(f"{'✅' if p.enabled else '🚫'} {KINDS[kind].name} {p.time:%H:%M} {state}{own}")
        lines.append(f"    {KINDS[kind].about}")
        label = f"{'🚫 关闭' if p.enabled else '✅ 开启'} {KINDS[kind].name}"
        buttons.append([(label, f"{PREFIX}:t:{kind}")])
    lines.append(HELP)
    if staff.role == "admin":
        lines.append(ADMIN_HELP.format(knobs=", ".join(KNOB_DEFAULTS)))
    return "\n".join(lines), buttons


def apply_command(session: Session, staff: Staff, args: list[str]) -> str:
    """The text form of /remind; returns the reply. Raises ErpError on bad input."""
    if not args:
        raise ErpError("INVALID_INPUT", why="缺少参数")
    head, rest = args[0], args[1:]
    mine = kinds_for(staff)
    if head in DEFAULT_WORDS | SET_WORDS:
        if staff.role != "admin":
            raise ErpError("PERMISSION_DENIED", action="修改公司提醒设置", roles="管理员")
        if head in SET_WORDS:
            if len(rest) < 2:
                raise ErpError(
                    "INVALID_INPUT", why="用法：/remind 设置 项 值，例如 /remind 设置 steps 1,7,30"
                )
            key, value = rest[0], " ".join(rest[1:])
            set_knob(session, key, value, actor_id=staff.id)
            return f"已设置 {KNOB_NAMES.get(key, key)}：{value}"
        if len(rest) != 2 or kind_from(rest[0]) is None:
            raise ErpError("INVALID_INPUT", why="用法：/remind 默认 逾期应收 开|关|09:00")
        kind, value = kind_from(rest[0]), rest[1]
        if value in ON_WORDS | OFF_WORDS:
            set_default(session, kind, enabled=value in ON_WORDS, actor_id=staff.id)
        else:
            set_default(session, kind, time=value, actor_id=staff.id)
        return f"公司默认已更新：{KINDS[kind].name} {value}"
    if head in RESET_WORDS:
        kinds = [kind_from(rest[0])] if rest else mine
        if None in kinds:
            raise ErpError("INVALID_INPUT", why=f"不认识的提醒类型：{rest[0]}")
        for kind in kinds:
            set_pref(session, staff.id, kind, reset=True)
        return "已恢复默认设置。"
    if head in ON_WORDS | OFF_WORDS:
        kind = kind_from(rest[0]) if rest else None
        if kind is None or kind not in mine:
            raise ErpError("INVALID_INPUT", why="用法：/remind 开|关 逾期应收（只能设置你岗位的提醒）")
        set_pref(session, staff.id, kind, enabled=head in ON_WORDS)
        return f"{KINDS[kind].name}：已{'开启' if head in ON_WORDS else '关闭'}"
    # a time, for all my kinds or one
    kinds = mine
    if rest:
        kind = kind_from(rest[0])
        if kind is None or kind not in mine:
            raise ErpError("INVALID_INPUT", why=f"不认识的提醒类型：{rest[0]}")
        kinds = [kind]
    if not kinds:
        return NO_KINDS
    for kind in kinds:
        set_pref(session, staff.id, kind, time=head)
    names = "、".join(KINDS[k].name for k in kinds)
    return f"{names} 的提醒时间改为 {parse_time(head):%H:%M}（工作日）"


def toggle(session: Session, staff: Staff, kind: str) -> bool:
    prefs = prefs_of(session, staff)
    if kind not in prefs:
        raise ErpError("INVALID_INPUT", why="这个提醒不属于你的岗位")
    enabled = not prefs[kind].enabled
    set_pref(session, staff.id, kind, enabled=enabled)
    return enabled


def may_follow(staff: Staff, party: Party) -> bool:
    if can(staff, "view_all_receivables"):
        return True
    return can(staff, "view_receivables") and party.sales_rep_id in (staff.id, None)


def follow_up(
    session: Session, staff: Staff, party_id: int, *, action: str, now: dt.datetime, tz: dt.tzinfo
) -> str:
    """📞 已跟进 (note + snooze for the configured days) or ⏰ 稍后 (snooze 3 days); the line to show."""
    party = session.get(Party, party_id)
    if party is None:
        raise ErpError("NOT_FOUND", what="客户", key=party_id)
    if not may_follow(staff, party):
        raise ErpError("PERMISSION_DENIED", action="跟进这个客户", roles="负责销售/会计/经理")
    today = now.astimezone(tz).date()
    name = party.short_name or party.name
    if action == "fu":
        days = load_knobs(session).snooze_days
        fu = record_follow_up(
            session, party_id=party_id, staff_id=staff.id, today=today, days=days, note="已跟进", now=now
        )
        back = f"，{fu.snooze_until:%m-%d} 起再提醒" if fu.snooze_until else ""
        return f"📞 {name}：{staff.name} {now.astimezone(tz):%m-%d %H:%M} 已跟进{back}"
    fu = record_follow_up(
        session, party_id=party_id, staff_id=staff.id, today=today, days=LATER_DAYS, note="稍后提醒", now=now
    )
    return f"⏰ {name}：{fu.snooze_until:%m-%d} 再提醒"


def receipt_hint(session: Session, party_id: int) -> str:
    party = session.get(Party, party_id)
    if party is None:
        raise ErpError("NOT_FOUND", what="客户", key=party_id)
    name = party.short_name or party.name
    owed = open_balance(session, party_id)
    return (
        f"💰 登记 {name} 的收款：直接发送「收到{name} 金额」，"
        f"例如「收到{name} {fmt(owed)}」（当前未收 ¥{fmt(owed)}）。"
    )


# --- Telegram callbacks ----------------------------------------------------------


def _rows_of(markup: Any) -> list[list[tuple[str, str]]]:
    if markup is None:
        return []
    return [[(b.text, b.callback_data or "") for b in row] for row in markup.inline_keyboard]


def _without_party(rows: list[list[tuple[str, str]]], party_id: int) -> list[list[tuple[str, str]]]:
    """The keyboard minus the row of a customer that is done, so it cannot be pressed twice."""
    return [row for row in rows if not any(d.endswith(f":{party_id}") for _, d in row)]


@final
async def remind_command(update: Any, context: Any) -> None:
    ctx = app_context(context)
    staff = staff_of(context, update)
    if staff is None:
        await reply(update, context, NOT_STAFF)
        return
    try:
        with transaction(ctx.engine) as s:
            me = s.get(Staff, staff.id)
            answer = apply_command(s, me, list(context.args or [])) if context.args else None
            text, buttons = panel(s, me)
    except ErpError as exc:
        await reply_error(update, context, exc)
        return
    await reply(update, context, (answer + "\n\n" + text) if answer else text, buttons or None)


def _open_receipt(
    session: Session, staff: Staff, party_id: int, chat_id: int, on: dt.date
) -> tuple[str, Any]:
    """💰 for someone who may book receipts: the receipt flow's own proposal for what is open."""
    from handlers.receivables import open_receipt, receipt_buttons, receipt_proposal

    party = session.get(Party, party_id)
    if party is None:
        raise ErpError("NOT_FOUND", what="客户", key=party_id)
    owed = open_balance(session, party_id)
    if owed <= 0:
        return f"{party.short_name or party.name} 已没有未收款项。", None
    action = open_receipt(session, chat_id=chat_id, staff=staff, party=party, amount=owed, on=on)
    text = receipt_proposal(session, party, owed, on)
    name = party.short_name or party.name
    text += f"\n\n金额不对？直接发送「收到{name} 实收金额」。"
    return text, receipt_buttons(action.id)


@final
async def reminder_button(update: Any, context: Any) -> None:
    """rem:t:<kind> switches a kind; rem:fu|sz|pay:<party> answer a reminder."""
    query = update.callback_query
    parts = parse_callback(query.data, PREFIX) or []
    ctx = app_context(context)
    staff = staff_of(context, update)
    if staff is None or len(parts) != 2:
        await query.answer(NOT_STAFF if staff is None else "", show_alert=staff is None)
        return
    action, key = parts
    now = clock.now()
    try:
        if action == "t":
            with transaction(ctx.engine) as s:
                me = s.get(Staff, staff.id)
                enabled = toggle(s, me, key)
                text, buttons = panel(s, me)
            await query.answer(f"{KINDS[key].name}：{'已开启' if enabled else '已关闭'}")
            await edit(query, text, buttons)
            return
        party_id = int(key)
        if action == "pay":
            if can(staff, "receive"):
                with transaction(ctx.engine) as s:
                    text, buttons = _open_receipt(
                        s, s.get(Staff, staff.id), party_id, query.message.chat.id, today(ctx)
                    )
                await query.answer()
                await reply(update, context, text, buttons)
                return
            with reading(ctx.engine) as s:
                hint = receipt_hint(s, party_id)
                party = s.get(Party, party_id)
                name = party.short_name or party.name
                bookers = [m.telegram_id for m in active_staff(s, "accountant")] or [
                    m.telegram_id for m in active_staff(s, "manager")
                ]
            for telegram_id in bookers:
                await notify(
                    context, telegram_id, f"💰 {staff.name} 说 {name} 已付款，请核对到账后登记。\n{hint}"
                )
            await query.answer("已通知会计核对入账")
            await reply(update, context, f"已通知会计核对 {name} 的到账并登记收款。")
            return
        if action not in ("fu", "sz"):
            await query.answer()
            return
        with transaction(ctx.engine) as s:
            line = follow_up(s, s.get(Staff, staff.id), party_id, action=action, now=now, tz=ctx.settings.tz)
    except ErpError as exc:
        await query.answer(exc.message()[:190], show_alert=True)
        return
    except ValueError:
        await query.answer()
        return
    await query.answer(line[:190])
    message = query.message
    await edit(
        query, (message.text or "") + "\n" + line, _without_party(_rows_of(message.reply_markup), party_id)
    )


def register(application: Any) -> None:
    from telegram.ext import CallbackQueryHandler, CommandHandler

    application.add_handler(CommandHandler("remind", remind_command), group=COMMAND_GROUP)
    application.add_handler(
        CallbackQueryHandler(reminder_button, pattern=rf"^{PREFIX}:(t|fu|sz|pay):"), group=COMMAND_GROUP
    )
