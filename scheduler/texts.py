"""Reminder texts and buttons, rendered from the plain values of ``erp.reminders``.

Plain text (no parse mode), so a customer name can never break the markup. A
message always fits Telegram's 4096 characters: customers are added while they
fit and the rest are summed up in one closing line. Buttons are (label,
callback data) pairs; ``scheduler.delivery`` turns them into a keyboard, and
``handlers.reminders`` answers them (prefix ``rem:``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from erp.reminders import (
    KINDS,
    Checklist,
    Digest,
    Knobs,
    LowItem,
    PartyDue,
    Reminder,
    WaitingVoucher,
    step_of,
)
from values.money import ZERO, fmt, fmt_qty

MAX_CHARS = 4096
BUDGET = 3900  # room for the closing line
MAX_BUTTON_ROWS = 8
INVOICES_PER_PARTY = 3

Button = tuple[str, str]


@dataclass
class Rendered:
    text: str
    buttons: list[list[Button]] = field(default_factory=list)


def _yuan(value: Decimal) -> str:
    return f"¥{fmt(value)}"


def _short(name: str, width: int = 6) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def fit(head: list[str], blocks: list[str], tail: Callable[[int], str | None], budget: int = BUDGET) -> str:
    """Head, then as many blocks as fit, then ``tail(n_left_out)``; never over ``MAX_CHARS``."""
    text = "\n".join(head)
    shown = 0
    for block in blocks:
        if len(text) + 1 + len(block) > budget:
            break
        text += "\n" + block
        shown += 1
    closing = tail(len(blocks) - shown)
    if closing:
        text += "\n" + closing
    return text[:MAX_CHARS]


def _level_mark(days: int, knobs: Knobs) -> str:
    level = step_of(days, knobs.steps)
    if level >= len(knobs.steps):
        return "🔴"
    if level >= 2:
        return "🟠"
    return "🟡"


def _party_buttons(parties: list[PartyDue], knobs: Knobs) -> list[list[Button]]:
    rows = []
    for d in parties[:MAX_BUTTON_ROWS]:
        rows.append(
            [
                (f"📞 已跟进·{_short(d.name)}", f"rem:fu:{d.party_id}"),
                ("💰 已收款", f"rem:pay:{d.party_id}"),
                ("⏰ 3天后提醒", f"rem:sz:{d.party_id}"),
            ]
        )
    return rows


def _invoice_lines(d: PartyDue, describe: Callable[[int], str]) -> list[str]:
    lines = []
    for inv in d.invoices[:INVOICES_PER_PARTY]:
        lines.append(f"   · {inv.number} {_yuan(inv.open)} {describe(inv.days_overdue)}")
    if len(d.invoices) > INVOICES_PER_PARTY:
        rest = d.invoices[INVOICES_PER_PARTY:]
        lines.append(f"   · …另 {len(rest)} 张，{_yuan(sum((i.open for i in rest), ZERO))}")
    return lines


def _overflow(parties: list[PartyDue]) -> Callable[[int], str | None]:
    def tail(left: int) -> str | None:
        if not left:
            return None
        rest = parties[len(parties) - left :]
        return f"…另有 {left} 位客户，合计 {_yuan(sum((d.total for d in rest), ZERO))}"

    return tail


def render_overdue(r: Reminder, knobs: Knobs) -> Rendered:
    parties: list[PartyDue] = r.payload  # type: ignore[assignment]
    total = sum((d.total for d in parties), ZERO)
    whose = "您名下" if r.subject == "own" else "未分配销售的"
    head = [
        f"⏰ 逾期应收提醒 {r.date:%m月%d日}",
        f"{r.name}，{whose} {len(parties)} 位客户逾期未收，合计 {_yuan(total)}：",
    ]
    blocks = []
    for n, d in enumerate(parties, 1):
        mark = _level_mark(d.max_days, knobs)
        lines = [
            f"{n}. {mark} {d.name}：{_yuan(d.total)}（{len(d.invoices)} 张，最长逾期 {d.max_days} 天）",
            *_invoice_lines(d, lambda days: f"逾期 {days} 天"),
        ]
        blocks.append("\n".join(lines))
    note = (
        f"🔴 逾期 {knobs.manager_step} 天以上已同时通知经理。"
        f"📞 已跟进：记录跟进并暂停 {knobs.snooze_days} 天；⏰：3 天后再提醒。"
    )
    text = fit(head, blocks, lambda left: "\n".join(x for x in (_overflow(parties)(left), note) if x))
    return Rendered(text, _party_buttons(parties, knobs))


def render_due_soon(r: Reminder, knobs: Knobs) -> Rendered:
    parties: list[PartyDue] = r.payload  # type: ignore[assignment]
    total = sum((d.total for d in parties), ZERO)
    whose = "您名下" if r.subject == "own" else "未分配销售的"
    head = [
        f"📅 即将到期的应收（未来 {knobs.due_soon_days} 天）",
        f"{r.name}，{whose} {len(parties)} 位客户有款项即将到期，合计 {_yuan(total)}，可以提前联系：",
    ]

    def when(days: int) -> str:
        return "今天到期" if days == 0 else f"{-days} 天后到期"

    blocks = []
    for n, d in enumerate(parties, 1):
        first = min(i.due_date for i in d.invoices)
        lines = [f"{n}. {d.name}：{_yuan(d.total)}（最早 {first:%m-%d} 到期）", *_invoice_lines(d, when)]
        blocks.append("\n".join(lines))
    text = fit(head, blocks, _overflow(parties))
    return Rendered(text, _party_buttons(parties, knobs))


def render_escalation(r: Reminder, knobs: Knobs) -> Rendered:
    parties: list[PartyDue] = r.payload  # type: ignore[assignment]
    total = sum((d.total for d in parties), ZERO)
    head = [
        f"🔴 逾期升级 {r.date:%m月%d日}",
        f"{len(parties)} 位客户有发票逾期 {knobs.manager_step} 天以上，合计 {_yuan(total)}：",
    ]
    blocks = []
    for n, d in enumerate(parties, 1):
        lines = [
            f"{n}. {d.name}：{_yuan(d.total)}（{len(d.invoices)} 张，最长逾期 {d.max_days} 天）"
            f" 销售：{d.rep_name or '未分配'}"
        ]
        fu = d.last_follow_up
        if fu is not None:
            lines.append(
                f"   最近跟进：{fu.staff_name or '—'} {fu.at:%m-%d}" + (f"「{fu.note}」" if fu.note else "")
            )
        else:
            lines.append("   尚无跟进记录")
        blocks.append("\n".join(lines))
    return Rendered(fit(head, blocks, _overflow(parties)))


def render_low_stock(r: Reminder, knobs: Knobs) -> Rendered:
    items: list[LowItem] = r.payload  # type: ignore[assignment]
    head = [f"📦 库存不足 {r.date:%m月%d日}", f"{len(items)} 种商品低于最低库存，建议补货："]
    blocks = []
    for n, x in enumerate(items, 1):
        unit = x.unit
        blocks.append(
            f"{n}. {x.sku} {x.name}{(' ' + x.spec) if x.spec else ''}：现有 {fmt_qty(x.on_hand)}{unit}，"
            f"最低 {fmt_qty(x.minimum)}{unit}，建议补货 {fmt_qty(x.suggested_order)}{unit}"
        )

    def tail(left: int) -> str | None:
        return f"…另有 {left} 种商品" if left else None

    return Rendered(fit(head, blocks, tail))


def render_payables(r: Reminder, knobs: Knobs) -> Rendered:
    parties: list[PartyDue] = r.payload  # type: ignore[assignment]
    total = sum((d.total for d in parties), ZERO)
    head = [
        f"💳 应付到期（未来 {knobs.payable_days} 天及已逾期）",
        f"{len(parties)} 家供应商，合计 {_yuan(total)}：",
    ]

    def when(days: int) -> str:
        if days > 0:
            return f"已逾期 {days} 天"
        return "今天到期" if days == 0 else f"{-days} 天后到期"

    blocks = []
    for n, d in enumerate(parties, 1):
        lines = [f"{n}. {d.name}：{_yuan(d.total)}（{len(d.invoices)} 张）", *_invoice_lines(d, when)]
        blocks.append("\n".join(lines))

    def tail(left: int) -> str | None:
        if not left:
            return None
        rest = parties[len(parties) - left :]
        return f"…另有 {left} 家供应商，合计 {_yuan(sum((d.total for d in rest), ZERO))}"

    return Rendered(fit(head, blocks, tail))


def render_approvals(r: Reminder, knobs: Knobs) -> Rendered:
    items: list[WaitingVoucher] = r.payload  # type: ignore[assignment]
    head = [f"📝 待审批凭证 {len(items)} 张（等待超过 {knobs.approval_hours} 小时）："]
    blocks = [
        f"{n}. {v.number} {_yuan(v.total)} {v.summary or ''}（已等待 {v.hours_waiting // 24} 天 {v.hours_waiting % 24} 小时）"
        for n, v in enumerate(items, 1)
    ]

    def tail(left: int) -> str | None:
        more = f"…另有 {left} 张\n" if left else ""
        return more + "发送 /voucher 凭证号 查看并审批。"

    return Rendered(fit(head, blocks, tail))


def render_digest(r: Reminder, knobs: Knobs) -> Rendered:
    d: Digest = r.payload  # type: ignore[assignment]
    span = "昨日" if d.since == d.until else f"{d.since:%m-%d} 至 {d.until:%m-%d}"
    if d.since == d.until:
        span = f"昨日（{d.until:%m-%d}）"
    lines = [
        f"☀️ 经理晨报 {r.date:%Y年%m月%d日}",
        f"{span}：",
        f"· 销售 {_yuan(d.sales)}（{d.sales_count} 张发票）",
        f"· 收款 {_yuan(d.receipts)}（{d.receipts_count} 笔）",
        f"· 新增逾期 {_yuan(d.new_overdue)}（{d.new_overdue_count} 张）；逾期应收合计 {_yuan(d.total_overdue)}",
        f"· 货币资金（库存现金 + 银行存款）{_yuan(d.cash)}",
    ]
    return Rendered("\n".join(lines))


def render_month_end(r: Reminder, knobs: Knobs) -> Rendered:
    c: Checklist = r.payload  # type: ignore[assignment]

    def item(ok: bool, text: str) -> str:
        return ("✅ " if ok else "⚠️ ") + text

    lines = [
        f"📋 月末结账清单 {c.period}（本月最后 {knobs.month_end_days} 个工作日）",
        item(not c.drafts, f"未记账凭证：{c.drafts} 张"),
        item(not c.awaiting_approval, f"待审批凭证：{c.awaiting_approval} 张"),
        item(
            not c.unallocated_receipts,
            f"未核销收款：{c.unallocated_receipts} 笔，{_yuan(c.unallocated_amount)}",
        ),
    ]
    lines.append("全部完成，可以结账。" if c.clean else "处理完以上事项后再结账（/period close）。")
    return Rendered("\n".join(lines))


def render_tickets(r: Reminder, knobs: Knobs) -> Rendered:
    items = r.payload
    head = [f"🙋 超过一个工作日未回复的问题 {len(items)} 个："]
    blocks = [
        f"#{t.id} {t.asker}（已等 {t.hours_waiting // 24} 天 {t.hours_waiting % 24} 小时）：{_short(t.question, 60)}"
        for t in items
    ]
    return Rendered(
        fit(
            head,
            blocks,
            lambda left: (f"…另有 {left} 个\n" if left else "") + "发送 /tickets 查看，回复原消息即可作答。",
        )
    )


RENDERERS: dict[str, Callable[[Reminder, Knobs], Rendered]] = {
    "overdue": render_overdue,
    "due_soon": render_due_soon,
    "escalation": render_escalation,
    "low_stock": render_low_stock,
    "payables": render_payables,
    "approvals": render_approvals,
    "digest": render_digest,
    "month_end": render_month_end,
    "tickets": render_tickets,
}
assert set(RENDERERS) == set(KINDS)


def render(r: Reminder, knobs: Knobs) -> Rendered:
    return RENDERERS[r.kind](r, knobs)
