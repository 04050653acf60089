"""Scheduled reminders on a controlled clock: who hears what on which day, exactly once.

The clock is passed in (``now``); nothing sleeps. Sending goes to ``RecordingBot``,
a stand-in for telegram.Bot that records each message and raises
telegram.error.Forbidden for the chats that "blocked the bot".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select
from telegram.error import Forbidden, TimedOut

from erp.db import make_engine, reading, transaction
from erp.models import (
    DeliveryLog,
    Invoice,
    Party,
    Product,
    Settlement,
    StockMove,
    Voucher,
    Warehouse,
)
from erp.reminders import (
    Knobs,
    is_month_end,
    is_working_day,
    load_knobs,
    plan,
    record_follow_up,
    set_knob,
    set_pref,
)
from erp.staff import add_staff
from scheduler.delivery import LEASE, RateLimiter, claim, run_due
from scheduler.texts import MAX_CHARS, render

TZ = ZoneInfo("Asia/Shanghai")
D = Decimal
MONDAY = dt.date(2024, 6, 3)


def at(text: str) -> dt.datetime:
    """A local (Shanghai) wall-clock time, as the aware datetime the jobs get."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


# --- stand-ins at the Telegram boundary -------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def limiter(clock: FakeClock | None = None) -> RateLimiter:
    clock = clock or FakeClock()
    return RateLimiter(clock=clock, sleep=clock.sleep)


class RecordingBot:
    """Records send_message calls; chats in ``blocked`` raise Forbidden like a blocked bot."""

    def __init__(self, blocked: set[int] = frozenset(), clock: FakeClock | None = None) -> None:
        self.sent: list[SimpleNamespace] = []
        self.blocked = set(blocked)
        self.clock = clock
        self.flaky: set[int] = set()

    async def send_message(self, chat_id: int, text: str, reply_markup=None, **kw):
        if chat_id in self.blocked:
            raise Forbidden("Forbidden: bot was blocked by the user")
        if chat_id in self.flaky:
            self.flaky.discard(chat_id)
            raise TimedOut()
        self.sent.append(
            SimpleNamespace(
                chat_id=chat_id, text=text, markup=reply_markup, at=self.clock() if self.clock else None
            )
        )
        return SimpleNamespace(message_id=len(self.sent))

    def to(self, chat_id: int) -> list[str]:
        return [m.text for m in self.sent if m.chat_id == chat_id]


def send(engine, now: dt.datetime, bot: RecordingBot, clock: FakeClock | None = None):
    return asyncio.run(run_due(engine, bot, now=now, tz=TZ, limiter=limiter(clock)))


# --- a small company ----------------------------------------------------------------

REP1, REP2, BOSS, WAREHOUSE, ACCOUNTANT = 101, 102, 201, 301, 401


_numbers = itertools.count(1)


def invoice(s: Session, party: Party, total: str, due: dt.date, *, direction: str = "sales") -> Invoice:
    n = next(_numbers)
    inv = Invoice(
        direction=direction,
        number=f"2432000000000{n:07d}",
        dedup_key=f"test:{n}",
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        party_id=party.id,
        total=D(total),
        total_amount=D(total),
        status="posted",
    )
    s.add(inv)
    s.flush()
    return inv


