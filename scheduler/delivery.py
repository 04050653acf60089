"""Sending reminders: claim in the delivery log, send within Telegram's limits, record the outcome.

Exactly once. Before sending, a process inserts the log row for (kind, subject,
recipient, date) with its own claim token (``INSERT .. ON CONFLICT DO NOTHING``)
and commits; only the process whose token is in the row sends. A second run, a
second bot process against the same PostgreSQL, or a restart finds the row and
sends nothing. The one case that is taken again: a claim left in ``sending``
longer than ``LEASE`` (the process died between claiming and sending) or a
transient error (``retry``); a compare-and-set on the token lets one process win.
So a crash in the instant between Telegram accepting a message and the log
saying ``sent`` can repeat that one message; nothing is ever silently lost.

A failed send is logged and does not stop the others: ``blocked`` (the user
blocked the bot, ``telegram.error.Forbidden``), ``failed`` (a permanent error
such as chat not found), ``retry`` (network trouble; taken again by a later run,
at most ``MAX_ATTEMPTS`` times).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from erp.db import reading, transaction
from erp.models import DeliveryLog
from erp.reminders import LEASE, MAX_ATTEMPTS, Knobs, Reminder, load_knobs, plan
from scheduler.texts import Rendered, render
from values.clock import as_utc

log = logging.getLogger(__name__)

KEY = ("kind", "subject", "recipient", "date")


class RateLimiter:
    """About 30 messages a second overall and one a second per chat (Telegram's limits).

    ``clock`` and ``sleep`` are injectable so tests run on a fake clock without sleeping.
    """

    def __init__(
        self,
        *,
        per_second: float = 30.0,
        per_chat_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / per_second
        self.per_chat = per_chat_interval
        self.clock, self.sleep = clock, sleep
        self._last: float | None = None
        self._last_chat: dict[int, float] = {}
        self._lock = asyncio.Lock()

    async def wait(self, chat_id: int) -> None:
        async with self._lock:
            now = self.clock()
            ready = now
            if self._last is not None:
                ready = max(ready, self._last + self.interval)
            if chat_id in self._last_chat:
                ready = max(ready, self._last_chat[chat_id] + self.per_chat)
            if ready > now:
                await self.sleep(ready - now)
            at = max(self.clock(), ready)
            self._last = at
            self._last_chat[chat_id] = at


def _key_of(r: Reminder) -> dict[str, object]:
    return {"kind": r.kind, "subject": r.subject, "recipient": r.recipient, "date": r.date}


def _insert_if_absent(session: Session, values: dict[str, object]) -> None:
    dialect = session.get_bind().dialect.name
    table = DeliveryLog.__table__
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        session.execute(insert(table).values(**values).on_conflict_do_nothing(index_elements=list(KEY)))
        return
    try:  # pragma: no cover - other databases
        with session.begin_nested():
            session.execute(table.insert().values(**values))
    except IntegrityError:
        pass


def claim(engine: Engine, r: Reminder, *, token: str, now: dt.datetime, status: str = "sending") -> bool:
    """Take the log row of ``r`` for this sender; False when someone has it (sent or in flight)."""
    stamp = as_utc(now)
    with transaction(engine) as s:
        _insert_if_absent(
            s,
            {
                **_key_of(r),
                "status": status,
                "claim_token": token,
                "claimed_at": stamp,
                "attempts": 0,
                "chat_id": r.chat_id,
                "items": r.items,
            },
        )
        row = s.exec(
            select(DeliveryLog).where(*(getattr(DeliveryLog, k) == v for k, v in _key_of(r).items()))
        ).one()
        if row.claim_token == token:
            return True
        stale = row.status == "sending" and as_utc(row.claimed_at) < stamp - LEASE
        retry = row.status == "retry" and row.attempts < MAX_ATTEMPTS
        if status != "sending" or not (stale or retry):
            return False
        taken = s.execute(
            update(DeliveryLog)
            .where(DeliveryLog.id == row.id, DeliveryLog.claim_token == row.claim_token)
            .values(status="sending", claim_token=token, claimed_at=stamp, chat_id=r.chat_id, items=r.items)
        )
        return taken.rowcount == 1


def finish(
    engine: Engine,
    r: Reminder,
    *,
    token: str,
    status: str,
    now: dt.datetime,
    message_id: int | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, object] = {"status": status, "error": (error or None) and error[:250]}
    if status == "sent":
        values.update(sent_at=as_utc(now), message_id=message_id)
    with transaction(engine) as s:
        row = s.exec(
            select(DeliveryLog).where(*(getattr(DeliveryLog, k) == v for k, v in _key_of(r).items()))
        ).one()
        s.execute(
            update(DeliveryLog)
            .where(DeliveryLog.id == row.id, DeliveryLog.claim_token == token)
            .values(attempts=row.attempts + 1, **values)
        )


def keyboard(rendered: Rendered) -> Any:
    if not rendered.buttons:
        return None
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rendered.buttons]
    )


def _seconds(value: object) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)  # type: ignore[arg-type]


@dataclass
class Report:
    outcomes: list[tuple[Reminder, str, str | None]] = field(default_factory=list)

    def add(self, r: Reminder, status: str, error: str | None = None) -> None:
        self.outcomes.append((r, status, error))

    @property
    def counts(self) -> Counter:
        return Counter(status for _, status, _ in self.outcomes)

    def summary(self) -> str:
        c = self.counts
        parts = [f"{name} {c[key]}" for key, name in STATUS_NAMES.items() if c[key]]
        return "，".join(parts) or "没有到期的提醒"


STATUS_NAMES = {
    "sent": "已发送",
    "skipped": "已由其他进程发送",
    "empty": "无内容",
    "blocked": "用户已屏蔽",
    "failed": "发送失败",
    "retry": "稍后重试",
}


async def _send(bot: Any, r: Reminder, rendered: Rendered, limiter: RateLimiter) -> Any:
    await limiter.wait(r.chat_id)
    return await bot.send_message(chat_id=r.chat_id, text=rendered.text, reply_markup=keyboard(rendered))


async def deliver(
    engine: Engine,
    bot: Any,
    reminders: list[Reminder],
    *,
    now: dt.datetime,
    knobs: Knobs,
    limiter: RateLimiter | None = None,
) -> Report:
    """Claim, send and log each reminder; one failure never stops the rest."""
    from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

    limiter = limiter or RateLimiter()
    token = uuid.uuid4().hex
    report = Report()
    for r in reminders:
        if r.empty:
            await asyncio.to_thread(claim, engine, r, token=token, now=now, status="empty")
            report.add(r, "empty")
            continue
        if not await asyncio.to_thread(claim, engine, r, token=token, now=now):
            report.add(r, "skipped")
            continue
        rendered = render(r, knobs)
        status, error, message_id = "sent", None, None
        try:
            try:
                message = await _send(bot, r, rendered, limiter)
            except RetryAfter as exc:  # flood control: wait as told, then once more
                await limiter.sleep(_seconds(exc.retry_after))
                message = await _send(bot, r, rendered, limiter)
            message_id = getattr(message, "message_id", None)
        except Forbidden as exc:
            status, error = "blocked", str(exc)
        except (BadRequest, ChatMigrated) as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"
        except NetworkError as exc:  # includes TimedOut
            status, error = "retry", f"{type(exc).__name__}: {exc}"
        except TelegramError as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a bug in one message must not silence everybody else
            log.exception("reminder %s to %s failed", r.kind, r.recipient)
            status, error = "failed", f"{type(exc).__name__}: {exc}"
        if status != "sent":
            log.warning("reminder %s to staff %s: %s %s", r.kind, r.recipient, status, error)
        await asyncio.to_thread(
            finish, engine, r, token=token, status=status, now=now, message_id=message_id, error=error
        )
        report.add(r, status, error)
    return report


def compute(engine: Engine, *, now: dt.datetime, tz: dt.tzinfo) -> tuple[Knobs, list[Reminder]]:
    with reading(engine) as s:
        knobs = load_knobs(s)
        return knobs, plan(s, now=now, tz=tz, knobs=knobs)


async def run_due(
    engine: Engine,
    bot: Any,
    *,
    now: dt.datetime,
    tz: dt.tzinfo,
    limiter: RateLimiter | None = None,
) -> Report:
    """Everything due at ``now`` and not yet sent today: computed off the event loop, then sent."""
    knobs, reminders = await asyncio.to_thread(compute, engine, now=now, tz=tz)
    return await deliver(engine, bot, reminders, now=now, knobs=knobs, limiter=limiter)
