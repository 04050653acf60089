"""The reminder job inside the bot process (python-telegram-bot's JobQueue, APScheduler underneath).

One job ticks every minute and sends whatever is due at that moment and not yet
in today's delivery log. Times of day live in the database (per staff member and
kind, admin defaults), so a change made in /remind applies at the next tick
without a restart. Catching up is the same mechanism: the first tick after the
bot comes back sends today's due reminders once — one message per recipient and
kind, never one per missed day — because the log is keyed by today's date.
APScheduler's ``misfire_grace_time`` + ``coalesce`` make a tick that was delayed
(event loop busy, machine suspended) run once late instead of being dropped or
repeated; ``max_instances=1`` keeps two ticks of one process from overlapping.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from typing import Any

from bot.context import app_context
from erp.db import transaction
from erp.housekeeping import prune_pending_actions
from scheduler.delivery import RateLimiter, run_due
from values import clock

log = logging.getLogger(__name__)

TICK_SECONDS = 60
FIRST_TICK_SECONDS = 30  # the catch-up tick after a start; late enough to let start-up settle
MISFIRE_GRACE_SECONDS = 6 * 3600
JOB_NAME = "reminders"
HOUSEKEEPING_JOB = "housekeeping"
HOUSEKEEPING_HOUR = 3  # 03:30 local: nobody is pressing buttons
LIMITER_KEY = "reminder_limiter"


CLOCK_KEY = "reminder_clock"  # extras: a callable returning the aware "now" (tests, demos)


async def tick(context: Any) -> None:
    ctx = app_context(context)
    limiter = ctx.extras.setdefault(LIMITER_KEY, RateLimiter())
    now = ctx.extras.get(CLOCK_KEY, clock.now)()
    report = await run_due(ctx.engine, context.bot, now=now, tz=ctx.settings.tz, limiter=limiter)
    if report.outcomes:
        log.info("reminders: %s", report.summary())


def enabled(ctx: Any) -> bool:
    """Off when the AppContext says ``extras["reminders"] = False`` (chat tests that must not get
    real-clock reminders in the middle of a conversation) or ZHANGFANG_REMINDERS=off."""
    if os.environ.get("ZHANGFANG_REMINDERS", "").strip().lower() in ("0", "off", "false", "no"):
        return False
    return ctx.extras.get("reminders", True) is not False


def _prune(engine: Any, now: dt.datetime) -> int:
    with transaction(engine) as session:
        return prune_pending_actions(session, now)


async def housekeeping(context: Any) -> None:
    """Daily: drop pending actions no button will read again (erp/housekeeping.py)."""
    ctx = app_context(context)
    now = ctx.extras.get(CLOCK_KEY, clock.now)()
    removed = await asyncio.to_thread(_prune, ctx.engine, now)
    if removed:
        log.info("housekeeping: %d old pending actions removed", removed)


def schedule(application: Any) -> Any:
    """Called by ``bot/app.py`` in ``post_init``; returns the reminder job (None when off or
    without a JobQueue). The nightly housekeeping job runs even when reminders are off."""
    queue = application.job_queue
    if queue is None:
        log.warning("no JobQueue (install python-telegram-bot[job-queue]); reminders are off")
        return None
    ctx = app_context(application)
    for old in queue.get_jobs_by_name(HOUSEKEEPING_JOB):
        old.schedule_removal()
    queue.run_daily(
        housekeeping, time=dt.time(HOUSEKEEPING_HOUR, 30, tzinfo=ctx.settings.tz), name=HOUSEKEEPING_JOB
    )
    if not enabled(ctx):
        log.info("reminders are off for this application")
        return None
    for old in queue.get_jobs_by_name(JOB_NAME):
        old.schedule_removal()
    return queue.run_repeating(
        tick,
        interval=TICK_SECONDS,
        first=FIRST_TICK_SECONDS,
        name=JOB_NAME,
        job_kwargs={"misfire_grace_time": MISFIRE_GRACE_SECONDS, "coalesce": True, "max_instances": 1},
    )