def build(engine) -> SimpleNamespace:
    """Monday 2024-06-03: overdue at 1, 3, 7 and 33 days, one due in 2 days, low stock,
    a payable due in 4 days, a voucher waiting two days for approval."""
    with transaction(engine) as s:
        rep1 = add_staff(s, telegram_id=REP1, name="王销售", role="sales")
        rep2 = add_staff(s, telegram_id=REP2, name="李销售", role="sales")
        boss = add_staff(s, telegram_id=BOSS, name="赵经理", role="manager")
        add_staff(s, telegram_id=WAREHOUSE, name="孙仓管", role="warehouse")
        add_staff(s, telegram_id=ACCOUNTANT, name="钱会计", role="accountant")
        hw = Party(kind="customer", name="深圳华为技术有限公司", short_name="华为", sales_rep_id=rep1.id)
        zte = Party(kind="customer", name="中兴通讯股份有限公司", short_name="中兴", sales_rep_id=rep2.id)
        mi = Party(kind="customer", name="小米科技有限责任公司", short_name="小米")
        sup = Party(kind="supplier", name="上海元件供应有限公司", short_name="元件供应")
        for p in (hw, zte, mi, sup):
            s.add(p)
        s.flush()
        invoice(s, hw, "5000.00", dt.date(2024, 6, 2))  # 1 day overdue
        invoice(s, hw, "20000.00", dt.date(2024, 5, 1))  # 33 days: managers hear too
        invoice(s, zte, "3000.00", dt.date(2024, 5, 27))  # 7 days
        invoice(s, zte, "1000.00", dt.date(2024, 6, 5))  # due in 2 days
        invoice(s, mi, "800.00", dt.date(2024, 5, 31))  # 3 days, nobody's customer
        invoice(s, sup, "9000.00", dt.date(2024, 6, 7), direction="purchase")  # payable in 4 days
        invoice(s, sup, "100.00", dt.date(2024, 6, 30), direction="purchase")  # beyond 7 days
        wh = s.exec(select(Warehouse)).first()
        widget = Product(sku="A001", name="电阻器", unit="个", min_stock=D("10"))
        plenty = Product(sku="A002", name="电容器", unit="个", min_stock=D("10"))
        s.add(widget)
        s.add(plenty)
        s.flush()
        for p, q in ((widget, "3"), (plenty, "50")):
            s.add(
                StockMove(
                    product_id=p.id,
                    warehouse_id=wh.id,
                    quantity=D(q),
                    move_date=dt.date(2024, 5, 1),
                    kind="opening",
                )
            )
        s.add(
            Voucher(
                period="2024-06",
                seq=1,
                number="记-202406-0001",
                date=dt.date(2024, 6, 1),
                summary="采购大额设备",
                total=D("60000.00"),
                status="draft",
                approval_requested_at=dt.datetime(
                    2024, 6, 1, 2, 0, tzinfo=dt.UTC
                ),  # UTC, 47 h before Monday 09:00
            )
        )
        s.add(
            Voucher(
                period="2024-06",
                seq=2,
                number="记-202406-0002",
                date=dt.date(2024, 6, 2),
                summary="刚提交",
                total=D("70000.00"),
                status="draft",
                approval_requested_at=dt.datetime(2024, 6, 2, 20, 0, tzinfo=dt.UTC),  # 5 h before
            )
        )
        s.flush()
        return SimpleNamespace(
            rep1=rep1.id, rep2=rep2.id, boss=boss.id, hw=hw.id, zte=zte.id, mi=mi.id, sup=sup.id
        )


@pytest.fixture
def book(engine):
    return build(engine)


def kinds_by_chat(reminders) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for r in reminders:
        if not r.empty:
            out.setdefault(r.chat_id, set()).add(r.kind)
    return out


def log_rows(engine) -> list[DeliveryLog]:
    with reading(engine) as s:
        rows = list(s.exec(select(DeliveryLog).order_by(DeliveryLog.id)).all())
        s.expunge_all()
        return rows


# --- the right people, the right day ----------------------------------------------


