"""``invoice draft`` and ``invoice import``: bulk booking from files, folders and zips.

They sit beside ``invoice parse`` (registered by invoice_ocr/cli.py) under the
same ``invoice`` command.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from erp.config import get_settings


def _invoice_group(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The sub-commands of ``invoice``, creating the group when nobody has yet."""
    parser = sub.choices.get("invoice")
    if parser is None:
        parser = sub.add_parser("invoice", help="发票：parse 识别 / draft 预览凭证 / import 批量导入")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="invoice_command", metavar="ACTION")


def _settings_for(args: argparse.Namespace):
    return get_settings()


def cmd_draft(args: argparse.Namespace) -> int:
    from erp.book import open_book
    from erp.importer import collect, draft_json, read_items

    settings = _settings_for(args)
    engine = open_book(settings)
    items = collect(args.files, settings)
    all_ok = True
    for item, parsed in read_items(items, workers=args.workers, settings=settings):
        data = draft_json(engine, settings, item, parsed, direction=args.direction)
        all_ok = all_ok and data["error"] is None
        if args.json:
            print(json.dumps(data, ensure_ascii=False), flush=True)
        else:
            _print_draft(data)
    return 0 if all_ok else 1


def _print_draft(data: dict) -> None:
    print(f"== {data['source']}")
    if data["error"]:
        print(f"   无法处理：{data['error']}")
        return
    inv = data["invoice"]
    word = {"purchase": "采购", "sales": "销售"}.get(data["direction"], "方向未知")
    print(f"   {word}发票 {inv['number']}  {inv['issue_date']}  价税合计 {inv['total']}")
    if data["duplicate_of"]:
        print(f"   重复：已入账（{data['duplicate_of']}）")
    for ln in (data["voucher"] or {}).get("lines", []):
        side = f"借 {ln['debit']}" if ln["debit"] != "0.00" else f"贷 {ln['credit']}"
        party = f"—{ln['party']}" if ln["party"] else ""
        print(f"   {ln['account_code']} {ln['account_name']}{party}  {side}")
    for w in data["warnings"]:
        print(f"   ⚠ {w}")


def cmd_import(args: argparse.Namespace) -> int:
    from erp.book import open_book
    from erp.importer import collect, import_batch

    settings = _settings_for(args)
    engine = open_book(settings)
    items = collect(args.paths, settings)
    if not items:
        print("没有找到可导入的文件", file=sys.stderr)
        return 1
    tty = sys.stderr.isatty()

    def progress(n: int, total: int, outcome) -> None:
        bar = "#" * int(30 * n / total)
        line = f"[{bar:<30}] {n}/{total} {outcome.source[-50:]}"
        print(("\r" + line) if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)

    report = import_batch(
        engine,
        settings,
        items,
        post=args.post,
        direction=args.direction,
        workers=args.workers,
        progress=progress,
    )
    if tty:
        print(file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                {"summary": report.summary(), "files": [o.__dict__ for o in report.outcomes]},
                ensure_ascii=False,
            )
        )
    else:
        print(report.summary_text())
    if args.report:
        path = report.write(Path(args.report))
        print(f"导入明细已写入 {path}", file=sys.stderr)
    return 0 if report.count("failed") == 0 else 1


def register(sub: argparse._SubParsersAction) -> None:
    group = _invoice_group(sub)
    p = group.add_parser("draft", help="预览每张发票将生成的凭证（不写入）")
    p.add_argument("files", nargs="+", help="发票文件、文件夹或 zip")
    p.add_argument("--json", action="store_true", help="每个文件一行 JSON")
    p.add_argument("--direction", choices=["purchase", "sales"], help="强制指定采购/销售")
    p.add_argument("--workers", type=int, default=get_settings().ocr_workers)
    p.set_defaults(func=cmd_draft)

    p = group.add_parser("import", help="批量导入：文件、文件夹或电子发票服务平台导出的 zip")
    p.add_argument("paths", nargs="+")
    p.add_argument("--post", action="store_true", help="直接入账（超过审批额度的仍需经理审批）")
    p.add_argument("--direction", choices=["purchase", "sales"])
    p.add_argument("--workers", type=int, default=get_settings().ocr_workers)
    p.add_argument("--report", help="导入明细报表路径（.csv 或 .xlsx）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import)
