"""All tables in one place.

Money columns are NUMERIC(18,2), quantities NUMERIC(18,4), unit costs
NUMERIC(20,6). Balances are never stored: on-hand comes from ``StockMove``,
account balances from posted ``VoucherLine``s, open receivables from
``Invoice`` minus ``Allocation``. The one cached figure is ``Product.avg_cost``
(moving-average cost), which ``tests/test_stock.py`` recomputes from the moves.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import BigInteger, Column, Index, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from values import clock


def _money(**kw: object) -> object:
    return Field(default=Decimal("0.00"), sa_type=Numeric(18, 2), **kw)


def _qty(**kw: object) -> object:
    return Field(default=Decimal("0"), sa_type=Numeric(18, 4), **kw)


def _now() -> dt.datetime:
    return clock.now()


# --- chart of accounts -------------------------------------------------------


class Account(SQLModel, table=True):
    """科目. ``nature`` is the normal balance side: 'debit' or 'credit'."""

    code: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=64)
    parent_code: str | None = Field(default=None, foreign_key="account.code", index=True, max_length=16)
    level: int = 1
    category: str = Field(max_length=16)  # asset, liability, equity, cost, profit_loss, common
    nature: str = Field(max_length=6)  # debit | credit
    aux_party: bool = False  # 辅助核算：往来单位
    is_leaf: bool = True
    active: bool = True


class PostingRule(SQLModel, table=True):
    """Which account an invoice line becomes; data a company can change.

    Matching: direction and invoice_type ('special', 'normal' or '*'), then the
    longest ``category`` that the item's *category* prefix contains ('' = any),
    highest ``priority`` first.
    """

    id: int | None = Field(default=None, primary_key=True)
    direction: str = Field(max_length=8)  # purchase | sales
    invoice_type: str = Field(default="*", max_length=8)
    category: str = Field(default="", max_length=32)
    account_code: str = Field(foreign_key="account.code", max_length=16)
    is_stock: bool = False  # goods that enter/leave stock
    vat_deductible: bool | None = None  # None: follow invoice type
    priority: int = 0
    note: str | None = Field(default=None, max_length=128)


# --- people ------------------------------------------------------------------


class Staff(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_type=BigInteger, unique=True, index=True)  # Telegram ids exceed 32 bits
    name: str = Field(max_length=64)
    role: str = Field(max_length=16)  # admin, accountant, warehouse, sales, manager
    active: bool = True
    language: str = Field(default="zh", max_length=8)
    created_at: dt.datetime = Field(default_factory=_now)


class Party(SQLModel, table=True):
    """客户 / 供应商 (往来单位). ``kind`` is customer, supplier or both."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10, index=True)
    name: str = Field(max_length=128, unique=True)
    short_name: str | None = Field(default=None, max_length=32)
    aliases: str | None = Field(default=None, max_length=256)  # comma-separated
    tax_id: str | None = Field(default=None, max_length=20, unique=True)
    province: str | None = Field(default=None, max_length=16)
    city: str | None = Field(default=None, max_length=16)
    credit_days: int = 30
    sales_rep_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    contact: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    created_at: dt.datetime = Field(default_factory=_now)


# --- goods -------------------------------------------------------------------


class Product(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=128, index=True)
    spec: str | None = Field(default=None, max_length=64)
    unit: str | None = Field(default=None, max_length=8)
    category: str | None = Field(default=None, max_length=32)
    tax_category: str | None = Field(default=None, max_length=32)  # e.g. 服装, 电子元件
    tax_rate: Decimal = Field(default=Decimal("0.13"), sa_type=Numeric(6, 4))
    min_stock: Decimal = _qty()
    style: str | None = Field(default=None, max_length=32)
    colour: str | None = Field(default=None, max_length=16)
    size: str | None = Field(default=None, max_length=8)
    aliases: str | None = Field(default=None, max_length=256)
    avg_cost: Decimal = Field(default=Decimal("0"), sa_type=Numeric(20, 6))
    sale_price: Decimal = Field(default=Decimal("0"), sa_type=Numeric(20, 6))
    active: bool = True


class Warehouse(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=64)