def test_monday_morning_each_role_hears_its_own(engine, book):
    with reading(engine) as s:
        due = plan(s, now=at("2024-06-03 09:00"), tz=TZ)
    assert kinds_by_chat(due) == {
        REP1: {"overdue"},
        REP2: {"overdue", "due_soon"},
        BOSS: {"overdue", "escalation", "approvals", "digest"},
        WAREHOUSE: {"low_stock"},
        ACCOUNTANT: {"payables"},
    }
    by = {(r.chat_id, r.kind): r for r in due}
    rep1 = by[(REP1, "overdue")]
    assert [d.name for d in rep1.payload] == ["华为"]
    assert sorted(i.days_overdue for i in rep1.payload[0].invoices) == [1, 33]
    assert rep1.payload[0].total == D("25000.00")
    assert [(d.name, d.max_days) for d in by[(REP2, "overdue")].payload] == [("中兴", 7)]
    assert [(d.name, d.min_days) for d in by[(REP2, "due_soon")].payload] == [("中兴", -2)]
    # the manager hears about customers without a rep, and about 30+ days for everyone
    assert [d.name for d in by[(BOSS, "overdue")].payload] == ["小米"]
    assert [(d.name, d.rep_name) for d in by[(BOSS, "escalation")].payload] == [("华为", "王销售")]
    assert [v.number for v in by[(BOSS, "approvals")].payload] == ["记-202406-0001"]
    assert [x.sku for x in by[(WAREHOUSE, "low_stock")].payload] == ["A001"]
    assert by[(WAREHOUSE, "low_stock")].payload[0].suggested_order == D("17")
    payables = by[(ACCOUNTANT, "payables")].payload
    assert [(d.name, [i.open for i in d.invoices]) for d in payables] == [("元件供应", [D("9000.00")])]

    text = render(rep1, load_knobs_default()).text
    assert "华为" in text and "25,000.00" in text and "逾期 33 天" in text and "逾期 1 天" in text
    buttons = render(rep1, load_knobs_default()).buttons
    assert [d for _, d in buttons[0]] == [f"rem:fu:{book.hw}", f"rem:pay:{book.hw}", f"rem:sz:{book.hw}"]


def load_knobs_default() -> Knobs:
    return Knobs()


def test_not_before_the_time_not_on_weekends_nor_holidays(engine, book):
    with reading(engine) as s:
        assert plan(s, now=at("2024-06-03 08:59"), tz=TZ) == []
        assert plan(s, now=at("2024-06-01 10:00"), tz=TZ) == []  # Saturday
        assert plan(s, now=at("2024-06-02 10:00"), tz=TZ) == []  # Sunday
    with transaction(engine) as s:
        set_knob(s, "holidays", "2024-06-10")  # 端午节
        set_knob(s, "workdays", "2024-06-08")  # a make-up Saturday, for the test's sake
    with reading(engine) as s:
        assert plan(s, now=at("2024-06-10 10:00"), tz=TZ) == []
        assert plan(s, now=at("2024-06-08 10:00"), tz=TZ) != []


def test_personal_time_and_switch_apply_without_restart(engine, book):
    with transaction(engine) as s:
        set_pref(s, book.rep1, "overdue", time="10:30")
        set_pref(s, book.rep2, "due_soon", enabled=False)
    with reading(engine) as s:
        early = kinds_by_chat(plan(s, now=at("2024-06-03 09:00"), tz=TZ))
        late = kinds_by_chat(plan(s, now=at("2024-06-03 10:30"), tz=TZ))
    assert REP1 not in early and late[REP1] == {"overdue"}
    assert early[REP2] == {"overdue"}


def test_escalation_reaches_managers_from_the_last_step(engine, book):
    with transaction(engine) as s:
        set_knob(s, "steps", "1,7,34")
    with reading(engine) as s:
        assert "escalation" not in kinds_by_chat(plan(s, now=at("2024-06-03 09:00"), tz=TZ))[BOSS]
        # a day later the invoice is 34 days overdue
        assert "escalation" in kinds_by_chat(plan(s, now=at("2024-06-04 09:00"), tz=TZ))[BOSS]


def test_receipt_takes_the_invoice_off_the_list(engine, book):
    from erp.receivables import settle
    from tests.factories import make_settings

    with transaction(engine) as s:
        settle(
            s,
            party=s.get(Party, book.zte),
            amount="3000.00",
            date=dt.date(2024, 6, 1),
            settings=make_settings(),
        )
    with reading(engine) as s:
        due = plan(s, now=at("2024-06-03 09:00"), tz=TZ)
    assert kinds_by_chat(due)[REP2] == {"due_soon"}  # the 7-day one is paid; the one due Wednesday is not


