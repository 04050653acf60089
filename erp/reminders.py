"""Who should hear what on a given day: the business half of the scheduled follow-ups.

Everything here is a function over the database returning plain values; nothing
sends. ``scheduler/`` renders the values and sends them, and writes the delivery
log that makes each message go out once (``DeliveryLog``, keyed by kind, subject,
recipient and date).

The kinds and who hears them:

- ``overdue``    sales reps: their customers' overdue invoices (managers: customers without an active rep)
- ``due_soon``   the same people: invoices falling due in the next few days
- ``escalation`` managers: customers with an invoice at the last escalation step (30 days) or beyond
- ``low_stock``  warehouse staff: products below their minimum, with a suggested order
- ``payables``   accountants: supplier invoices due in the next N days (and overdue ones)
- ``approvals``  managers: vouchers waiting for approval longer than a day
- ``digest``     managers: sales, receipts and new overdue since the last working day; cash on hand
- ``month_end``  accountants and managers, on the last working days of a month: the closing checklist

Admins count as managers here. Every kind runs on working days only (weekends and
the configured holidays skipped; configured make-up working days 调休 included).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import String, and_, func, type_coerce
from sqlmodel import Session, select

from erp.db import cents_sum
from erp.errors import ErpError
from erp.models import (
    Allocation,
    DeliveryLog,
    FollowUp,
    Invoice,
    Party,
    ReminderDefault,
    ReminderPref,
    Settlement,
    Staff,
    Voucher,
)
from erp.reports import balance
from erp.stock import below_minimum
from values import clock
from values.money import from_cents

MANAGERS = ("manager", "admin")

# A claim still "sending" after this long belongs to a process that died: it may be taken again.
LEASE = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 3  # transient send errors ("retry") are tried again up to this many times


def is_settled(status: str, claimed_at: dt.datetime, attempts: int, now: dt.datetime) -> bool:
    """Whether a delivery-log row means "nothing more to do" for its key today."""
    if status == "retry":
        return attempts >= MAX_ATTEMPTS
    if status == "sending":
        if claimed_at.tzinfo is None:
            claimed_at = claimed_at.replace(tzinfo=dt.UTC)
        return claimed_at >= now - LEASE
    return True


@dataclass(frozen=True)
class Kind:
    code: str
    name: str
    roles: tuple[str, ...]
    about: str


KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        Kind("overdue", "逾期应收", ("sales", *MANAGERS), "每个工作日早上：名下客户的逾期发票"),
        Kind("due_soon", "即将到期", ("sales", *MANAGERS), "未来几天到期的应收，可以提前打电话"),
        Kind("escalation", "逾期升级", MANAGERS, "逾期达到最后一级（默认30天）的客户"),
        Kind("low_stock", "库存不足", ("warehouse",), "低于最低库存的商品及建议补货量"),
        Kind("payables", "应付到期", ("accountant",), "未来几天到期的供应商发票"),
        Kind("approvals", "待审批凭证", MANAGERS, "等待审批超过一天的凭证"),
        Kind("digest", "经理晨报", MANAGERS, "昨日销售、收款、新增逾期、货币资金"),
        Kind("month_end", "月末结账清单", ("accountant", *MANAGERS), "月末最后几个工作日的结账检查"),
        Kind("tickets", "待回复问题", MANAGERS, "超过一个工作日没人回复的员工提问（转人工）"),
    )
}


# --- settings: company defaults and personal preferences ----------------------

KNOB_DEFAULTS: dict[str, str] = {
    "time": "09:00",  # default time of day for every kind
    "steps": "1,7,30",  # escalation steps in days overdue; the first starts reminders, the last tells managers
    "due_soon_days": "3",
    "payable_days": "7",
    "snooze_days": "3",  # 已跟进 quiets a customer this long
    "approval_hours": "24",
    "month_end_days": "2",  # the checklist on the last N working days of the month
    "holidays": "",  # comma-separated dates or ranges: 2024-10-01..2024-10-07
    "workdays": "",  # make-up working days on a weekend (调休)
    "quiet_after": "21:00",  # a catch-up later than this waits for the next working day
}

KNOB_NAMES = {
    "time": "默认提醒时间",
    "steps": "逾期升级天数",
    "due_soon_days": "即将到期提前天数",
    "payable_days": "应付提前天数",
    "snooze_days": "已跟进后暂停天数",
    "approval_hours": "审批等待小时数",
    "month_end_days": "月末清单天数",
    "holidays": "节假日",
    "workdays": "调休上班日",
    "quiet_after": "最晚发送时间",
}


def parse_time(text: str) -> dt.time:
    """'9:00', '09:00', '0900', '9点' -> time; ErpError INVALID_INPUT otherwise."""
    t = text.strip().replace("：", ":").rstrip("点")
    try:
        if ":" in t:
            h, m = t.split(":", 1)
        elif len(t) in (3, 4) and t.isdigit():
            h, m = t[:-2], t[-2:]
        else:
            h, m = t, "0"
        value = dt.time(int(h), int(m))
    except ValueError as exc:
        raise ErpError("INVALID_INPUT", why=f"时间「{text}」无效，请用 24 小时制，例如 08:30") from exc
    return value


def parse_dates(text: str) -> frozenset[dt.date]:
    """'2024-10-01..2024-10-07, 2024-06-10' -> the set of dates."""
    out: set[dt.date] = set()
    for part in text.replace("，", ",").replace(" ", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if ".." in part:
                a, b = (dt.date.fromisoformat(x.strip()) for x in part.split("..", 1))
                if b < a or (b - a).days > 366:
                    raise ValueError(part)
                out.update(a + dt.timedelta(days=i) for i in range((b - a).days + 1))
            else:
                out.add(dt.date.fromisoformat(part))
        except ValueError as exc:
            raise ErpError(
                "INVALID_INPUT", why=f"日期「{part}」无效，例如 2024-10-01 或 2024-10-01..2024-10-07"
            ) from exc
    return frozenset(out)


@dataclass(frozen=True)
class Knobs:
    time: dt.time = dt.time(9, 0)
    steps: tuple[int, ...] = (1, 7, 30)
    due_soon_days: int = 3
    payable_days: int = 7
    snooze_days: int = 3
    approval_hours: int = 24
    month_end_days: int = 2
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    quiet_after: dt.time = dt.time(21, 0)

    @property
    def manager_step(self) -> int:
        return self.steps[-1]


def _knob_value(key: str, text: str) -> object:
    if key in ("time", "quiet_after"):
        return parse_time(text)
    if key in ("holidays", "workdays"):
        return parse_dates(text)
    if key == "steps":
        try:
            steps = tuple(sorted({int(x) for x in text.replace("，", ",").split(",") if x.strip()}))
        except ValueError as exc:
            raise ErpError("INVALID_INPUT", why=f"升级天数「{text}」无效，例如 1,7,30") from exc
        if not steps or steps[0] < 1:
            raise ErpError("INVALID_INPUT", why="升级天数至少一个，且都大于 0，例如 1,7,30")
        return steps
    try:
        number = int(text)
    except ValueError as exc:
        raise ErpError("INVALID_INPUT", why=f"{KNOB_NAMES.get(key, key)}「{text}」应为整数") from exc
    if number < 0 or number > 366:
        raise ErpError("INVALID_INPUT", why=f"{KNOB_NAMES.get(key, key)}应在 0 到 366 之间")
    return number


def load_knobs(session: Session) -> Knobs:
    rows = session.exec(select(ReminderDefault).where(ReminderDefault.kind == "*")).all()
    values = {r.key: r.value for r in rows if r.key in KNOB_DEFAULTS}
    return Knobs(**{k: _knob_value(k, values.get(k, v)) for k, v in KNOB_DEFAULTS.items()})


def _upsert_default(session: Session, kind: str, key: str, value: str, actor_id: int | None) -> None:
    row = session.exec(
        select(ReminderDefault).where(ReminderDefault.kind == kind, ReminderDefault.key == key)
    ).first()
    if row is None:
        row = ReminderDefault(kind=kind, key=key)
    row.value, row.updated_by, row.updated_at = value, actor_id, clock.now()
    session.add(row)
    session.flush()


def set_knob(session: Session, key: str, text: str, *, actor_id: int | None = None) -> object:
    """Admin: change a company-wide setting; validated before it is stored."""
    if key not in KNOB_DEFAULTS:
        raise ErpError("INVALID_INPUT", why=f"没有设置项 {key}，可选：{', '.join(KNOB_DEFAULTS)}")
    value = _knob_value(key, text)
    _upsert_default(session, "*", key, text.strip(), actor_id)
    return value


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ErpError("INVALID_INPUT", why=f"提醒类型 {kind} 无效，可选：{', '.join(KINDS)}")


def set_default(
    session: Session,
    kind: str,
    *,
    enabled: bool | None = None,
    time: str | None = None,
    actor_id: int | None = None,
) -> None:
    """Admin: the company default of one kind (on/off, time of day)."""
    _check_kind(kind)
    if enabled is not None:
        _upsert_default(session, kind, "enabled", "1" if enabled else "0", actor_id)
    if time is not None:
        _upsert_default(session, kind, "time", parse_time(time).strftime("%H:%M"), actor_id)


def set_pref(
    session: Session,
    staff_id: int,
    kind: str,
    *,
    enabled: bool | None = None,
    time: str | None = None,
    reset: bool = False,
) -> ReminderPref:
    """A staff member's own choice for one kind; ``reset`` goes back to the default."""
    _check_kind(kind)
    pref = session.exec(
        select(ReminderPref).where(ReminderPref.staff_id == staff_id, ReminderPref.kind == kind)
    ).first()
    if pref is None:
        pref = ReminderPref(staff_id=staff_id, kind=kind)
    if reset:
        pref.enabled, pref.time = None, None
    if enabled is not None:
        pref.enabled = enabled
    if time is not None:
        pref.time = parse_time(time).strftime("%H:%M")
    pref.updated_at = clock.now()
    session.add(pref)
    session.flush()
    return pref


