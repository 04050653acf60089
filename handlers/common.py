"""Helpers every chat handler uses. Other handler modules (reminders, support) rely on these.

Handler groups (PTB runs one matching handler per group, groups in order):
- ``AUTH_GROUP`` (-1): ``handlers.auth`` checks the sender is active staff; strangers stop here.
  It also drops updates already processed (a redelivered update is not handled twice).
- ``COMMAND_GROUP`` (0): commands, buttons and multi-step conversations.
- ``TEXT_GROUP`` (1): the free-text router (``handlers.text``): "库存 A001", "华为欠多少"…
- ``SUPPORT_GROUP`` (50): where ``handlers.support`` takes text nobody above understood.
- ``FALLBACK_GROUP`` (100): ``handlers.start`` answers anything still unanswered with a suggestion.
A handler that answered wraps itself with ``@final`` (raises ``ApplicationHandlerStop``), so later
groups do not answer the same message again.

Functions:
- ``staff_of(context)``: the ``Staff`` row of the sender (set by the auth middleware), or None.
- ``require_role(context, action)``: ``erp.staff.require`` for the sender (raises ``ErpError``).
- ``detached(engine)``: a read session whose rows stay usable after the ``with`` block.
- ``app_context(context)``: the shared ``AppContext`` (settings, engine, OCR pool).
- ``reply(update, context, text, buttons=None)``: reply in the chat; text longer than one
  Telegram message is split into pages with ◀/▶ buttons (pages stored in ``pending_action``).
- ``explain(error)``: an ``ErpError`` as chat text: message, code, what to do next and the
  matching knowledge-base article as a tappable ``/kb_<slug>`` (``article_command``).
- ``reply_error(update, context, error)``: reply with ``explain(error)``.
- ``keyboard(rows)``: inline keyboard from ``[[(label, callback_data), ...], ...]``.
- ``edit(query_or_message, text, buttons=None)``: edit a bot message, ignoring "not modified".
- ``today(context)``: today's date in the company's time zone.
- ``notify(context, telegram_id, text, buttons=None)``: message another staff member; never raises.
- ``pending_action(session, id, kind, what)`` and ``claim(session, action, status)``: the proposal a
  button points at (receipt, count, join…), and moving it out of ``open`` exactly once.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import update as sql_update
from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.context import AppContext, app_context
from erp.db import transaction
from erp.errors import ErpError
from erp.models import PendingAction, Staff
from erp.staff import by_telegram_id, require
from values import clock

__all__ = [
    "claim",
    "pending_action",
    "AUTH_GROUP",
    "COMMAND_GROUP",
    "TEXT_GROUP",
    "SUPPORT_GROUP",
    "FALLBACK_GROUP",
    "MAX_TEXT",
    "app_context",
    "article_command",
    "detached",
    "edit",
    "explain",
    "final",
    "keyboard",
    "notify",
    "paginate",
    "reply",
    "reply_error",
    "require_role",
    "staff_of",
    "today",
]

log = logging.getLogger(__name__)

AUTH_GROUP = -1
COMMAND_GROUP = 0
TEXT_GROUP = 1
SUPPORT_GROUP = 50
FALLBACK_GROUP = 100
MAX_TEXT = 4096
PAGE_TEXT = 3500  # room for the page header under the 4096 limit

Buttons = Sequence[Sequence[tuple[str, str]]]
Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[Any]]


@contextmanager
def detached(engine: Engine) -> Iterator[Session]:
    """A read-only session whose objects stay usable after it closes (``reading`` expires them)."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


def final(callback: Callback) -> Callback:
    """The message is answered: later handler groups must not answer it again.

    Works in conversations too: the returned state travels in ``ApplicationHandlerStop``.
    """

    @functools.wraps(callback)
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Any:
        result = await callback(update, context)
        raise ApplicationHandlerStop(result)

    return wrapper


def staff_of(context: ContextTypes.DEFAULT_TYPE, update: Update | None = None) -> Staff | None:
    staff = getattr(context, "staff", None)
    if staff is None and update is not None and update.effective_user is not None:
        with detached(app_context(context).engine) as s:
            staff = by_telegram_id(s, update.effective_user.id)
        if staff is not None and not staff.active:
            staff = None
    return staff


def require_role(context: ContextTypes.DEFAULT_TYPE, action: str) -> Staff:
    staff = staff_of(context)
    require(staff, action)
    assert staff is not None
    return staff


def today(context: ContextTypes.DEFAULT_TYPE | AppContext) -> dt.date:
    ctx = context if isinstance(context, AppContext) else app_context(context)
    return clock.today(ctx.settings.tz)


def keyboard(rows: Buttons | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows if row]
    )


def article_command(slug: str) -> str:
    """The tappable command that shows a knowledge-base article (``handlers.support``): /kb_red_invoice."""
    return "/kb_" + slug.replace("-", "_")