def test_morning_digest_covers_since_the_last_working_day(engine, book):
    from erp.receivables import settle
    from tests.factories import make_settings

    with transaction(engine) as s:
        settle(
            s,
            party=s.get(Party, book.hw),
            amount="5000.00",
            date=dt.date(2024, 6, 1),
            settings=make_settings(),
        )
        s.add(
            Settlement(kind="receipt", party_id=book.mi, date=dt.date(2024, 5, 30), amount=D("1.00"))
        )  # Thursday: not in Monday's digest
    with reading(engine) as s:
        digest = next(r for r in plan(s, now=at("2024-06-03 09:00"), tz=TZ) if r.kind == "digest").payload
    assert (digest.since, digest.until) == (dt.date(2024, 5, 31), dt.date(2024, 6, 2))
    assert (digest.receipts, digest.receipts_count) == (D("5000.00"), 1)
    # the receipt went oldest-first onto the 20000 invoice; newly overdue since Friday:
    # 小米 (due Fri 05-31) and 华为's 5000 (due Sun 06-02)
    assert (digest.new_overdue, digest.new_overdue_count) == (D("5800.00"), 2)
    assert digest.total_overdue == D("15000.00") + D("5000.00") + D("3000.00") + D("800.00")
    assert digest.cash == D("5000.00")  # the receipt went to 1002


def test_month_end_checklist_on_the_last_working_days(engine, book):
    knobs = Knobs()
    assert [d.day for d in _june() if is_month_end(d, knobs)] == [27, 28]  # Thu, Fri; 29-30 weekend
    with transaction(engine) as s:
        s.add(
            Settlement(
                kind="receipt",
                party_id=book.mi,
                date=dt.date(2024, 6, 20),
                amount=D("900"),
                unallocated=D("100"),
            )
        )
    with reading(engine) as s:
        assert "month_end" not in kinds_by_chat(plan(s, now=at("2024-06-26 09:00"), tz=TZ))[ACCOUNTANT]
        due = plan(s, now=at("2024-06-28 09:00"), tz=TZ)
    checklist = next(r for r in due if r.kind == "month_end" and r.chat_id == ACCOUNTANT)
    c = checklist.payload
    assert (c.period, c.drafts, c.awaiting_approval, c.unallocated_receipts, c.unallocated_amount) == (
        "2024-06",
        2,
        2,
        1,
        D("100.00"),
    )
    assert "未核销收款：1 笔" in render(checklist, knobs).text


def _june() -> list[dt.date]:
    return [dt.date(2024, 6, d) for d in range(1, 31)]


def test_working_days():
    knobs = Knobs(holidays=frozenset({dt.date(2024, 6, 10)}), workdays=frozenset({dt.date(2024, 6, 8)}))
    assert is_working_day(dt.date(2024, 6, 7), knobs)
    assert not is_working_day(dt.date(2024, 6, 9), knobs)
    assert not is_working_day(dt.date(2024, 6, 10), knobs)
    assert is_working_day(dt.date(2024, 6, 8), knobs)


# --- exactly once -----------------------------------------------------------------------


def test_double_run_and_restart_send_nothing_twice(engine, db_url, book):
    bot = RecordingBot()
    first = send(engine, at("2024-06-03 09:00"), bot)
    assert first.counts["sent"] == 9
    assert len(bot.sent) == 9
    send(engine, at("2024-06-03 09:01"), bot)  # the next tick
    restarted = make_engine(db_url)  # a new process, same database
    try:
        again = send(restarted, at("2024-06-03 11:00"), bot)
    finally:
        restarted.dispose()
    assert len(bot.sent) == 9
    assert again.outcomes == []
    rows = log_rows(engine)
    assert {r.status for r in rows} >= {"sent", "empty"}
    assert len({(r.kind, r.subject, r.recipient, r.date) for r in rows}) == len(rows)
    # one message per recipient and kind, not one per invoice
    assert sorted(len(bot.to(c)) for c in (REP1, REP2, BOSS, WAREHOUSE, ACCOUNTANT)) == [1, 1, 1, 2, 4]


