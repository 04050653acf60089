"""Reminders end to end: the real Application and PTB Bot against the local Bot API (bot.fakeapi).

The job is not left to the wall clock: the test calls ``run_due`` with the
Application's own bot and a chosen ``now``, then taps the buttons as the user would.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlmodel import select

from erp.db import reading, transaction
from erp.models import DeliveryLog, FollowUp, ReminderPref, Settlement
from erp.reminders import load_knobs, record_follow_up
from scheduler.delivery import run_due
from scheduler.jobs import JOB_NAME, MISFIRE_GRACE_SECONDS
from tests.test_bot_helpers import (
    ACCOUNTANT,
    ADMIN,
    MANAGER,
    SALES,
    LocalChat,
    company_settings,
    make_ctx,
    run,
    seed_company,
    user,
)
from tests.test_reminders import TZ, limiter
from values import clock


def next_working_morning() -> dt.datetime:
    """09:05 Shanghai on the next Monday-to-Friday day (the seeded invoices are relative to today)."""
    day = clock.today(TZ) + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(9, 5), tzinfo=TZ)


def test_reminder_buttons_follow_up_and_receipt_through_the_chat(engine, settings):
    ids = seed_company(engine)  # 华为 (rep 钱销售) owes 10,600 overdue 45 days and 2,120 not yet due
    morning = next_working_morning()

    async def scenario():
        ctx = make_ctx(engine, company_settings(settings), reminders=False)
        async with LocalChat(ctx) as chat:
            bot = chat.app.bot
            mark = chat.api.mark()
            report = await run_due(engine, bot, now=morning, tz=TZ, limiter=limiter())
            assert report.counts["sent"] >= 3
            rep_msg = await chat.api.wait_for("逾期应收提醒", chat_id=SALES, after=mark)
            assert "华为" in rep_msg.body and "10,600.00" in rep_msg.body
            assert len(rep_msg.body) <= 4096
            await chat.api.wait_for("逾期升级", chat_id=MANAGER, after=mark)
            low = await chat.api.wait_for("库存不足", after=mark)
            assert "A001" in low.body and "建议补货 70个" in low.body  # min 50, on hand 30
            # a second run the same day sends nothing
            again = await run_due(
                engine, bot, now=morning + dt.timedelta(minutes=1), tz=TZ, limiter=limiter()
            )
            assert again.counts["sent"] == 0

            # 💰 已收款 from the rep (who may not book receipts): the accountant is told
            mark = chat.api.mark()
            await chat.press(user(SALES), rep_msg, f"rem:pay:{ids['huawei']}")
            told = await chat.api.wait_for("已付款", chat_id=ACCOUNTANT, after=mark)
            assert "收到华为" in told.body

            # 📞 已跟进: a follow-up with who and when, the row disappears, the customer is quiet
            replies = await chat.press(user(SALES), rep_msg, "已跟进")
            edited = next(m for m in replies if m.message_id == rep_msg.message_id)
            assert "钱销售" in edited.body and "已跟进" in edited.body
            assert not any(d.endswith(f":{ids['huawei']}") for _, d in edited.buttons)
            with reading(engine) as s:
                fu = s.exec(select(FollowUp)).one()
                assert (fu.party_id, fu.staff_id, fu.note) == (ids["huawei"], ids["sales"], "已跟进")
                assert fu.snooze_until == clock.today(TZ) + dt.timedelta(days=load_knobs(s).snooze_days)

    run(scenario())


def test_paid_button_opens_the_receipt_flow_for_an_accountant(engine, settings):
    ids = seed_company(engine)

    async def scenario():
        ctx = make_ctx(engine, company_settings(settings), reminders=False)
        async with LocalChat(ctx) as chat:
            # a reminder-like message in the accountant's chat carrying the button
            msg = await chat.app.bot.send_message(ACCOUNTANT, "⏰ 逾期应收提醒")
            sent = chat.api.messages[msg.message_id]
            sent.reply_markup = {
                "inline_keyboard": [[{"text": "💰 已收款", "callback_data": f"rem:pay:{ids['huawei']}"}]]
            }
            replies = await chat.press(user(ACCOUNTANT), sent, "已收款")
            proposal = next(m for m in replies if "收款确认" in m.body)
            assert "¥12,720.00" in proposal.body
            await chat.press(user(ACCOUNTANT), proposal, "确认收款")
        with reading(engine) as s:
            settlement = s.exec(select(Settlement)).one()
            assert settlement.amount == Decimal("12720.00") and settlement.party_id == ids["huawei"]

    run(scenario())


def test_remind_command_shows_and_changes_my_reminders(engine, settings):
    ids = seed_company(engine)

    async def scenario():
        ctx = make_ctx(engine, company_settings(settings), reminders=False)
        async with LocalChat(ctx) as chat:
            r = await chat.say(user(SALES), "/remind")
            panel = r[-1]
            assert "逾期应收 09:00 开" in panel.body and "库存不足" not in panel.body
            r = await chat.press(user(SALES), panel, "关闭 即将到期")
            assert "🚫 即将到期" in r[-1].body
            r = await chat.say(user(SALES), "/remind 08:30 逾期应收")
            assert "逾期应收 的提醒时间改为 08:30" in r[-1].body
            r = await chat.say(user(SALES), "/remind 25:99")
            assert "时间「25:99」无效" in r[-1].body
            r = await chat.say(user(SALES), "/remind 默认 逾期应收 10:00")
            assert "PERMISSION_DENIED" in r[-1].body
            r = await chat.say(user(ADMIN), "/remind 设置 holidays 2030-10-01..2030-10-07")
            assert "已设置 节假日" in r[-1].body
        with reading(engine) as s:
            prefs = {p.kind: (p.enabled, p.time) for p in s.exec(select(ReminderPref)).all()}
            assert prefs == {"due_soon": (False, None), "overdue": (None, "08:30")}
            assert dt.date(2030, 10, 3) in load_knobs(s).holidays
        assert ids["sales"]

    run(scenario())


def test_the_job_is_scheduled_with_misfire_grace_and_can_be_switched_off(engine, settings):
    async def scenario():
        on = make_ctx(engine, company_settings(settings), reminders=True)
        async with LocalChat(on) as chat:
            [job] = chat.app.job_queue.get_jobs_by_name(JOB_NAME)
            assert job.job.misfire_grace_time == MISFIRE_GRACE_SECONDS and job.job.coalesce
            assert job.job.max_instances == 1
        off = make_ctx(engine, company_settings(settings), reminders=False)
        async with LocalChat(off) as chat:
            assert chat.app.job_queue.get_jobs_by_name(JOB_NAME) == ()

    run(scenario())


def test_snoozed_customer_is_left_out_of_the_next_run(engine, settings):
    ids = seed_company(engine)
    morning = next_working_morning()
    with transaction(engine) as s:
        record_follow_up(
            s, party_id=ids["huawei"], staff_id=ids["sales"], today=morning.date(), days=3, note="已跟进"
        )

    async def scenario():
        ctx = make_ctx(engine, company_settings(settings), reminders=False)
        async with LocalChat(ctx) as chat:
            mark = chat.api.mark()
            await run_due(engine, chat.app.bot, now=morning, tz=TZ, limiter=limiter())
            assert not [m for m in chat.api.since(mark, SALES) if "逾期应收" in m.body]
            # the manager still hears about the 45-day debt, with the follow-up
            esc = await chat.api.wait_for("逾期升级", chat_id=MANAGER, after=mark)
            assert "最近跟进：钱销售" in esc.body

    run(scenario())
    with reading(engine) as s:
        rows = s.exec(select(DeliveryLog).where(DeliveryLog.recipient == ids["sales"])).all()
        assert {(r.kind, r.status) for r in rows} >= {("overdue", "empty")}


def test_remind_now_cli_sends_once_through_the_bot_api(engine, settings, capsys):
    """``main.py remind --now`` speaks HTTP to a Bot API (here the local stand-in, in its own thread)."""
    import asyncio
    import threading

    from bot.fakeapi import FakeBotApi
    from scheduler.cli import send_now

    ids = seed_company(engine)
    loop = asyncio.new_event_loop()
    api = FakeBotApi()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(api.start(), loop).result(10)
        cfg = company_settings(settings).model_copy(
            update={"telegram_bot_token": "7000000001:LOCAL", "telegram_base_url": api.base_url}
        )
        morning = next_working_morning()
        assert send_now(engine, cfg, now=morning, as_json=False) == 0
        first = capsys.readouterr().out
        sent = [m for m in api.messages.values()]
        assert "已发送" in first and any("逾期应收提醒" in (m.text or "") for m in sent)
        assert send_now(engine, cfg, now=morning + dt.timedelta(minutes=5), as_json=False) == 0
        assert "没有到期的提醒" in capsys.readouterr().out
        assert len(api.messages) == len(sent)  # nothing new the second time
        assert {m.chat_id for m in sent} >= {SALES, MANAGER}
    finally:
        asyncio.run_coroutine_threadsafe(api.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
    assert ids
