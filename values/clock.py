"""The business clock: the one place that asks what time and what day it is.

- ``now()`` is the moment, an aware UTC datetime: what timestamps store.
- ``today()`` is the business date: the date in the company's time zone (Asia/Shanghai unless
  ``ZHANGFANG_TIMEZONE`` says otherwise), whatever the machine's own time zone is. A server in UTC that
  books at 07:30 Beijing time books today, not yesterday.
- ``business_date(moment)`` turns a stored timestamp into its business date.

Nothing else in the product calls ``datetime.now()``, ``date.today()`` or ``time.time()`` for a business
purpose (tests/test_clock.py greps the tree, ruff's DTZ rules refuse naive calls). Tests freeze this clock
with time-machine, which moves ``datetime.now`` underneath it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Shanghai"

_zone: ZoneInfo = ZoneInfo(DEFAULT_ZONE)


def set_zone(zone: str | ZoneInfo) -> None:
    """The company's time zone, set once at start-up from the settings."""
    global _zone
    _zone = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)


def zone() -> ZoneInfo:
    return _zone


def now() -> dt.datetime:
    """This moment, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def local_now(tz: ZoneInfo | None = None) -> dt.datetime:
    """This moment on the company's wall clock."""
    return now().astimezone(tz or _zone)


def today(tz: ZoneInfo | None = None) -> dt.date:
    """The business date: today in the company's time zone."""
    return local_now(tz).date()


def as_utc(moment: dt.datetime) -> dt.datetime:
    """An aware UTC datetime; a naive one is taken as UTC (SQLite returns stored timestamps naive)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def business_date(moment: dt.datetime, tz: ZoneInfo | None = None) -> dt.date:
    """The business date of a stored timestamp (naive means UTC)."""
    return as_utc(moment).astimezone(tz or _zone).date()


def at_local(day: dt.date, time: dt.time, tz: ZoneInfo | None = None) -> dt.datetime:
    """The aware moment at a wall-clock time on a business date."""
    return dt.datetime.combine(day, time, tzinfo=tz or _zone)