def test_two_processes_at_once_send_each_message_once(engine, db_url, book):
    bot = RecordingBot()
    other = make_engine(db_url)

    async def both():
        now = at("2024-06-03 09:00")
        return await asyncio.gather(
            run_due(engine, bot, now=now, tz=TZ, limiter=limiter()),
            run_due(other, bot, now=now, tz=TZ, limiter=limiter()),
        )

    try:
        a, b = asyncio.run(both())
    finally:
        other.dispose()
    keys = [(m.chat_id, m.text.splitlines()[0]) for m in bot.sent]
    assert len(keys) == len(set(keys)) == 9
    assert a.counts["sent"] + b.counts["sent"] == 9


def test_claim_left_by_a_crashed_process_is_taken_after_the_lease(engine, book):
    now = at("2024-06-03 09:00")
    with reading(engine) as s:
        rep1 = next(r for r in plan(s, now=now, tz=TZ) if r.chat_id == REP1)
    assert claim(engine, rep1, token="crashed", now=now)  # claimed, then the process died
    bot = RecordingBot()
    send(engine, now + dt.timedelta(minutes=1), bot)
    assert bot.to(REP1) == []  # someone holds it: no duplicate while it may still be sending
    send(engine, now + LEASE + dt.timedelta(minutes=1), bot)
    assert len(bot.to(REP1)) == 1


def test_catch_up_after_three_days_down_sends_once_per_recipient_and_kind(engine, book):
    bot = RecordingBot()
    # Friday was the last run; the bot was down Monday to Wednesday and comes back Thursday 11:20;
    # the JobQueue fires the coalesced missed tick and then the next one.
    send(engine, at("2024-05-31 09:00"), bot)
    before = len(bot.sent)
    for minute in (20, 20, 21):
        send(engine, at(f"2024-06-06 11:{minute}"), bot)
    caught_up = bot.sent[before:]
    pairs = [(m.chat_id, m.text.splitlines()[0].split(" ")[0]) for m in caught_up]
    assert len(pairs) == len(set(pairs))  # one per recipient and kind, not three
    dates = {r.date for r in log_rows(engine)}
    assert dates == {dt.date(2024, 5, 31), dt.date(2024, 6, 6)}  # nothing for the days it was down
    assert [m.text.splitlines()[0] for m in caught_up if m.chat_id == REP1] == ["⏰ 逾期应收提醒 06月06日"]


def test_blocked_recipient_is_logged_and_does_not_stop_the_rest(engine, book):
    bot = RecordingBot(blocked={REP1, BOSS})
    report = send(engine, at("2024-06-03 09:00"), bot)
    assert report.counts["blocked"] == 5
    assert {m.chat_id for m in bot.sent} == {REP2, WAREHOUSE, ACCOUNTANT}
    blocked = [r for r in log_rows(engine) if r.status == "blocked"]
    assert {r.chat_id for r in blocked} == {REP1, BOSS}
    assert all("blocked" in (r.error or "") for r in blocked)
    bot.blocked.clear()
    send(engine, at("2024-06-03 10:00"), bot)  # not retried the same day: the user chose to block
    assert bot.to(REP1) == []


def test_network_error_is_retried_by_the_next_tick(engine, book):
    bot = RecordingBot()
    bot.flaky.add(WAREHOUSE)
    first = send(engine, at("2024-06-03 09:00"), bot)
    assert first.counts["retry"] == 1 and bot.to(WAREHOUSE) == []
    send(engine, at("2024-06-03 09:01"), bot)
    assert len(bot.to(WAREHOUSE)) == 1
    send(engine, at("2024-06-03 09:02"), bot)
    assert len(bot.to(WAREHOUSE)) == 1


def test_dry_run_plans_without_logging(engine, book, capsys):
    from scheduler.cli import dry_run
    from tests.factories import make_settings

    assert dry_run(engine, make_settings(), now=at("2024-06-03 09:00"), as_json=False) == 0
    out = capsys.readouterr().out
    assert "将发送 9 条提醒" in out and "王销售" in out and "[📞 已跟进·华为]" in out
    assert log_rows(engine) == []
    import json

    dry_run(engine, make_settings(), now=at("2024-06-03 09:00"), as_json=True)
    data = json.loads(capsys.readouterr().out)
    first = next(r for r in data["reminders"] if r["recipient"]["chat_id"] == REP1)
    assert first["payload"][0]["total"] == "25000.00"
    assert first["buttons"][0][0]["callback_data"] == f"rem:fu:{book.hw}"


