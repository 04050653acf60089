"""Support tickets (erp/tickets.py) and the refusal text (explain) without the chat."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from erp import tickets
from erp.errors import CODES, ErpError
from erp.models import Ticket
from erp.staff import add_staff
from handlers.common import explain

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _people(session):
    asker = add_staff(session, telegram_id=501, name="李会计", role="accountant")
    admin = add_staff(session, telegram_id=502, name="王管理", role="admin")
    return asker, admin


def _asked_at(session, ticket: Ticket, moment: dt.datetime) -> None:
    ticket.created_at = moment.astimezone(dt.UTC)
    session.add(ticket)
    session.flush()


def test_a_second_handoff_of_the_same_question_opens_no_second_ticket(session):
    asker, _ = _people(session)
    first = tickets.open_ticket(session, asker=asker, chat_id=501, question="  打印机卡纸了怎么弄 ")
    again = tickets.open_ticket(session, asker=asker, chat_id=501, question="打印机卡纸了怎么弄")
    other = tickets.open_ticket(session, asker=asker, chat_id=501, question="wifi密码是多少")
    assert first.id == again.id != other.id
    assert first.question == "打印机卡纸了怎么弄"
    assert [t.id for t in tickets.open_tickets(session)] == [first.id, other.id]
    with pytest.raises(ErpError) as err:
        tickets.open_ticket(session, asker=asker, chat_id=501, question="   ")
    assert err.value.code == "INVALID_INPUT"


def test_reply_to_a_forwarded_message_finds_its_ticket_and_answers_it(session):
    asker, admin = _people(session)
    ticket = tickets.open_ticket(session, asker=asker, chat_id=501, question="打印机卡纸了怎么弄")
    tickets.record_forward(session, ticket_id=ticket.id, chat_id=502, message_id=77)
    tickets.record_forward(session, ticket_id=ticket.id, chat_id=-100555, message_id=77)
    assert tickets.ticket_for_message(session, chat_id=502, message_id=77).id == ticket.id
    assert tickets.ticket_for_message(session, chat_id=502, message_id=78) is None
    assert tickets.ticket_for_message(session, chat_id=503, message_id=77) is None

    tickets.answer_ticket(session, ticket_id=ticket.id, answerer=admin, answer="关机，取出纸张。")
    assert ticket.status == tickets.ANSWERED and ticket.answered_by == admin.id
    assert tickets.open_tickets(session) == []
    # a follow-up reply adds to the answer; the first answerer and time stay
    first_time = ticket.answered_at
    tickets.answer_ticket(session, ticket_id=ticket.id, answerer=asker, answer="还不行就报修。")
    assert ticket.answer == "关机，取出纸张。\n\n还不行就报修。"
    assert ticket.answered_by == admin.id and ticket.answered_at == first_time
    with pytest.raises(ErpError) as err:
        tickets.answer_ticket(session, ticket_id=9999, answerer=admin, answer="x")
    assert err.value.code == "NOT_FOUND"


def test_unanswered_since_lists_only_open_tickets_asked_before_the_cutoff(session):
    asker, admin = _people(session)
    monday_9 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
    old = tickets.open_ticket(session, asker=asker, chat_id=501, question="上周五早上问的")
    _asked_at(session, old, dt.datetime(2026, 11, 27, 8, 30, tzinfo=SHANGHAI))
    fresh = tickets.open_ticket(session, asker=asker, chat_id=501, question="上周五下午问的")
    _asked_at(session, fresh, dt.datetime(2026, 11, 27, 15, 0, tzinfo=SHANGHAI))
    done = tickets.open_ticket(session, asker=asker, chat_id=501, question="早就答了")
    _asked_at(session, done, dt.datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI))
    tickets.answer_ticket(session, ticket_id=done.id, answerer=admin, answer="答过了")
    session.commit()

    weekdays = lambda d: d.weekday() < 5  # noqa: E731
    cutoff = tickets.one_working_day_before(monday_9, tz=SHANGHAI, is_working_day=weekdays)
    assert cutoff == dt.datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI)  # Friday 09:00, not Sunday
    assert [t.id for t in tickets.unanswered_since(session, cutoff)] == [old.id]
    # a holiday Friday pushes the cut-off back to Thursday: Friday's question is not late yet
    holiday = lambda d: d.weekday() < 5 and d != dt.date(2026, 11, 27)  # noqa: E731
    cutoff = tickets.one_working_day_before(monday_9, tz=SHANGHAI, is_working_day=holiday)
    assert cutoff == dt.datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
    assert tickets.unanswered_since(session, cutoff) == []
    assert tickets.waiting_hours(old, monday_9) == 72
    late = tickets.late_tickets(session, now=monday_9, tz=SHANGHAI, is_working_day=weekdays)
    assert late == [tickets.LateTicket(old.id, "李会计", "上周五早上问的", 72)]


def test_article_draft_keeps_the_whole_question_and_refuses_an_unanswered_ticket(session):
    asker, admin = _people(session)
    long_question = "我们" + "公司新来的出纳" * 12 + "要怎么开通网银？"
    ticket = tickets.open_ticket(session, asker=asker, chat_id=501, question=long_question)
    with pytest.raises(ErpError):
        tickets.article_draft(ticket)
    tickets.answer_ticket(session, ticket_id=ticket.id, answerer=admin, answer="带营业执照去开户行办理。")
    title, body = tickets.article_draft(ticket)
    assert len(title) == tickets.MAX_TITLE and title.endswith("…")
    assert long_question in body and body.endswith("带营业执照去开户行办理。")
    short = tickets.open_ticket(session, asker=asker, chat_id=501, question="网银怎么开通")
    tickets.answer_ticket(session, ticket_id=short.id, answerer=admin, answer="去开户行。")
    assert tickets.article_draft(short) == ("网银怎么开通", "去开户行。")


def test_every_refusal_shown_in_chat_has_code_hint_and_article_link():
    for code in CODES:
        text = explain(ErpError(code))
        assert f"（{code}）" in text and CODES[code][2] in text
        if code == "NOT_STAFF":  # strangers cannot open articles: no link for them
            assert "/kb_" not in text
        else:
            assert "📖 相关说明：" in text and "/kb_" in text, code
    text = explain(ErpError("PERIOD_CLOSED", period="2024-05"))
    assert "2024-05 已结账" in text and "/kb_period_closed" in text
