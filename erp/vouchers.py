"""记账凭证: the rule that a voucher balances, and its life (draft -> approved -> posted -> void).

``check_lines`` is the one function every path goes through before a voucher
is written or posted. State changes are compare-and-set UPDATEs, so a second
confirm (a double tap, a replayed update, a second bot process) changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, update
from sqlmodel import Session, select

from erp.audit import audit
from erp.config import Settings
from erp.errors import ErpError
from erp.models import Account, Period, Voucher, VoucherLine
from values import clock
from values.money import ZERO, fmt, q2


@dataclass
class Line:
    """One proposed entry line: exactly one of debit/credit is non-zero (negative = 红字)."""

    account_code: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    summary: str = ""
    party_id: int | None = None


@dataclass
class Problem:
    code: str
    params: dict = field(default_factory=dict)

    def error(self) -> ErpError:
        return ErpError(self.code, **self.params)


def period_of(date: dt.date) -> str:
    return f"{date.year:04d}-{date.month:02d}"


def check_lines(lines: list[Line], accounts: dict[str, Account]) -> list[Problem]:
    """Pure: every problem with these lines, so a caller can show them all at once."""
    problems: list[Problem] = []
    if not lines:
        return [Problem("EMPTY_VOUCHER")]
    for i, ln in enumerate(lines, start=1):
        d, c = q2(ln.debit), q2(ln.credit)
        if (d != 0) == (c != 0):
            why = "借贷都为零" if d == 0 else "同时有借方和贷方"
            problems.append(Problem("BAD_LINE", {"line": i, "why": why}))
        acc = accounts.get(ln.account_code)
        if acc is None or not acc.active:
            problems.append(Problem("UNKNOWN_ACCOUNT", {"code": ln.account_code}))
            continue
        if not acc.is_leaf:
            problems.append(Problem("NOT_LEAF_ACCOUNT", {"code": acc.code, "name": acc.name}))
        if acc.aux_party and ln.party_id is None:
            problems.append(Problem("PARTY_REQUIRED", {"code": acc.code, "name": acc.name}))
    debit = sum((q2(ln.debit) for ln in lines), ZERO)
    credit = sum((q2(ln.credit) for ln in lines), ZERO)
    if debit != credit:
        problems.append(Problem("UNBALANCED", {"debit": fmt(debit), "credit": fmt(credit)}))
    return problems


def _accounts_for(session: Session, lines: list[Line]) -> dict[str, Account]:
    codes = {ln.account_code for ln in lines}
    rows = session.exec(select(Account).where(Account.code.in_(codes))).all()  # type: ignore[union-attr]
    return {a.code: a for a in rows}


def ensure_balanced(session: Session, lines: list[Line]) -> None:
    problems = check_lines(lines, _accounts_for(session, lines))
    if problems:
        raise problems[0].error()


def is_closed(session: Session, period: str) -> bool:
    row = session.get(Period, period)
    return bool(row and row.closed)


def first_open_day(session: Session, day: dt.date, *, today: dt.date | None = None) -> dt.date:
    """Where a posting dated ``day`` can land: ``day`` itself while its period is open; otherwise today
    (the business clock's date) when today's period is open; otherwise the first day of the first open
    period after today's. A closed period is never written into."""
    if not is_closed(session, period_of(day)):
        return day
    day = today or clock.today()
    while is_closed(session, period_of(day)):
        day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return day


def ensure_open(session: Session, date: dt.date) -> None:
    period = period_of(date)
    if is_closed(session, period):
        raise ErpError("PERIOD_CLOSED", period=period)


def _next_seq(session: Session, period: str) -> int:
    # Two writers may open a new period at once: insert-if-absent, then lock the row
    # (PostgreSQL) so they cannot take the same number.
    if session.get(Period, period) is None:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        session.execute(insert(Period).values(period=period, closed=False).on_conflict_do_nothing())
    session.exec(select(Period).where(Period.period == period).with_for_update()).first()
    current = session.exec(select(func.max(Voucher.seq)).where(Voucher.period == period)).one()
    return int(current or 0) + 1


def create_voucher(
    session: Session,
    *,
    date: dt.date,
    lines: list[Line],
    summary: str = "",
    created_by: int | None = None,
    source_type: str | None = None,
    source_id: int | None = None,
    idempotency_key: str | None = None,
) -> Voucher:
    """Write a balanced draft voucher. With an idempotency key, a repeat returns the first one."""
    if idempotency_key:
        existing = session.exec(select(Voucher).where(Voucher.idempotency_key == idempotency_key)).first()
        if existing is not None:
            return existing
    ensure_balanced(session, lines)
    ensure_open(session, date)
    period = period_of(date)
    seq = _next_seq(session, period)
    total = sum((q2(ln.debit) for ln in lines), ZERO)
    voucher = Voucher(
        word="记",
        period=period,
        seq=seq,
        number=f"记-{period.replace('-', '')}-{seq:04d}",
        date=date,
        summary=summary or (lines[0].summary if lines else ""),
        status="draft",
        total=total,
        source_type=source_type,
        source_id=source_id,
        idempotency_key=idempotency_key,
        created_by=created_by,
    )
    session.add(voucher)
    session.flush()
    _write_lines(session, voucher, lines)
    audit(session, "voucher", voucher.id, "create", created_by, number=voucher.number, total=str(total))
    return voucher


def _write_lines(session: Session, voucher: Voucher, lines: list[Line]) -> None:
    for i, ln in enumerate(lines, start=1):
        session.add(
            VoucherLine(
                voucher_id=voucher.id,
                line_no=i,
                summary=ln.summary or voucher.summary,
                account_code=ln.account_code,
                party_id=ln.party_id,
                debit=q2(ln.debit),
                credit=q2(ln.credit),
            )
        )
    session.flush()


def lines_of(session: Session, voucher_id: int) -> list[VoucherLine]:
    return list(
        session.exec(
            select(VoucherLine).where(VoucherLine.voucher_id == voucher_id).order_by(VoucherLine.line_no)
        ).all()
    )


def as_lines(rows: list[VoucherLine]) -> list[Line]:
    return [Line(r.account_code, r.debit, r.credit, r.summary, r.party_id) for r in rows]


def replace_lines(session: Session, voucher: Voucher, lines: list[Line], actor_id: int | None) -> Voucher:
    """Change a draft's lines (改科目, cost of sales added at posting)."""
    if voucher.status not in ("draft", "approved"):
        raise ErpError(
            "VOUCHER_STATE", number=voucher.number, state=state_name(voucher.status), action="修改"
        )
    ensure_balanced(session, lines)
    before = [(r.account_code, str(r.debit), str(r.credit)) for r in lines_of(session, voucher.id)]
    for row in lines_of(session, voucher.id):
        session.delete(row)
    session.flush()
    _write_lines(session, voucher, lines)
    voucher.total = sum((q2(ln.debit) for ln in lines), ZERO)
    if voucher.status == "approved":  # a changed voucher needs approving again
        voucher.status = "draft"
        voucher.approved_by = None
    session.add(voucher)
    session.flush()
    after = [(ln.account_code, str(q2(ln.debit)), str(q2(ln.credit))) for ln in lines]
    audit(session, "voucher", voucher.id, "edit", actor_id, before=before, after=after)
    return voucher


STATE_NAMES = {"draft": "草稿", "approved": "已审批", "posted": "已记账", "void": "已作废"}


def state_name(status: str) -> str:
    return STATE_NAMES.get(status, status)


def needs_approval(voucher: Voucher, settings: Settings) -> bool:
    return voucher.status == "draft" and abs(voucher.total) > settings.approval_threshold


def _cas(session: Session, voucher: Voucher, from_states: tuple[str, ...], **values: object) -> bool:
    """Compare-and-set: change the row only if it is still in one of ``from_states``."""
    result = session.execute(
        update(Voucher)
        .where(Voucher.id == voucher.id, Voucher.status.in_(from_states))  # type: ignore[attr-defined]
        .values(**values)
    )
    session.flush()
    changed = result.rowcount == 1
    session.refresh(voucher)
    return changed


def request_approval(session: Session, voucher: Voucher, actor_id: int | None) -> Voucher:
    if voucher.approval_requested_at is None:
        voucher.approval_requested_at = clock.now()
        session.add(voucher)
        session.flush()
        audit(session, "voucher", voucher.id, "request_approval", actor_id)
    return voucher


def approve_voucher(session: Session, voucher: Voucher, approver_id: int | None) -> Voucher:
    """Manager's approval. Approving twice is harmless."""
    if voucher.status in ("approved", "posted"):
        return voucher
    if not _cas(session, voucher, ("draft",), status="approved", approved_by=approver_id):
        if voucher.status in ("approved", "posted"):
            return voucher
        raise ErpError(
            "VOUCHER_STATE", number=voucher.number, state=state_name(voucher.status), action="审批"
        )
    audit(session, "voucher", voucher.id, "approve", approver_id)
    return voucher


def post_voucher(
    session: Session,
    voucher: Voucher,
    settings: Settings,
    actor_id: int | None,
    *,
    needs_no_approval: bool = False,
) -> bool:
    """Post into the ledger. Returns False when it was already posted (idempotent).

    Refuses: unbalanced, closed period, above the approval threshold without approval
    (``needs_no_approval`` is for facts rather than decisions: money that has arrived).
    """
    if voucher.status == "posted":
        return False
    if voucher.status == "void":
        raise ErpError(
            "VOUCHER_STATE", number=voucher.number, state=state_name(voucher.status), action="记账"
        )
    ensure_balanced(session, as_lines(lines_of(session, voucher.id)))
    ensure_open(session, voucher.date)
    if not needs_no_approval and needs_approval(voucher, settings):
        raise ErpError(
            "NEEDS_APPROVAL",
            number=voucher.number,
            amount=fmt(voucher.total),
            threshold=fmt(settings.approval_threshold),
        )
    now = clock.now()
    if not _cas(session, voucher, ("draft", "approved"), status="posted", posted_at=now):
        if voucher.status == "posted":
            return False
        raise ErpError(
            "VOUCHER_STATE", number=voucher.number, state=state_name(voucher.status), action="记账"
        )
    audit(session, "voucher", voucher.id, "post", actor_id)
    return True


def void_voucher(
    session: Session, voucher: Voucher, actor_id: int | None, *, on: dt.date | None = None, reason: str = ""
) -> Voucher | None:
    """Void: a draft just becomes void; a posted voucher gets a reversing voucher (红字冲销).

    Returns the reversing voucher, or None for a draft. Never deletes anything.
    """
    if voucher.status == "void":
        return session.get(Voucher, voucher.reversed_by_id) if voucher.reversed_by_id else None
    if voucher.status in ("draft", "approved"):
        if not _cas(session, voucher, ("draft", "approved"), status="void"):
            return None
        audit(session, "voucher", voucher.id, "void", actor_id, reason=reason)
        return None
    day = first_open_day(session, on or voucher.date)
    reversal_lines = [
        Line(r.account_code, -r.debit, -r.credit, f"冲销 {voucher.number} {r.summary}"[:128], r.party_id)
        for r in lines_of(session, voucher.id)
    ]
    reversal = create_voucher(
        session,
        date=day,
        lines=reversal_lines,
        summary=f"冲销 {voucher.number}" + (f"：{reason}" if reason else ""),
        created_by=actor_id,
        source_type="reversal",
        source_id=voucher.id,
    )
    reversal.reversal_of_id = voucher.id
    session.add(reversal)
    session.flush()
    now = clock.now()
    session.execute(
        update(Voucher)
        .where(Voucher.id == reversal.id)
        .values(status="posted", posted_at=now, reversal_of_id=voucher.id)
    )
    if not _cas(session, voucher, ("posted",), status="void", reversed_by_id=reversal.id):
        raise ErpError(
            "VOUCHER_STATE", number=voucher.number, state=state_name(voucher.status), action="作废"
        )
    session.refresh(reversal)
    audit(session, "voucher", voucher.id, "void", actor_id, reversal=reversal.number, reason=reason)
    audit(session, "voucher", reversal.id, "post", actor_id, reversal_of=voucher.number)
    return reversal


def get_voucher(session: Session, key: int | str) -> Voucher:
    """By id, full number (记-202405-0001) or short form (202405-1, 1 = this month's)."""
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit() and int(key) > 999999):
        v = session.get(Voucher, int(key))
        if v:
            return v
    text = str(key).strip()
    v = session.exec(select(Voucher).where(Voucher.number == text)).first()
    if v:
        return v
    import re

    m = re.fullmatch(r"(?:记-?)?(\d{4})-?(\d{2})-(\d+)", text)
    if m:
        period = f"{m.group(1)}-{m.group(2)}"
        v = session.exec(
            select(Voucher).where(Voucher.period == period, Voucher.seq == int(m.group(3)))
        ).first()
        if v:
            return v
    if text.isdigit():
        v = session.get(Voucher, int(text))
        if v:
            return v
    raise ErpError("NOT_FOUND", what="凭证", key=text)


def close_period(session: Session, period: str, actor_id: int | None) -> Period:
    row = session.get(Period, period) or Period(period=period)
    row.closed = True
    row.closed_at = clock.now()
    row.closed_by = actor_id
    session.add(row)
    session.flush()
    audit(session, "period", 0, "close", actor_id, period=period)
    return row


def reopen_period(session: Session, period: str, actor_id: int | None) -> None:
    row = session.get(Period, period)
    if row and row.closed:
        row.closed = False
        session.add(row)
        session.flush()
        audit(session, "period", 0, "reopen", actor_id, period=period)