# --- snooze and 已跟进 ---------------------------------------------------------------


def test_follow_up_snoozes_the_customer_then_reminders_resume(engine, book):
    with transaction(engine) as s:
        record_follow_up(s, party_id=book.hw, staff_id=book.rep1, today=MONDAY, days=3, note="已跟进")
    with reading(engine) as s:
        tue = plan(s, now=at("2024-06-04 09:00"), tz=TZ)
        wed = plan(s, now=at("2024-06-05 09:00"), tz=TZ)
        thu = plan(s, now=at("2024-06-06 09:00"), tz=TZ)
    assert REP1 not in kinds_by_chat(tue) and REP1 not in kinds_by_chat(wed)
    assert kinds_by_chat(thu)[REP1] == {"overdue"}
    # the manager still sees the 30-day debt, with who followed up
    esc = next(r for r in tue if r.kind == "escalation")
    assert esc.payload[0].last_follow_up.staff_name == "王销售"
    assert "最近跟进：王销售" in render(esc, Knobs()).text


# --- Telegram's limits ---------------------------------------------------------------


def test_long_lists_fit_in_one_message(engine, book):
    with transaction(engine) as s:
        for n in range(400):
            p = Party(kind="customer", name=f"测试客户{n:04d}有限公司", sales_rep_id=book.rep1)
            s.add(p)
            s.flush()
            invoice(s, p, f"{1000 + n}.00", dt.date(2024, 5, 20))
            invoice(s, p, "10.00", dt.date(2024, 5, 25))
    bot = RecordingBot()
    send(engine, at("2024-06-03 09:00"), bot)
    [text] = bot.to(REP1)
    assert len(text) <= MAX_CHARS
    assert "…另有" in text and "位客户" in text
    assert "401 位客户" in text


def test_rate_limits_overall_and_per_chat():
    clock = FakeClock()
    lim = limiter(clock)

    async def burst():
        times = []
        for chat in [1, 1, 2, 3, 1]:
            await lim.wait(chat)
            times.append((chat, clock.t))
        for chat in range(100, 160):
            await lim.wait(chat)
        return times

    times = asyncio.run(burst())
    ones = [t for c, t in times if c == 1]
    assert all(b - a >= 1.0 - 1e-9 for a, b in zip(ones, ones[1:], strict=False))
    # 65 messages at 30/s take at least ~2.1 s
    assert clock.t - 1000.0 >= 64 / 30 - 1e-9


def test_low_stock_goes_daily_until_restocked(engine, book):
    bot = RecordingBot()
    send(engine, at("2024-06-03 09:00"), bot)
    send(engine, at("2024-06-04 09:00"), bot)
    assert len(bot.to(WAREHOUSE)) == 2 and all("A001" in t for t in bot.to(WAREHOUSE))
    with transaction(engine) as s:
        widget = s.exec(select(Product).where(Product.sku == "A001")).one()
        wh = s.exec(select(Warehouse)).first()
        s.add(
            StockMove(
                product_id=widget.id,
                warehouse_id=wh.id,
                quantity=D("20"),
                move_date=dt.date(2024, 6, 4),
                kind="purchase",
            )
        )
    send(engine, at("2024-06-05 09:00"), bot)
    assert len(bot.to(WAREHOUSE)) == 2  # restocked: nothing more to say
    assert any(r.kind == "low_stock" and r.status == "empty" for r in log_rows(engine))


def test_a_late_catch_up_waits_for_the_next_morning(engine, book):
    with reading(engine) as s:
        assert plan(s, now=at("2024-06-03 21:30"), tz=TZ) == []
    with transaction(engine) as s:
        set_knob(s, "quiet_after", "22:00")
    with reading(engine) as s:
        assert plan(s, now=at("2024-06-03 21:30"), tz=TZ) != []