@dataclass(frozen=True)
class Pref:
    kind: str
    enabled: bool
    time: dt.time
    personal: bool  # the staff member changed it (else the company default applies)


def kind_defaults(session: Session, knobs: Knobs | None = None) -> dict[str, tuple[bool, dt.time]]:
    knobs = knobs or load_knobs(session)
    out = {k: (True, knobs.time) for k in KINDS}
    for r in session.exec(select(ReminderDefault).where(ReminderDefault.kind != "*")).all():
        if r.kind not in out:
            continue
        enabled, time = out[r.kind]
        if r.key == "enabled":
            enabled = r.value == "1"
        elif r.key == "time":
            time = parse_time(r.value)
        out[r.kind] = (enabled, time)
    return out


def kinds_for(staff: Staff) -> list[str]:
    return [k for k, info in KINDS.items() if staff.role in info.roles]


def prefs_of(
    session: Session,
    staff: Staff,
    *,
    defaults: dict[str, tuple[bool, dt.time]] | None = None,
    personal: dict[str, ReminderPref] | None = None,
) -> dict[str, Pref]:
    """What applies to this staff member, kind by kind (only the kinds of their role)."""
    defaults = defaults if defaults is not None else kind_defaults(session)
    if personal is None:
        personal = {
            p.kind: p
            for p in session.exec(select(ReminderPref).where(ReminderPref.staff_id == staff.id)).all()
        }
    out = {}
    for kind in kinds_for(staff):
        enabled, time = defaults[kind]
        own = personal.get(kind)
        mine = own is not None and (own.enabled is not None or own.time is not None)
        if own is not None and own.enabled is not None:
            enabled = own.enabled
        if own is not None and own.time is not None:
            time = parse_time(own.time)
        out[kind] = Pref(kind, enabled, time, mine)
    return out


