"""Support tickets: a staff question handed to a person (转人工) and the answer that came back.

The chat side (``handlers/support.py``) opens a ticket, sends it to the admins (or the
support chat) and records each of those messages with ``record_forward``; an admin's
*reply* to one of them is found with ``ticket_for_message`` and becomes the answer.
The morning reminders ask ``unanswered_since`` for questions waiting longer than a
working day (``one_working_day_before`` gives the cut-off).

Functions take a keyword-only ``session`` and never commit: the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session, select

from erp.errors import ErpError
from erp.models import Staff, Ticket, TicketMessage
from values import clock
from values.clock import as_utc

OPEN = "open"
ANSWERED = "answered"
MAX_QUESTION = 2000  # characters kept of a question; Telegram allows 4096 per message
MAX_TITLE = 60  # an article title made from a question


def _now() -> dt.datetime:
    return clock.now()


def open_ticket(session: Session, *, asker: Staff, chat_id: int, question: str) -> Ticket:
    """A new open ticket, or the asker's open ticket with the same question (a second tap opens none)."""
    question = question.strip()[:MAX_QUESTION]
    if not question:
        raise ErpError("INVALID_INPUT", why="问题不能为空")
    existing = session.exec(
        select(Ticket).where(Ticket.asker_id == asker.id, Ticket.status == OPEN, Ticket.question == question)
    ).first()
    if existing is not None:
        return existing
    ticket = Ticket(asker_id=asker.id, chat_id=chat_id, question=question)
    session.add(ticket)
    session.flush()
    return ticket


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise ErpError("NOT_FOUND", what="工单", key=f"#{ticket_id}")
    return ticket


def record_forward(session: Session, *, ticket_id: int, chat_id: int, message_id: int) -> TicketMessage:
    """Remember that bot message ``message_id`` in ``chat_id`` carries the ticket."""
    row = TicketMessage(ticket_id=ticket_id, chat_id=chat_id, message_id=message_id)
    session.add(row)
    session.flush()
    return row


def forwards_of(session: Session, ticket_id: int) -> list[TicketMessage]:
    return list(
        session.exec(
            select(TicketMessage).where(TicketMessage.ticket_id == ticket_id).order_by(TicketMessage.id)
        ).all()
    )


def ticket_for_message(session: Session, *, chat_id: int, message_id: int) -> Ticket | None:
    """The ticket a reply to bot message ``message_id`` in ``chat_id`` answers, if any."""
    row = session.exec(
        select(TicketMessage).where(TicketMessage.chat_id == chat_id, TicketMessage.message_id == message_id)
    ).first()
    return session.get(Ticket, row.ticket_id) if row is not None else None


def answer_ticket(
    session: Session, *, ticket_id: int, answerer: Staff, answer: str, now: dt.datetime | None = None
) -> Ticket:
    """Record an admin's answer. A later reply to the same ticket is added to the answer (a follow-up),
    so a ticket saved as an article keeps everything the asker was told."""
    answer = answer.strip()
    if not answer:
        raise ErpError("INVALID_INPUT", why="回复内容不能为空")
    ticket = get_ticket(session, ticket_id)
    if ticket.status == ANSWERED and ticket.answer:
        ticket.answer = f"{ticket.answer}\n\n{answer}"
    else:
        ticket.answer = answer
        ticket.status = ANSWERED
        ticket.answered_by = answerer.id
        ticket.answered_at = now or _now()
    session.add(ticket)
    session.flush()
    return ticket


def open_tickets(session: Session, *, limit: int = 50) -> list[Ticket]:
    """Tickets nobody has answered yet, oldest first."""
    return list(
        session.exec(
            select(Ticket).where(Ticket.status == OPEN).order_by(Ticket.created_at, Ticket.id).limit(limit)
        ).all()
    )


def unanswered_since(session: Session, before: dt.datetime) -> list[Ticket]:
    """Open tickets asked before ``before`` (for the morning reminders), oldest first."""
    return list(
        session.exec(
            select(Ticket)
            .where(Ticket.status == OPEN, Ticket.created_at < as_utc(before))
            .order_by(Ticket.created_at, Ticket.id)
        ).all()
    )


def one_working_day_before(
    now: dt.datetime, *, tz: dt.tzinfo, is_working_day: Callable[[dt.date], bool]
) -> dt.datetime:
    """The same local time on the previous working day: a Monday 09:00 gives Friday 09:00.

    ``is_working_day(date) -> bool`` is the company calendar (``erp.reminders.is_working_day``
    with its knobs), so holidays and make-up days 调休 count the way the reminders count them.
    """
    local = now.astimezone(tz)
    day = local.date() - dt.timedelta(days=1)
    for _ in range(60):
        if is_working_day(day):
            break
        day -= dt.timedelta(days=1)
    else:  # no working day in two months: a calendar mistake; fall back to a day
        day = local.date() - dt.timedelta(days=1)
    return dt.datetime.combine(day, local.timetz()).astimezone(dt.UTC)


@dataclass(frozen=True)
class LateTicket:
    """A question waiting longer than a working day, as plain values for a reminder text."""

    id: int
    asker: str
    question: str
    hours_waiting: int


def late_tickets(
    session: Session, *, now: dt.datetime, tz: dt.tzinfo, is_working_day: Callable[[dt.date], bool]
) -> list[LateTicket]:
    """Open tickets asked more than one working day before ``now``, oldest first (morning reminders)."""
    cutoff = one_working_day_before(now, tz=tz, is_working_day=is_working_day)
    late = unanswered_since(session, cutoff)
    names = {
        m.id: m.name
        for m in session.exec(select(Staff).where(Staff.id.in_({t.asker_id for t in late}))).all()
    }  # type: ignore[union-attr]
    return [LateTicket(t.id, names.get(t.asker_id, "?"), t.question, waiting_hours(t, now)) for t in late]


def waiting_hours(ticket: Ticket, now: dt.datetime) -> int:
    return max(0, int((as_utc(now) - as_utc(ticket.created_at)).total_seconds() // 3600))


def article_draft(ticket: Ticket) -> tuple[str, str]:
    """(title, body) of a knowledge-base article made from an answered ticket."""
    if ticket.status != ANSWERED or not ticket.answer:
        raise ErpError("INVALID_INPUT", why=f"工单 #{ticket.id} 还没有回复，不能保存为文章")
    title = " ".join(ticket.question.split())
    if len(title) > MAX_TITLE:
        title = title[: MAX_TITLE - 1] + "…"
    body = ticket.answer.strip()
    if " ".join(ticket.question.split()) != title:  # the whole question stays searchable
        body = f"问：{ticket.question.strip()}\n\n{body}"
    return title, body


def mark_saved(session: Session, *, ticket_id: int, slug: str) -> Ticket:
    ticket = get_ticket(session, ticket_id)
    ticket.article_slug = slug
    session.add(ticket)
    session.flush()
    return ticket


__all__ = [
    "ANSWERED",
    "OPEN",
    "answer_ticket",
    "article_draft",
    "LateTicket",
    "forwards_of",
    "get_ticket",
    "late_tickets",
    "mark_saved",
    "one_working_day_before",
    "open_ticket",
    "open_tickets",
    "record_forward",
    "ticket_for_message",
    "unanswered_since",
    "waiting_hours",
]