def test_month_end_moves_with_holidays():
    # 2024-09-30 is a Monday; with it a holiday the checklist comes on Thu 26 and Fri 27
    knobs = Knobs(holidays=frozenset({dt.date(2024, 9, 30)}))
    days = [dt.date(2024, 9, d) for d in range(1, 31)]
    assert [d.day for d in days if is_month_end(d, knobs)] == [26, 27]
    assert [d.day for d in days if is_month_end(d, Knobs())] == [27, 30]


def test_bad_settings_are_refused_and_nothing_is_stored(engine, book):
    from erp.errors import ErpError

    with transaction(engine) as s:
        for key, value in [("steps", "0,7"), ("time", "25:00"), ("holidays", "2024-13-01"), ("nope", "1")]:
            with pytest.raises(ErpError) as err:
                set_knob(s, key, value)
            assert err.value.code == "INVALID_INPUT"
        with pytest.raises(ErpError):
            set_pref(s, book.rep1, "overdue", time="9点半")
    with reading(engine) as s:
        assert load_knobs(s) == Knobs()


def test_every_kind_renders_within_telegram_limits(engine, book):
    with transaction(engine) as s:
        wh = s.exec(select(Warehouse)).first()
        for n in range(300):
            s.add(Product(sku=f"Z{n:04d}", name=f"很长名字的测试商品{n}", unit="件", min_stock=D("5")))
        s.flush()
    with reading(engine) as s:
        due = plan(s, now=at("2024-06-28 09:00"), tz=TZ)
    assert {r.kind for r in due} >= {"low_stock", "month_end", "digest", "overdue", "escalation"}
    for r in due:
        rendered = render(r, Knobs())
        assert 0 < len(rendered.text) <= MAX_CHARS
        assert all(len(d.encode()) <= 64 for row in rendered.buttons for _, d in row)
    assert wh is not None


def test_the_job_tick_sends_what_is_due_on_its_clock(engine, book):
    from bot.context import KEY, AppContext
    from scheduler.jobs import CLOCK_KEY, LIMITER_KEY, tick
    from tests.factories import make_settings

    clock = FakeClock()
    ctx = AppContext(
        settings=make_settings(),
        engine=engine,
        extras={CLOCK_KEY: lambda: at("2024-06-03 09:00"), LIMITER_KEY: limiter(clock)},
    )
    bot = RecordingBot()
    context = SimpleNamespace(bot=bot, bot_data={KEY: ctx})
    asyncio.run(tick(context))
    asyncio.run(tick(context))  # the next minute: nothing new
    assert len(bot.sent) == 9
    assert len(bot.to(BOSS)) == 4 and clock.t - 1000.0 >= 3.0  # one a second in the manager's chat


def test_questions_unanswered_for_a_working_day_reach_managers(engine, book):
    from erp.models import Staff, Ticket

    with transaction(engine) as s:
        asker = s.exec(select(Staff).where(Staff.telegram_id == REP1)).one()
        friday = dt.datetime(2024, 5, 31, 8, 0, tzinfo=TZ).astimezone(dt.UTC)
        s.add(
            Ticket(asker_id=asker.id, chat_id=REP1, question="红字确认单对方不确认怎么办", created_at=friday)
        )
        later = dt.datetime(2024, 5, 31, 10, 0, tzinfo=TZ).astimezone(dt.UTC)
        s.add(Ticket(asker_id=asker.id, chat_id=REP1, question="还没到一个工作日的问题", created_at=later))
    with reading(engine) as s:
        due = plan(s, now=at("2024-06-03 09:00"), tz=TZ)
    tickets = [r for r in due if r.kind == "tickets"]
    assert {r.chat_id for r in tickets} == {BOSS}
    assert [t.question for t in tickets[0].payload] == ["红字确认单对方不确认怎么办"]
    text = render(tickets[0], Knobs()).text
    assert "红字确认单" in text and "/tickets" in text and "还没到" not in text