class StockMove(SQLModel, table=True):
    """Append-only stock ledger; on-hand is the sum of ``quantity``."""

    __table_args__ = (
        # covering: on-hand and value per product/warehouse/batch are read from the index alone
        # (bench/erp_queries.py: a product with 19k moves, 70 ms -> 5 ms)
        Index("ix_stockmove_onhand", "product_id", "warehouse_id", "batch", "quantity", "amount"),
        Index("ix_stockmove_source", "source_type", "source_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id")
    warehouse_id: int = Field(foreign_key="warehouse.id")
    batch: str = Field(default="", max_length=32)
    quantity: Decimal = _qty()  # + in, - out
    unit_cost: Decimal = Field(default=Decimal("0"), sa_type=Numeric(20, 6))
    amount: Decimal = _money()  # signed cost value of the move
    move_date: dt.date = Field(index=True)
    kind: str = Field(max_length=12)  # purchase, sale, adjust, opening, reversal
    source_type: str | None = Field(default=None, max_length=16)
    source_id: int | None = None
    voucher_id: int | None = Field(default=None, foreign_key="voucher.id", index=True)
    reason: str | None = Field(default=None, max_length=128)
    created_at: dt.datetime = Field(default_factory=_now)


# --- invoices ----------------------------------------------------------------


class Invoice(SQLModel, table=True):
    """A purchase or sales invoice; one per (seller, code+number)."""

    __table_args__ = (
        UniqueConstraint("dedup_key", name="uq_invoice_dedup"),
        Index("ix_invoice_party_dir", "party_id", "direction", "status"),
        Index("ix_invoice_dir_due", "direction", "status", "due_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    direction: str = Field(max_length=8)  # purchase | sales
    invoice_type: str = Field(default="normal", max_length=8)  # special | normal
    is_red: bool = False
    number: str = Field(max_length=32, index=True)
    code: str | None = Field(default=None, max_length=12)
    dedup_key: str = Field(max_length=80)
    issue_date: dt.date = Field(index=True)
    due_date: dt.date | None = None
    party_id: int = Field(foreign_key="party.id")
    seller_name: str | None = Field(default=None, max_length=128)
    seller_tax_id: str | None = Field(default=None, max_length=20)
    buyer_name: str | None = Field(default=None, max_length=128)
    buyer_tax_id: str | None = Field(default=None, max_length=20)
    total_amount: Decimal = _money()
    total_tax: Decimal = _money()
    total: Decimal = _money()
    status: str = Field(default="draft", max_length=8)  # draft, posted, void
    original_invoice_id: int | None = Field(default=None, foreign_key="invoice.id")  # red -> blue
    file_sha256: str | None = Field(default=None, max_length=64, unique=True)
    file_path: str | None = Field(default=None, max_length=256)
    parsed_json: str | None = Field(default=None, sa_column=Column(Text))
    voucher_id: int | None = Field(default=None, foreign_key="voucher.id", index=True)
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: dt.datetime = Field(default_factory=_now)


class InvoiceLine(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    line_no: int
    name: str = Field(max_length=128)
    category: str | None = Field(default=None, max_length=32)
    spec: str | None = Field(default=None, max_length=64)
    unit: str | None = Field(default=None, max_length=8)
    quantity: Decimal | None = Field(default=None, sa_type=Numeric(18, 4))
    unit_price: str | None = Field(default=None, max_length=24)  # as printed
    amount: Decimal = _money()
    tax_rate: str | None = Field(default=None, max_length=8)
    tax: Decimal = _money()
    product_id: int | None = Field(default=None, foreign_key="product.id", index=True)
    account_code: str | None = Field(default=None, foreign_key="account.code", max_length=16)
    vat_deductible: bool | None = None  # purchase: this line's VAT went to 进项税额 (so its cost excludes it)
    cost_amount: Decimal | None = Field(default=None, sa_type=Numeric(18, 2))  # sales: cost of goods sold


# --- vouchers ----------------------------------------------------------------


class Period(SQLModel, table=True):
    period: str = Field(primary_key=True, max_length=7)  # YYYY-MM
    closed: bool = False
    closed_at: dt.datetime | None = None
    closed_by: int | None = Field(default=None, foreign_key="staff.id")


class Voucher(SQLModel, table=True):
    """记账凭证. States: draft -> approved -> posted; void (a posted one via a reversing voucher).

    A voucher is in the ledger when ``posted_at`` is set, whatever its status:
    a voided posted voucher stays there beside its reversal, so history adds up.
    """

    __table_args__ = (UniqueConstraint("period", "seq", name="uq_voucher_period_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    word: str = Field(default="记", max_length=4)
    period: str = Field(max_length=7, index=True)
    seq: int
    number: str = Field(max_length=24, unique=True)
    date: dt.date = Field(index=True)
    summary: str = Field(default="", max_length=128)
    status: str = Field(default="draft", max_length=8, index=True)
    total: Decimal = _money()
    source_type: str | None = Field(
        default=None, max_length=16
    )  # invoice, receipt, payment, adjust, reversal
    source_id: int | None = None
    idempotency_key: str | None = Field(default=None, max_length=64, unique=True)
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    approved_by: int | None = Field(default=None, foreign_key="staff.id")
    approval_requested_at: dt.datetime | None = None
    posted_at: dt.datetime | None = Field(default=None, index=True)
    reversal_of_id: int | None = Field(default=None, foreign_key="voucher.id")
    reversed_by_id: int | None = Field(default=None, foreign_key="voucher.id")
    created_at: dt.datetime = Field(default_factory=_now)


class VoucherLine(SQLModel, table=True):
    __table_args__ = (
        Index("ix_voucherline_account_party", "account_code", "party_id"),
        # covering: the trial balance sums every line without reading the table (1.26M lines: 2.6 s -> 0.75 s)
        Index("ix_voucherline_ledger", "account_code", "voucher_id", "debit", "credit"),
    )

    id: int | None = Field(default=None, primary_key=True)
    voucher_id: int = Field(foreign_key="voucher.id", index=True)
    line_no: int
    summary: str = Field(default="", max_length=128)
    account_code: str = Field(foreign_key="account.code", max_length=16)
    party_id: int | None = Field(default=None, foreign_key="party.id")
    debit: Decimal = _money()
    credit: Decimal = _money()


class AuditLog(SQLModel, table=True):
    """Every change to a voucher (and other business records), who and when."""

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(max_length=16, index=True)
    entity_id: int = Field(index=True)
    action: str = Field(max_length=16)
    actor_id: int | None = Field(default=None, foreign_key="staff.id")
    at: dt.datetime = Field(default_factory=_now)
    detail: str | None = Field(default=None, sa_column=Column(Text))


# --- receivables and payables ------------------------------------------------


class Settlement(SQLModel, table=True):
    """收款 (kind receipt, from a customer) or 付款 (kind payment, to a supplier)."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=8)  # receipt | payment
    party_id: int = Field(foreign_key="party.id", index=True)
    date: dt.date = Field(index=True)
    amount: Decimal = _money()
    unallocated: Decimal = _money()  # booked to 2203 预收 / 1123 预付
    account_code: str = Field(default="1002", max_length=16)
    reference: str | None = Field(default=None, max_length=64)
    status: str = Field(default="posted", max_length=8)  # posted | void
    voucher_id: int | None = Field(default=None, foreign_key="voucher.id")
    idempotency_key: str | None = Field(default=None, max_length=64, unique=True)
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: dt.datetime = Field(default_factory=_now)


class Allocation(SQLModel, table=True):
    """Part of a settlement (or a red invoice) applied to one invoice."""

    __table_args__ = (Index("ix_allocation_invoice", "invoice_id"),)

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id")
    settlement_id: int | None = Field(default=None, foreign_key="settlement.id", index=True)
    credit_invoice_id: int | None = Field(default=None, foreign_key="invoice.id")
    amount: Decimal = _money()
    date: dt.date
    void: bool = False


class FollowUp(SQLModel, table=True):
    """A note that someone chased a customer (已跟进), with an optional snooze."""

    id: int | None = Field(default=None, primary_key=True)
    party_id: int = Field(foreign_key="party.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    at: dt.datetime = Field(default_factory=_now)
    note: str | None = Field(default=None, max_length=256)
    snooze_until: dt.date | None = None


# --- reminders (delivery log, preferences) -------------------------------------


class DeliveryLog(SQLModel, table=True):
    """One row per reminder message: the claim that makes it go out once.

    A sender inserts the row (status ``sending``, its own ``claim_token``) before it
    sends; the unique key means a second job run or a second bot process finds the
    row taken and sends nothing. ``status``: sending, sent, empty (nothing to say that
    day, so the job does not recompute), blocked (the user blocked the bot), failed
    (permanent error), retry (transient error: the next run may take it again).
    """

    __table_args__ = (
        UniqueConstraint("kind", "subject", "recipient", "date", name="uq_delivery_once"),
        Index("ix_delivery_date_status", "date", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    subject: str = Field(max_length=64)
    recipient: int = Field(foreign_key="staff.id")
    date: dt.date
    status: str = Field(default="sending", max_length=8)
    claim_token: str = Field(max_length=32)
    claimed_at: dt.datetime = Field(default_factory=_now)
    sent_at: dt.datetime | None = None
    attempts: int = 0
    chat_id: int | None = Field(default=None, sa_type=BigInteger)  # Telegram ids exceed 32 bits
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    items: int = 0  # how many customers / products / vouchers the message covered
    error: str | None = Field(default=None, max_length=256)


class ReminderPref(SQLModel, table=True):
    """A staff member's choice for one kind of reminder; ``None`` fields follow the default."""

    __table_args__ = (UniqueConstraint("staff_id", "kind", name="uq_reminderpref_staff_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    kind: str = Field(max_length=16)
    enabled: bool | None = None
    time: str | None = Field(default=None, max_length=5)  # HH:MM, Asia/Shanghai
    updated_at: dt.datetime = Field(default_factory=_now)


class ReminderDefault(SQLModel, table=True):
    """Company-wide defaults set by admins: per kind (enabled, time), and the knobs
    (kind ``*``: escalation steps, horizons, holidays) as key/value text."""

    __table_args__ = (UniqueConstraint("kind", "key", name="uq_reminderdefault_kind_key"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # a reminder kind, or "*" for a global setting
    key: str = Field(max_length=32)  # enabled, time, or a setting name
    value: str = Field(default="", sa_column=Column(Text))
    updated_by: int | None = Field(default=None, foreign_key="staff.id")
    updated_at: dt.datetime = Field(default_factory=_now)


# --- bot (conversation state, processed updates) ---


class BotState(SQLModel, table=True):
    """The chat application's persistence (PTB ``BasePersistence``): per-chat/user data and
    conversation states as JSON, so a restart resumes where each chat was."""

    __tablename__ = "bot_state"

    kind: str = Field(primary_key=True, max_length=16)  # user_data, chat_data, conversation, callback
    key: str = Field(primary_key=True, max_length=128)
    data: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: dt.datetime = Field(default_factory=_now)


class ProcessedUpdate(SQLModel, table=True):
    """Telegram update ids already handled: a redelivered update is dropped, not handled twice."""

    __tablename__ = "processed_update"

    bot_id: int = Field(sa_type=BigInteger, primary_key=True)
    update_id: int = Field(sa_type=BigInteger, primary_key=True)
    at: dt.datetime = Field(default_factory=_now, index=True)


class PendingAction(SQLModel, table=True):
    """A proposal waiting for a button (a receipt to confirm, a stranger to add, a long reply's
    pages). Buttons carry its id; the state lives here, so they work across restarts."""

    __tablename__ = "pending_action"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, index=True)  # receipt, join, pages
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="open", max_length=16)  # open, done, cancelled
    result: str | None = Field(default=None, max_length=128)
    created_at: dt.datetime = Field(default_factory=_now, index=True)


# --- support (tickets) ---


class Ticket(SQLModel, table=True):
    """A staff question handed to a person (转人工): open until an admin replies to it."""

    id: int | None = Field(default=None, primary_key=True)
    asker_id: int = Field(foreign_key="staff.id", index=True)
    chat_id: int = Field(sa_type=BigInteger)  # where the answer goes back (group ids exceed 32 bits)
    question: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="open", max_length=8, index=True)  # open, answered
    created_at: dt.datetime = Field(default_factory=_now, index=True)
    answer: str | None = Field(default=None, sa_column=Column(Text))
    answered_by: int | None = Field(default=None, foreign_key="staff.id")
    answered_at: dt.datetime | None = None
    article_slug: str | None = Field(default=None, max_length=64)  # saved as a knowledge-base article


class TicketMessage(SQLModel, table=True):
    """A bot message that carries a ticket (the question forwarded to each admin or the support
    chat): an admin's reply to it is the answer."""

    __tablename__ = "ticket_message"
    __table_args__ = (UniqueConstraint("chat_id", "message_id", name="uq_ticketmessage_chat_message"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    chat_id: int = Field(sa_type=BigInteger)
    message_id: int = Field(sa_type=BigInteger)
    created_at: dt.datetime = Field(default_factory=_now)
