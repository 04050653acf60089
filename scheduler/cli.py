"""``python main.py remind``: see what the reminders would say, or send what is due now.

    remind --dry-run [--at "2024-06-03 09:00"] [--json]   what would be sent to whom; sends and logs nothing
    remind --now [--at ...]                                send what is due, once (a second call sends nothing new)

``--at`` is local time (Asia/Shanghai unless ZHANGFANG_TIMEZONE says otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys

from erp.config import Settings, get_settings
from erp.errors import ErpError
from erp.reminders import KINDS, Checklist, Digest, LowItem, PartyDue, Reminder, WaitingVoucher
from scheduler.texts import render
from values import clock
from values.money import to_str2


def parse_at(text: str | None, settings: Settings) -> dt.datetime:
    if not text:
        return clock.now()
    try:
        local = dt.datetime.fromisoformat(text.strip().replace("/", "-"))
    except ValueError as exc:
        raise ErpError("INVALID_INPUT", why=f'时间「{text}」无效，例如 "2024-06-03 09:00"') from exc
    if local.tzinfo is None:
        local = local.replace(tzinfo=settings.tz)
    return local


def _payload_json(payload: object) -> object:
    if isinstance(payload, list):
        return [_payload_json(x) for x in payload]
    if isinstance(payload, PartyDue):
        return {
            "party_id": payload.party_id,
            "name": payload.name,
            "total": to_str2(payload.total),
            "max_days_overdue": payload.max_days,
            "invoices": [
                {
                    "invoice_id": i.invoice_id,
                    "number": i.number,
                    "due_date": i.due_date.isoformat(),
                    "open": to_str2(i.open),
                    "days_overdue": i.days_overdue,
                }
                for i in payload.invoices
            ],
        }
    if isinstance(payload, LowItem):
        return {
            "product_id": payload.product_id,
            "sku": payload.sku,
            "name": payload.name,
            "on_hand": str(payload.on_hand),
            "minimum": str(payload.minimum),
            "suggested_order": str(payload.suggested_order),
        }
    if isinstance(payload, WaitingVoucher):
        return {
            "voucher_id": payload.voucher_id,
            "number": payload.number,
            "total": to_str2(payload.total),
            "hours_waiting": payload.hours_waiting,
        }
    if isinstance(payload, Digest):
        return {
            "since": payload.since.isoformat(),
            "until": payload.until.isoformat(),
            "sales": to_str2(payload.sales),
            "receipts": to_str2(payload.receipts),
            "new_overdue": to_str2(payload.new_overdue),
            "total_overdue": to_str2(payload.total_overdue),
            "cash": to_str2(payload.cash),
        }
    if isinstance(payload, Checklist):
        return {
            "period": payload.period,
            "unposted_vouchers": payload.drafts,
            "awaiting_approval": payload.awaiting_approval,
            "unallocated_receipts": payload.unallocated_receipts,
            "unallocated_amount": to_str2(payload.unallocated_amount),
        }
    return None


def reminder_json(r: Reminder, knobs) -> dict:
    rendered = render(r, knobs)
    return {
        "kind": r.kind,
        "kind_name": KINDS[r.kind].name,
        "subject": r.subject,
        "date": r.date.isoformat(),
        "recipient": {"staff_id": r.recipient, "name": r.name, "chat_id": r.chat_id},
        "items": r.items,
        "payload": _payload_json(r.payload),
        "text": rendered.text,
        "buttons": [[{"text": t, "callback_data": d} for t, d in row] for row in rendered.buttons],
    }


def cmd_remind(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        now = parse_at(args.at, settings)
    except ErpError as exc:
        print(f"错误 [{exc.code}] {exc.message()}", file=sys.stderr)
        return 2
    from erp.book import open_book

    engine = open_book(settings)
    if args.dry_run:
        return dry_run(engine, settings, now=now, as_json=args.json)
    return send_now(engine, settings, now=now, as_json=args.json)


def dry_run(engine, settings: Settings, *, now: dt.datetime, as_json: bool) -> int:
    from scheduler.delivery import compute

    knobs, reminders = compute(engine, now=now, tz=settings.tz)
    due = [r for r in reminders if not r.empty]
    if as_json:
        out = {
            "at": now.astimezone(settings.tz).isoformat(),
            "reminders": [reminder_json(r, knobs) for r in due],
            "nothing_to_say": [
                {"kind": r.kind, "staff_id": r.recipient, "name": r.name} for r in reminders if r.empty
            ],
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    local = now.astimezone(settings.tz)
    if not due:
        print(f"{local:%Y-%m-%d %H:%M} 没有需要发送的提醒。")
        return 0
    print(f"{local:%Y-%m-%d %H:%M} 将发送 {len(due)} 条提醒（试运行，不发送、不记录）：")
    for r in due:
        print(f"\n=== {KINDS[r.kind].name} → {r.name}（员工 #{r.recipient}，chat {r.chat_id}）")
        rendered = render(r, knobs)
        print(rendered.text)
        for row in rendered.buttons:
            print("  [" + "] [".join(label for label, _ in row) + "]")
    return 0


def send_now(engine, settings: Settings, *, now: dt.datetime, as_json: bool) -> int:
    if not settings.telegram_bot_token:
        print("错误：未设置 TELEGRAM_BOT_TOKEN，无法发送。可先用 --dry-run 查看。", file=sys.stderr)
        return 2
    from telegram import Bot

    from scheduler.delivery import run_due

    kwargs = {}
    if settings.telegram_base_url:
        kwargs["base_url"] = settings.telegram_base_url
    if settings.telegram_base_file_url:
        kwargs["base_file_url"] = settings.telegram_base_file_url

    async def go():
        async with Bot(settings.telegram_bot_token, **kwargs) as bot:
            return await run_due(engine, bot, now=now, tz=settings.tz)

    report = asyncio.run(go())
    if as_json:
        print(
            json.dumps(
                [
                    {"kind": r.kind, "staff_id": r.recipient, "name": r.name, "status": s, "error": e}
                    for r, s, e in report.outcomes
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        print(report.summary())
        for r, status, error in report.outcomes:
            if status in ("blocked", "failed", "retry"):
                print(f"  {KINDS[r.kind].name} → {r.name}：{status} {error or ''}")
    return 0 if not report.counts["failed"] else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("remind", help="提醒：试运行查看，或立即发送到期的提醒")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dry-run", action="store_true", help="只显示将发送给谁、什么内容；不发送、不记录")
    mode.add_argument("--now", action="store_true", help="立即发送到期且今天未发送的提醒")
    p.add_argument("--at", help='按这个本地时间计算，例如 "2024-06-03 09:00"（默认：现在）')
    p.add_argument("--json", action="store_true", help="JSON 输出")
    p.set_defaults(func=cmd_remind)
