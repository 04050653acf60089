"""The gate in front of every handler (group -1): staff only, each update once.

A stranger gets a polite refusal with their Telegram id (未授权) and nothing else;
each active admin gets one message with a button per role to add them. An update
Telegram delivers again (same update id) is dropped: ``processed_update`` has a
primary key on it, so even two bot processes cannot both handle it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time

from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.context import AppContext
from erp.db import transaction
from erp.errors import ErpError
from erp.models import PendingAction, ProcessedUpdate, Staff
from erp.staff import ROLES, active_staff, by_telegram_id
from handlers.common import AUTH_GROUP, app_context, detached, explain, notify
from values import clock

log = logging.getLogger(__name__)
KEEP_PROCESSED = dt.timedelta(days=7)
STAFF_TTL = 10.0
STAFF_CACHE = "staff_cache"
JOIN_ROLES = ("accountant", "warehouse", "sales", "manager")


def first_time(engine: Engine, bot_id: int, update_id: int) -> bool:
    """Record the update as processed; False when it already was. (Core insert: this runs for
    every update, and an ORM session costs more than the insert.)"""
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(ProcessedUpdate.__table__).values(bot_id=bot_id, update_id=update_id, at=clock.now())
            )
    except IntegrityError:
        return False
    if update_id % 1000 == 0:  # now and then, forget old ids (Telegram never redelivers after a week)
        with transaction(engine) as s:
            s.exec(delete(ProcessedUpdate).where(ProcessedUpdate.at < clock.now() - KEEP_PROCESSED))
    return True


def cached_staff(ctx: AppContext, telegram_id: int) -> Staff | None:
    """The staff row, cached for ``STAFF_TTL`` seconds (chat changes to staff clear it at once;
    a change from the CLI reaches a running bot within the TTL)."""
    cache: dict[int, tuple[float, Staff]] = ctx.extras.setdefault(STAFF_CACHE, {})
    now = time.monotonic()
    hit = cache.get(telegram_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    with detached(ctx.engine) as s:
        staff = by_telegram_id(s, telegram_id)
    if staff is not None and staff.active:
        cache[telegram_id] = (now + STAFF_TTL, staff)
    else:
        cache.pop(telegram_id, None)  # strangers are not cached: adding them works at once
    return staff


def forget_staff(ctx: AppContext) -> None:
    """After a change to staff: the next update reads them again."""
    ctx.extras.pop(STAFF_CACHE, None)


async def gate(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not isinstance(update, Update):
        return
    ctx = app_context(context)
    if not first_time(ctx.engine, context.bot.id, update.update_id):
        log.info("dropping redelivered update %s", update.update_id)
        raise ApplicationHandlerStop
    user = update.effective_user
    if user is None or user.is_bot:
        raise ApplicationHandlerStop
    staff = cached_staff(ctx, user.id)
    if staff is not None and staff.active:
        context.staff = staff  # type: ignore[attr-defined]  # read with handlers.common.staff_of
        return
    await refuse(update, context)
    raise ApplicationHandlerStop


def join_request(engine: Engine, telegram_id: int, name: str, username: str | None) -> PendingAction | None:
    """The open request of this stranger, created on first contact; None if one was already open."""
    with transaction(engine) as s:
        for action in s.exec(
            select(PendingAction).where(PendingAction.kind == "join", PendingAction.status == "open")
        ).all():
            if json.loads(action.payload).get("telegram_id") == telegram_id:
                return None
        action = PendingAction(
            kind="join",
            chat_id=telegram_id,
            payload=json.dumps(
                {"telegram_id": telegram_id, "name": name, "username": username}, ensure_ascii=False
            ),
        )
        s.add(action)
        s.flush()
        return action


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    text = explain(ErpError("NOT_STAFF", user_id=user.id))
    if update.callback_query is not None:
        await update.callback_query.answer("未授权", show_alert=True)
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, text)
    ctx = app_context(context)
    name = " ".join(x for x in (user.first_name, user.last_name) if x) or str(user.id)
    action = join_request(ctx.engine, user.id, name, user.username)
    if action is None:
        return
    with detached(ctx.engine) as s:
        admins = active_staff(s, "admin")
    who = f"{name}" + (f"（@{user.username}）" if user.username else "") + f"，Telegram ID {user.id}"
    buttons = [
        [(f"添加为{ROLES[r]}", f"stf:ok:{action.id}:{r}") for r in JOIN_ROLES[:2]],
        [(f"添加为{ROLES[r]}", f"stf:ok:{action.id}:{r}") for r in JOIN_ROLES[2:]],
        [("❌ 忽略", f"stf:no:{action.id}")],
    ]
    for admin in admins:
        await notify(context, admin.telegram_id, f"🔔 未授权用户请求使用：{who}\n一键添加：", buttons)


def register(application: Application) -> None:
    application.add_handler(TypeHandler(Update, gate), group=AUTH_GROUP)