def article_link(code: str) -> str | None:
    """The 📖 相关说明 line for a refusal code, or None (no article, or a stranger who cannot open it)."""
    if code == "NOT_STAFF":
        return None  # the gate stops strangers before any article could be shown
    try:
        from bot.knowledge import article_for_code

        article = article_for_code(code)
    except Exception:  # noqa: BLE001 - a broken article file must not hide the refusal itself
        log.exception("knowledge base unavailable for %s", code)
        return None
    if article is None:
        return None
    return f"📖 相关说明：{article.title}（点 {article_command(article.slug)} 查看）"


def explain(error: ErpError, lang: str = "zh") -> str:
    """Message, stable code, what to do next, and the matching knowledge-base article."""
    text = f"⚠️ {error.message(lang)}\n（{error.code}）{error.hint}"
    link = article_link(error.code)
    return f"{text}\n{link}" if link else text


def split_pages(text: str, size: int = PAGE_TEXT) -> list[str]:
    """Split on line boundaries into pages of at most ``size`` characters (a long line is cut)."""
    pages: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > size:
            if current:
                pages.append(current)
                current = ""
            pages.append(line[:size])
            line = line[size:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > size:
            pages.append(current)
            current = line
        else:
            current = candidate
    if current or not pages:
        pages.append(current)
    return pages


def page_view(pages: list[str], index: int, action_id: int) -> tuple[str, Buttons]:
    text = f"{pages[index]}\n\n— 第 {index + 1}/{len(pages)} 页 —"
    nav = []
    if index > 0:
        nav.append(("◀ 上一页", f"pg:{action_id}:{index - 1}"))
    if index < len(pages) - 1:
        nav.append(("下一页 ▶", f"pg:{action_id}:{index + 1}"))
    return text, [nav]


def paginate(context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str) -> tuple[str, Buttons | None]:
    """The first page of ``text`` and its buttons; other pages are kept in the database."""
    pages = split_pages(text)
    if len(pages) == 1:
        return pages[0], None
    with transaction(app_context(context).engine) as s:
        action = PendingAction(kind="pages", chat_id=chat_id, payload=json.dumps(pages, ensure_ascii=False))
        s.add(action)
        s.flush()
        action_id = action.id
    return page_view(pages, 0, action_id)


async def reply(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    text: str,
    buttons: Buttons | None = None,
) -> Any:
    """Reply in the update's chat. Long text is paginated; ``buttons`` go on the last page's message."""
    chat_id = update.effective_chat.id
    if len(text) > MAX_TEXT or (buttons and len(text) > PAGE_TEXT):
        first, nav = paginate(context, chat_id, text)
        msg = await context.bot.send_message(chat_id, first, reply_markup=keyboard(nav))
        if buttons:
            msg = await context.bot.send_message(chat_id, "请选择：", reply_markup=keyboard(buttons))
        return msg
    return await context.bot.send_message(chat_id, text, reply_markup=keyboard(buttons))


async def reply_error(update: Update, context: ContextTypes.DEFAULT_TYPE, error: ErpError) -> Any:
    return await reply(update, context, explain(error))


async def edit(target: Any, text: str, buttons: Buttons | None = None) -> Any:
    """Edit a bot message (a ``CallbackQuery`` or a ``Message``); an identical edit is not an error."""
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 20] + "\n…（已截断）"
    try:
        if hasattr(target, "edit_message_text"):
            return await target.edit_message_text(text, reply_markup=keyboard(buttons))
        return await target.edit_text(text, reply_markup=keyboard(buttons))
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return None
        raise


async def notify(
    context: ContextTypes.DEFAULT_TYPE, telegram_id: int, text: str, buttons: Buttons | None = None
) -> bool:
    """Send to another person; a blocked bot or a missing chat is logged, not raised."""
    try:
        await context.bot.send_message(telegram_id, text[:MAX_TEXT], reply_markup=keyboard(buttons))
        return True
    except (Forbidden, BadRequest) as exc:
        log.warning("could not notify %s: %s", telegram_id, exc)
        return False


def pending_action(session: Session, action_id: int, kind: str, what: str) -> PendingAction:
    """The proposal a button points at, or NOT_FOUND (an old button, or another feature's id)."""
    action = session.get(PendingAction, action_id)
    if action is None or action.kind != kind:
        raise ErpError("NOT_FOUND", what=what, key=action_id)
    return action


def claim(session: Session, action: PendingAction, status: str, **values: object) -> bool:
    """Move a proposal out of ``open`` exactly once (compare-and-set): of two taps, one wins."""
    claimed = session.execute(
        sql_update(PendingAction)
        .where(PendingAction.id == action.id, PendingAction.status == "open")
        .values(status=status, **values)
    ).rowcount
    session.refresh(action)
    return claimed == 1


def parse_callback(data: str | None, prefix: str) -> list[str] | None:
    """``inv:ok:42`` with prefix ``inv`` -> ["ok", "42"]; None if it is another feature's."""
    if not data or not data.startswith(prefix + ":"):
        return None
    return data.split(":")[1:]
