"""`python main.py invoice …`: invoice commands. ``parse`` reads files and prints what it found.

Other invoice subcommands (draft, import) register beside ``parse`` through
``add_invoice_commands``' subparsers, which ``register`` keeps on the parser
as ``invoice_subparsers``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from values.money import fmt


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("invoice", help="发票：识别、入账")
    invoice_subparsers = parser.add_subparsers(dest="invoice_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])
    add_invoice_commands(invoice_subparsers)
    parser.invoice_subparsers = invoice_subparsers  # type: ignore[attr-defined]
    return parser


def add_invoice_commands(invoice_subparsers: Any) -> None:
    add_parse_command(invoice_subparsers)


def add_parse_command(invoice_subparsers: Any) -> argparse.ArgumentParser:
    p = invoice_subparsers.add_parser("parse", help="识别发票文件（PDF、OFD、XML、图片），输出结构化结果")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="每个文件输出一行 JSON（JSON Lines，顺序与输入一致）")
    p.add_argument("--workers", type=int, default=None, help="并行识别的进程数（默认取设置 ocr_workers）")
    p.set_defaults(func=run_parse)
    return p


def summary(d: dict[str, Any]) -> str:
    """A readable block for one file."""
    head = f"== {d['source']}"
    if d.get("error"):
        return f"{head}\n  ✗ 无法读取：{d['error']}"
    kind = {"special": "专用发票", "normal": "普通发票"}.get(d.get("invoice_type") or "", "种类未知")
    red = "（红字）" if d.get("is_red") else ""
    lines = [f"{head}  [{d['format']}] {kind}{red}  {'✓ 校验通过' if d['ok'] else '⚠ 有问题'}"]
    lines.append(f"  发票号码 {d.get('number') or '—'}" + (f"  代码 {d['code']}" if d.get("code") else ""))
    lines.append(f"  开票日期 {d.get('issue_date') or '—'}")
    for label, key in (("销售方", "seller"), ("购买方", "buyer")):
        party = d.get(key) or {}
        lines.append(f"  {label} {party.get('name') or '—'}  {party.get('tax_id') or ''}".rstrip())
    for ln in d.get("lines", []):
        lines.append(
            f"    · {ln['name']}  {ln.get('amount') or '—'}  {ln.get('tax_rate') or '—'}  税 {ln.get('tax') or '—'}"
        )

    def money_text(v: str | None) -> str:
        from decimal import Decimal

        return fmt(Decimal(v)) if v is not None else "—"

    lines.append(
        f"  合计 {money_text(d.get('total_amount'))}  税额 {money_text(d.get('total_tax'))}  "
        f"价税合计 {money_text(d.get('total'))}"
    )
    for w in d.get("warnings", []):
        lines.append(f"  ⚠ {w}")
    return "\n".join(lines)


def run_parse(args: argparse.Namespace) -> int:
    from erp.config import get_settings

    from .pool import InvoicePool

    settings = get_settings()
    pool = InvoicePool.from_settings(settings)
    if args.workers:
        pool.workers = args.workers
    all_read = True
    with pool:
        futures = [(f, pool.submit(f, f)) for f in args.files]
        for source, fut in futures:
            inv = pool.collect(fut, source)
            d = inv.to_json_dict()
            all_read = all_read and d["error"] is None
            if args.json:
                print(json.dumps(d, ensure_ascii=False), flush=True)
            else:
                print(summary(d), flush=True)
    sys.stdout.flush()
    return 0 if all_read else 1
