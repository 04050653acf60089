"""Keeping tables from growing without bound: rows no button will ever read again.

Every knowledge-base question and every long reply's pages leave a ``pending_action``
row behind (its buttons carry the id). A button on a month-old message is not pressed;
if it is, the handlers already answer "这个按钮已失效" for a missing row. Open
proposals that still wait for a decision (a receipt to confirm, a stranger to add)
are kept however old they are.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, delete, or_
from sqlmodel import Session

from erp.models import PendingAction
from values.clock import as_utc

# a long reply's pages (handlers/common.py) and a question the knowledge base was asked
# (handlers/support.py QUESTION_KIND): nothing to decide, only buttons to page or hand off
TRANSIENT_KINDS = ("pages", "kbq")
TRANSIENT_DAYS = 30
CLOSED_DAYS = 90  # a decided action (done, cancelled) is kept this long for the record


def prune_pending_actions(
    session: Session,
    now: dt.datetime,
    *,
    transient_days: int = TRANSIENT_DAYS,
    closed_days: int = CLOSED_DAYS,
) -> int:
    """Delete transient actions older than ``transient_days`` and decided ones older
    than ``closed_days``; returns how many rows went."""
    now = as_utc(now)
    transient = and_(
        PendingAction.kind.in_(TRANSIENT_KINDS),  # type: ignore[attr-defined]
        PendingAction.created_at < now - dt.timedelta(days=transient_days),
    )
    closed = and_(
        PendingAction.status != "open",
        PendingAction.created_at < now - dt.timedelta(days=closed_days),
    )
    result = session.exec(delete(PendingAction).where(or_(transient, closed)))  # type: ignore[call-overload]
    return int(result.rowcount or 0)