# --- the calendar --------------------------------------------------------------


def is_working_day(day: dt.date, knobs: Knobs) -> bool:
    if day in knobs.workdays:
        return True
    return day.weekday() < 5 and day not in knobs.holidays


def previous_working_day(day: dt.date, knobs: Knobs) -> dt.date:
    d = day - dt.timedelta(days=1)
    for _ in range(60):
        if is_working_day(d, knobs):
            return d
        d -= dt.timedelta(days=1)
    return day - dt.timedelta(days=1)


def is_month_end(day: dt.date, knobs: Knobs) -> bool:
    """True on the last ``month_end_days`` working days of the month."""
    if not is_working_day(day, knobs) or knobs.month_end_days <= 0:
        return False
    later, d = 0, day + dt.timedelta(days=1)
    while d.month == day.month:
        if is_working_day(d, knobs):
            later += 1
        d += dt.timedelta(days=1)
    return later < knobs.month_end_days


def applies_on(kind: str, day: dt.date, knobs: Knobs) -> bool:
    if not is_working_day(day, knobs):
        return False
    return kind != "month_end" or is_month_end(day, knobs)


# --- follow-ups and snoozes ----------------------------------------------------


def record_follow_up(
    session: Session,
    *,
    party_id: int,
    staff_id: int | None,
    today: dt.date,
    days: int,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> FollowUp:
    """已跟进 / 稍后提醒: a note of who chased whom and when; the customer is quiet until
    ``today + days`` (reminders start again on that day)."""
    if session.get(Party, party_id) is None:
        raise ErpError("NOT_FOUND", what="客户", key=party_id)
    fu = FollowUp(
        party_id=party_id,
        staff_id=staff_id,
        at=now or clock.now(),
        note=note,
        snooze_until=today + dt.timedelta(days=days) if days > 0 else None,
    )
    session.add(fu)
    session.flush()
    return fu


def snoozed_until(session: Session, today: dt.date) -> dict[int, dt.date]:
    """Customers that are quiet today, with the day their reminders start again."""
    rows = session.exec(
        select(FollowUp.party_id, func.max(FollowUp.snooze_until))
        .where(FollowUp.snooze_until > today)  # type: ignore[operator]
        .group_by(FollowUp.party_id)
    ).all()
    return {pid: (dt.date.fromisoformat(d) if isinstance(d, str) else d) for pid, d in rows}


@dataclass(frozen=True)
class FollowUpNote:
    staff_name: str | None
    at: dt.datetime
    note: str | None


def last_follow_ups(session: Session, party_ids: list[int]) -> dict[int, FollowUpNote]:
    if not party_ids:
        return {}
    latest = (
        select(FollowUp.party_id.label("pid"), func.max(FollowUp.id).label("fid"))
        .where(FollowUp.party_id.in_(party_ids))  # type: ignore[attr-defined]
        .group_by(FollowUp.party_id)
        .subquery()
    )
    rows = session.exec(
        select(FollowUp.party_id, Staff.name, FollowUp.at, FollowUp.note)
        .join(latest, latest.c.fid == FollowUp.id)
        .outerjoin(Staff, Staff.id == FollowUp.staff_id)
    ).all()
    return {pid: FollowUpNote(name, at, note) for pid, name, at, note in rows}


# --- what is owed --------------------------------------------------------------


@dataclass(slots=True)
class DueInvoice:
    invoice_id: int
    number: str
    due_date: dt.date
    cents: int  # what is still open, in cents (Decimal only when shown: a big book has 100k of these)
    days_overdue: int  # negative: days until due

    @property
    def open(self) -> Decimal:
        return Decimal(self.cents).scaleb(-2)


@dataclass
class PartyDue:
    """One customer's (or supplier's) invoices that a reminder is about, oldest first."""

    party_id: int
    name: str
    rep_id: int | None
    invoices: list[DueInvoice] = field(default_factory=list)
    last_follow_up: FollowUpNote | None = None
    rep_name: str | None = None

    @property
    def total_cents(self) -> int:
        return sum(i.cents for i in self.invoices)

    @property
    def total(self) -> Decimal:
        return Decimal(self.total_cents).scaleb(-2)

    @property
    def max_days(self) -> int:
        return max(i.days_overdue for i in self.invoices)

    @property
    def min_days(self) -> int:
        return min(i.days_overdue for i in self.invoices)


def _as_date(value: object) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[return-value]


def open_due_by_party(
    session: Session, *, today: dt.date, side: str = "receivable", horizon_days: int = 0
) -> dict[int, PartyDue]:
    """Every positive open item due on or before ``today + horizon_days``, per party, oldest first.

    The same figures as ``erp.receivables.open_items`` (total minus live allocations),
    filtered by due date in SQL. One pass over the invoices joined to their
    allocations and grouped per invoice: on SQLite that is a scan in rowid order
    with an index lookup per invoice, several times faster than joining a grouped
    allocation subquery (which walks the due-date index and then the table at random).
    """
    direction = "sales" if side == "receivable" else "purchase"
    horizon = today + dt.timedelta(days=horizon_days)
    due = func.coalesce(Invoice.due_date, Invoice.issue_date)
    open_c = func.round(Invoice.total * 100) - cents_sum(Allocation.amount)
    stmt = (
        # as text: SQLite's date result processor costs more than the rest of the row
        select(Invoice.id, Invoice.party_id, Invoice.number, type_coerce(due, String), open_c)
        .outerjoin(
            Allocation,
            and_(Allocation.invoice_id == Invoice.id, Allocation.void == False),  # noqa: E712
        )
        .where(Invoice.direction == direction, Invoice.status == "posted", due <= horizon)
        .group_by(Invoice.id)
        .having(open_c > 0)
    )
    # Core, not ORM, execution: 100k plain tuples without the ORM's per-row bookkeeping
    rows = session.connection().execute(stmt).all()
    if not rows:
        return {}
    kinds = ("customer", "both") if side == "receivable" else ("supplier", "both")
    parties = {
        pid: (short or name, rep)
        for pid, name, short, rep in session.connection()
        .execute(
            select(Party.id, Party.name, Party.short_name, Party.sales_rep_id).where(
                Party.kind.in_(kinds)  # type: ignore[attr-defined]
            )
        )
        .all()
    }
    dates: dict[object, tuple[dt.date, int]] = {}  # a few hundred distinct due dates
    out: dict[int, PartyDue] = {}
    for iid, pid, number, due_raw, cents in rows:
        hit = dates.get(due_raw)
        if hit is None:
            day = _as_date(due_raw)
            hit = dates[due_raw] = (day, (today - day).days)
        entry = out.get(pid)
        if entry is None:
            name, rep = parties.get(pid) or (f"#{pid}", None)
            entry = out[pid] = PartyDue(pid, name, rep)
        # SQL rounded already: a float here is integral (SQLite's ROUND returns REAL)
        entry.invoices.append(DueInvoice(iid, number, hit[0], int(cents), hit[1]))
    for entry in out.values():
        entry.invoices.sort(key=lambda i: (i.due_date, i.invoice_id))
    return out


def split_overdue(
    dues: dict[int, PartyDue], *, first_step: int
) -> tuple[dict[int, PartyDue], dict[int, PartyDue]]:
    """(overdue at least ``first_step`` days, due soon: not yet due) — pure."""
    overdue, soon = {}, {}
    for pid, d in dues.items():
        late, coming = [], []
        for i in d.invoices:
            if i.days_overdue >= first_step:
                late.append(i)
            elif i.days_overdue <= 0:
                coming.append(i)
        if late:
            overdue[pid] = PartyDue(d.party_id, d.name, d.rep_id, late, d.last_follow_up)
        if coming:
            soon[pid] = PartyDue(d.party_id, d.name, d.rep_id, coming, d.last_follow_up)
    return overdue, soon


def step_of(days_overdue: int, steps: tuple[int, ...]) -> int:
    """Escalation level: 0 below the first step, then 1, 2, ... (len(steps) = managers told)."""
    return sum(1 for s in steps if days_overdue >= s)


@dataclass(frozen=True)
class LowItem:
    """A product below its minimum, as plain values (outlives the session)."""

    product_id: int
    sku: str
    name: str
    spec: str | None
    unit: str
    on_hand: Decimal
    minimum: Decimal
    suggested_order: Decimal


def low_stock(session: Session) -> list[LowItem]:
    """``erp.stock.below_minimum``, worst shortfall first, with the suggested reorder quantity."""
    out = []
    for x in below_minimum(session):
        p = x.product
        out.append(
            LowItem(p.id, p.sku, p.name, p.spec, p.unit or "", x.on_hand, x.minimum, x.suggested_order)
        )
    return out


@dataclass
class WaitingVoucher:
    voucher_id: int
    number: str
    date: dt.date
    summary: str
    total: Decimal
    hours_waiting: int


def awaiting_approval(session: Session, *, now: dt.datetime, hours: int) -> list[WaitingVoucher]:
    """Draft vouchers whose approval was requested more than ``hours`` ago, longest waiting first."""
    cutoff = now.astimezone(dt.UTC) - dt.timedelta(hours=hours)
    rows = session.exec(
        select(Voucher)
        .where(
            Voucher.status == "draft",
            Voucher.approval_requested_at.is_not(None),  # type: ignore[union-attr]
            Voucher.approval_requested_at <= cutoff,  # type: ignore[operator]
        )
        .order_by(Voucher.approval_requested_at, Voucher.id)
    ).all()
    out = []
    for v in rows:
        asked = v.approval_requested_at
        waited = int((now - asked).total_seconds() // 3600)
        out.append(WaitingVoucher(v.id, v.number, v.date, v.summary, v.total, waited))
    return out


@dataclass
class Digest:
    since: dt.date  # first day covered
    until: dt.date  # last day covered (yesterday)
    sales: Decimal
    sales_count: int
    receipts: Decimal
    receipts_count: int
    new_overdue: Decimal
    new_overdue_count: int
    total_overdue: Decimal
    cash: Decimal


def morning_digest(
    session: Session, *, today: dt.date, knobs: Knobs, dues: dict[int, PartyDue] | None = None
) -> Digest:
    """From the last working day up to yesterday (a Monday covers Friday to Sunday).

    ``dues``: the receivables of ``open_due_by_party`` when the caller has them already.
    """
    since = previous_working_day(today, knobs)
    until = today - dt.timedelta(days=1)
    sales_c, sales_n = session.exec(
        select(cents_sum(Invoice.total), func.count(Invoice.id)).where(
            Invoice.direction == "sales",
            Invoice.status == "posted",
            Invoice.issue_date >= since,
            Invoice.issue_date <= until,
        )
    ).one()
    rec_c, rec_n = session.exec(
        select(cents_sum(Settlement.amount), func.count(Settlement.id)).where(
            Settlement.kind == "receipt",
            Settlement.status == "posted",
            Settlement.date >= since,
            Settlement.date <= until,
        )
    ).one()
    if dues is None:
        dues = open_due_by_party(session, today=today, horizon_days=-1)
    items = [i for d in dues.values() for i in d.invoices if i.days_overdue >= 1]
    # newly overdue: the first overdue day fell in (since, today], i.e. due in [since, today)
    new = [i for i in items if since <= i.due_date < today]
    cash = balance(session, "1001", until=today) + balance(session, "1002", until=today)
    return Digest(
        since,
        until,
        from_cents(sales_c),
        int(sales_n),
        from_cents(rec_c),
        int(rec_n),
        from_cents(sum(i.cents for i in new)),
        len(new),
        from_cents(sum(i.cents for i in items)),
        cash,
    )


@dataclass
class Checklist:
    period: str
    drafts: int  # vouchers not yet posted (draft or approved)
    awaiting_approval: int
    unallocated_receipts: int
    unallocated_amount: Decimal

    @property
    def clean(self) -> bool:
        return not (self.drafts or self.awaiting_approval or self.unallocated_receipts)


def month_end_checklist(session: Session, *, today: dt.date) -> Checklist:
    """Unposted vouchers up to this month, those waiting for approval, receipts not fully allocated."""
    period = today.strftime("%Y-%m")
    drafts = session.exec(
        select(func.count(Voucher.id)).where(
            Voucher.status.in_(("draft", "approved")),  # type: ignore[attr-defined]
            Voucher.period <= period,
        )
    ).one()
    waiting = session.exec(
        select(func.count(Voucher.id)).where(
            Voucher.status == "draft",
            Voucher.approval_requested_at.is_not(None),  # type: ignore[union-attr]
            Voucher.period <= period,
        )
    ).one()
    n, c = session.exec(
        select(func.count(Settlement.id), cents_sum(Settlement.unallocated)).where(
            Settlement.kind == "receipt", Settlement.status == "posted", Settlement.unallocated > 0
        )
    ).one()
    return Checklist(period, int(drafts), int(waiting), int(n), from_cents(c))


# --- the plan: who hears what, now ---------------------------------------------


@dataclass
class Reminder:
    """One message to one staff member. ``payload`` is empty when there is nothing to say
    (still logged, so the job does not ask again that day)."""

    kind: str
    subject: str
    recipient: int  # Staff.id
    chat_id: int  # Staff.telegram_id
    name: str
    date: dt.date
    payload: object

    @property
    def empty(self) -> bool:
        p = self.payload
        if isinstance(p, list):
            return not p
        if isinstance(p, Checklist):
            return False  # "all clear" is worth saying at month end
        return p is None

    @property
    def items(self) -> int:
        return len(self.payload) if isinstance(self.payload, list) else (0 if self.payload is None else 1)


def subject_of(kind: str, staff: Staff, day: dt.date) -> str:
    if kind in ("overdue", "due_soon"):
        return "own" if staff.role == "sales" else "unassigned"
    if kind == "month_end":
        return day.strftime("%Y-%m")
    return kind


def local_now(now: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(tz)


def due_slots(
    session: Session,
    *,
    now: dt.datetime,
    tz: dt.tzinfo,
    knobs: Knobs | None = None,
    skip_logged: bool = True,
) -> dict[str, list[Staff]]:
    """kind -> staff whose reminder of that kind is due at ``now`` and not yet in the log today."""
    knobs = knobs or load_knobs(session)
    local = local_now(now, tz)
    today = local.date()
    if local.time() >= knobs.quiet_after:
        return {}
    defaults = kind_defaults(session, knobs)
    staff = session.exec(select(Staff).where(Staff.active == True).order_by(Staff.id)).all()  # noqa: E712
    personal: dict[int, dict[str, ReminderPref]] = defaultdict(dict)
    for p in session.exec(select(ReminderPref)).all():
        personal[p.staff_id][p.kind] = p
    logged = set()
    if skip_logged:
        rows = session.exec(
            select(
                DeliveryLog.kind,
                DeliveryLog.subject,
                DeliveryLog.recipient,
                DeliveryLog.status,
                DeliveryLog.claimed_at,
                DeliveryLog.attempts,
            ).where(DeliveryLog.date == today)
        ).all()
        logged = {(k, s, r) for k, s, r, st, at, n in rows if is_settled(st, at, n, now)}
    out: dict[str, list[Staff]] = defaultdict(list)
    for member in staff:
        for kind, pref in prefs_of(session, member, defaults=defaults, personal=personal[member.id]).items():
            if not pref.enabled or local.time() < pref.time or not applies_on(kind, today, knobs):
                continue
            if (kind, subject_of(kind, member, today), member.id) in logged:
                continue
            out[kind].append(member)
    return dict(out)


def plan(
    session: Session,
    *,
    now: dt.datetime,
    tz: dt.tzinfo,
    knobs: Knobs | None = None,
    skip_logged: bool = True,
) -> list[Reminder]:
    """Every reminder due at ``now`` that has not gone out today, computed once per kind."""
    knobs = knobs or load_knobs(session)
    today = local_now(now, tz).date()
    slots = due_slots(session, now=now, tz=tz, knobs=knobs, skip_logged=skip_logged)
    if not slots:
        return []
    out: list[Reminder] = []

    def add(kind: str, member: Staff, payload: object) -> None:
        out.append(
            Reminder(
                kind,
                subject_of(kind, member, today),
                member.id,
                member.telegram_id,
                member.name,
                today,
                payload,
            )
        )

    dues: dict[int, PartyDue] | None = None
    if slots.keys() & {"overdue", "due_soon", "escalation"}:
        horizon = knobs.due_soon_days if "due_soon" in slots else 0
        dues = open_due_by_party(session, today=today, horizon_days=horizon)
        active_reps = {s.id for s in session.exec(select(Staff).where(Staff.active == True)).all()}  # noqa: E712
        snoozed = snoozed_until(session, today)
        quiet = {pid: d for pid, d in dues.items() if pid not in snoozed}
        overdue, soon = split_overdue(quiet, first_step=knobs.steps[0])
        for kind, table in (("overdue", overdue), ("due_soon", soon)):
            by_rep: dict[int | None, list[PartyDue]] = defaultdict(list)
            for d in table.values():
                by_rep[d.rep_id if d.rep_id in active_reps else None].append(d)
            for member in slots.get(kind, []):
                mine = by_rep.get(member.id if member.role == "sales" else None, [])
                # worst first: for overdue the oldest debt, for due soon the nearest date
                if kind == "overdue":
                    mine = sorted(mine, key=lambda d: (-d.max_days, -d.total_cents, d.party_id))
                else:
                    mine = sorted(mine, key=lambda d: (-d.max_days, d.party_id))
                add(kind, member, mine)
        if "escalation" in slots:
            late_all, _ = split_overdue(dues, first_step=knobs.manager_step)
            escalated = sorted(late_all.values(), key=lambda d: (-d.max_days, -d.total_cents, d.party_id))
            notes = last_follow_ups(session, [d.party_id for d in escalated[:50]])
            names = {s.id: s.name for s in session.exec(select(Staff)).all()}
            for d in escalated:
                d.last_follow_up = notes.get(d.party_id)
                d.rep_name = names.get(d.rep_id) if d.rep_id else None
            for member in slots["escalation"]:
                add("escalation", member, escalated)
    if "low_stock" in slots:
        low = low_stock(session)
        for member in slots["low_stock"]:
            add("low_stock", member, low)
    if "payables" in slots:
        payable = open_due_by_party(session, today=today, side="payable", horizon_days=knobs.payable_days)
        ordered = sorted(payable.values(), key=lambda d: (-d.max_days, d.party_id))
        for member in slots["payables"]:
            add("payables", member, ordered)
    if "approvals" in slots:
        waiting = awaiting_approval(session, now=now, hours=knobs.approval_hours)
        for member in slots["approvals"]:
            add("approvals", member, waiting)
    if "digest" in slots:
        digest = morning_digest(session, today=today, knobs=knobs, dues=dues)
        for member in slots["digest"]:
            add("digest", member, digest)
    if "month_end" in slots:
        checklist = month_end_checklist(session, today=today)
        for member in slots["month_end"]:
            add("month_end", member, checklist)
    if "tickets" in slots:
        from erp.tickets import late_tickets

        late = late_tickets(session, now=now, tz=tz, is_working_day=lambda d: is_working_day(d, knobs))
        for member in slots["tickets"]:
            add("tickets", member, late)
    order = list(KINDS)
    out.sort(key=lambda r: (order.index(r.kind), r.recipient))
    return out


__all__ = [
    "KINDS",
    "KNOB_DEFAULTS",
    "Knobs",
    "Pref",
    "Reminder",
    "PartyDue",
    "DueInvoice",
    "Digest",
    "Checklist",
    "WaitingVoucher",
    "LowItem",
    "low_stock",
    "load_knobs",
    "set_knob",
    "set_default",
    "set_pref",
    "prefs_of",
    "kinds_for",
    "is_working_day",
    "is_month_end",
    "previous_working_day",
    "record_follow_up",
    "snoozed_until",
    "open_due_by_party",
    "split_overdue",
    "step_of",
    "awaiting_approval",
    "morning_digest",
    "month_end_checklist",
    "due_slots",
    "plan",
]
