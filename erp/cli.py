"""ERP subcommands: db, demo, stock, ar/ap, voucher, trial-balance, staff, period, rules.

``--json`` output is stable (documented in the README): money as two-place
decimal strings, quantities as decimal strings, dates as YYYY-MM-DD.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from decimal import Decimal

from sqlmodel import Session, select

from erp.config import Settings, get_settings
from erp.errors import ErpError
from values import clock
from values.money import fmt, fmt_qty, to_str2

Handler = Callable[[argparse.Namespace], int]


def _settings() -> Settings:
    return get_settings()


def _engine():
    from erp.book import open_book

    return open_book(_settings())


def _today(settings: Settings) -> dt.date:
    return clock.today(settings.tz)


def _print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=None, default=str))


def _fails(fn: Handler) -> Handler:
    """Refusals become a clear message and exit status 1, never a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except ErpError as exc:
            print(f"错误 [{exc.code}] {exc.message()}\n提示：{exc.hint}", file=sys.stderr)
            return 1

    return run


# --- db / demo ----------------------------------------------------------------


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from erp.book import open_book

    s = _settings()
    open_book(s)
    print(f"数据库已升级到最新版本：{_safe_url(s.database_url)}")
    return 0


def _safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_demo(args: argparse.Namespace) -> int:
    from erp import demo

    s = _settings()
    engine = _engine()
    if args.if_empty and not demo.is_empty(engine):
        print("数据库已有数据，跳过示例公司生成（用 demo --reset 重新生成）")
        return 0
    if args.reset:
        engine.dispose()
        demo.reset_and_generate(s.database_url, s, seed=args.seed)
    else:
        if not demo.is_empty(engine):
            print("数据库已有数据；用 demo --reset 清空并重新生成示例公司", file=sys.stderr)
            return 1
        demo.generate_demo(engine, s, seed=args.seed)
    print(f"示例公司「{s.company_name}」已生成：{_safe_url(s.database_url)}")
    return 0


# --- stock ----------------------------------------------------------------------


def _product_json(session: Session, product, with_levels: bool = True) -> dict:
    from erp.models import Warehouse
    from erp.stock import levels, on_hand

    total = on_hand(session, product.id)
    out = {
        "sku": product.sku,
        "name": product.name,
        "spec": product.spec,
        "unit": product.unit,
        "on_hand": str(total),
        "min_stock": str(product.min_stock),
        "below_minimum": bool(product.min_stock and total < product.min_stock),
        "avg_cost": to_str2(product.avg_cost),
    }
    if with_levels:
        names = {w.id: w.name for w in session.exec(select(Warehouse)).all()}
        out["levels"] = [
            {"warehouse": names.get(lv.warehouse_id), "batch": lv.batch or None, "quantity": str(lv.quantity)}
            for lv in levels(session, product.id)
        ]
    return out


@_fails
def cmd_stock(args: argparse.Namespace) -> int:
    from erp.models import Product
    from erp.products import find_products
    from erp.stock import below_minimum

    engine = _engine()
    with Session(engine) as session:
        if args.low:
            rows = [
                {
                    "sku": x.product.sku,
                    "name": x.product.name,
                    "on_hand": str(x.on_hand),
                    "min_stock": str(x.minimum),
                    "suggested_order": str(x.suggested_order),
                }
                for x in below_minimum(session)
            ]
            if args.json:
                _print_json({"below_minimum": rows})
            else:
                print(f"低于最低库存的商品（{len(rows)}）：")
                for r in rows:
                    print(
                        f"  {r['sku']} {r['name']}  现有 {r['on_hand']} / 最低 {r['min_stock']}  建议补货 {r['suggested_order']}"
                    )
            return 0
        if args.list or not args.query:
            products = session.exec(select(Product).where(Product.active == True).order_by(Product.sku)).all()  # noqa: E712
            rows = [_product_json(session, p, with_levels=False) for p in products]
            if args.json:
                _print_json({"products": rows})
            else:
                for r in rows:
                    flag = " ⚠低于最低库存" if r["below_minimum"] else ""
                    print(
                        f"{r['sku']:<8} {r['name']} {r['spec'] or ''}  {r['on_hand']}{r['unit'] or ''}{flag}"
                    )
            return 0
        matches = find_products(session, args.query)
        if not matches:
            if args.json:
                _print_json({"query": args.query, "matches": []})
            else:
                print(f"没有找到与「{args.query}」匹配的商品。试试商品编码（如 A001）或名称的一部分。")
            return 1
        rows = [_product_json(session, m.item) for m in matches]
        if args.json:
            _print_json({"query": args.query, "matches": rows})
            return 0
        for r in rows:
            flag = "（⚠低于最低库存）" if r["below_minimum"] else ""
            print(
                f"{r['sku']} {r['name']} {r['spec'] or ''}：共 {fmt_qty(Decimal(r['on_hand']))}{r['unit'] or ''}{flag}"
            )
            for lv in r["levels"]:
                batch = f" 批次 {lv['batch']}" if lv["batch"] else ""
                print(f"    {lv['warehouse']}{batch}: {fmt_qty(Decimal(lv['quantity']))}")
    return 0


# --- receivables / payables -----------------------------------------------------


@_fails
def cmd_ar(args: argparse.Namespace) -> int:
    from erp.models import Party
    from erp.parties import find_parties
    from erp.receivables import BUCKETS, aging, collection_period_by_region, dso, open_items, top_debtors

    side = "payable" if args.command == "ap" else "receivable"
    s = _settings()
    engine = _engine()
    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else _today(s)
    with Session(engine) as session:
        if args.query:
            kind = "supplier" if side == "payable" else "customer"
            matches = find_parties(session, args.query, kind=kind)
            if not matches:
                who = "供应商" if side == "payable" else "客户"
                if args.json:
                    _print_json({"query": args.query, "party": None})
                else:
                    print(f"没有找到{who}「{args.query}」。")
                return 1
            party: Party = matches[0].item
            items = open_items(session, side=side, party_id=party.id)
            ag = aging(session, as_of=as_of, side=side, party_id=party.id)
            data = {
                "party": {"name": party.name, "tax_id": party.tax_id, "credit_days": party.credit_days},
                "as_of": as_of.isoformat(),
                "balance": to_str2(sum((i.open for i in items), Decimal(0))),
                "open_items": [
                    {
                        "number": i.number,
                        "issue_date": i.issue_date.isoformat(),
                        "due_date": i.due_date.isoformat(),
                        "total": to_str2(i.total),
                        "open": to_str2(i.open),
                        "days_overdue": max(i.days_overdue(as_of), 0),
                    }
                    for i in items
                ],
                "aging": {b: to_str2(ag.buckets[b]) for b in BUCKETS},
            }
            if args.json:
                _print_json(data)
                return 0
            word = "应付" if side == "payable" else "应收"
            print(f"{party.name} {word}余额 ¥{fmt(Decimal(data['balance']))}（截至 {as_of}）")
            for i in data["open_items"]:
                late = f"逾期 {i['days_overdue']} 天" if i["days_overdue"] else "未到期"
                print(
                    f"  {i['issue_date']} 发票 {i['number']}  未结 ¥{fmt(Decimal(i['open']))}  到期 {i['due_date']}  {late}"
                )
            print("  账龄：" + "  ".join(f"{b} ¥{fmt(ag.buckets[b])}" for b in BUCKETS))
            return 0
        ag = aging(session, as_of=as_of, side=side)
        top = top_debtors(session, side=side, limit=10)
        data = {
            "as_of": as_of.isoformat(),
            "total": to_str2(ag.total),
            "overdue": to_str2(ag.overdue),
            "aging": {b: to_str2(ag.buckets[b]) for b in BUCKETS},
            "top": [{"name": p.name, "open": to_str2(v)} for p, v in top],
        }
        if side == "receivable":
            d = dso(session, as_of=as_of)
            data["dso_days"] = to_str2(d) if d is not None else None
            data["collection_days_by_region"] = {
                k: {"days": to_str2(v[0]), "receipts": v[1]}
                for k, v in collection_period_by_region(session).items()
            }
        if args.json:
            _print_json(data)
            return 0
        word = "应付账款" if side == "payable" else "应收账款"
        print(f"{word}合计 ¥{fmt(ag.total)}，其中逾期 ¥{fmt(ag.overdue)}（截至 {as_of}）")
        print("账龄：" + "  ".join(f"{b} ¥{fmt(ag.buckets[b])}" for b in BUCKETS))
        if data.get("dso_days"):
            print(f"应收账款周转天数 DSO：{data['dso_days']} 天")
        print("前十名：")
        for p, v in top:
            print(f"  {p.name}  ¥{fmt(v)}")
        if data.get("collection_days_by_region"):
            print("平均回款周期（按地区）：")
            for k, v in data["collection_days_by_region"].items():
                print(f"  {k}: {v['days']} 天（{v['receipts']} 笔）")
    return 0


# --- vouchers / reports ---------------------------------------------------------


def voucher_json(session: Session, voucher) -> dict:
    from erp.chart import full_name
    from erp.models import Party
    from erp.vouchers import lines_of

    names: dict[int, str] = {}
    lines = []
    for ln in lines_of(session, voucher.id):
        if ln.party_id and ln.party_id not in names:
            p = session.get(Party, ln.party_id)
            names[ln.party_id] = p.name if p else ""
        lines.append(
            {
                "summary": ln.summary,
                "account_code": ln.account_code,
                "account_name": full_name(session, ln.account_code),
                "party": names.get(ln.party_id) if ln.party_id else None,
                "debit": to_str2(ln.debit),
                "credit": to_str2(ln.credit),
            }
        )
    return {
        "number": voucher.number,
        "word": voucher.word,
        "date": voucher.date.isoformat(),
        "period": voucher.period,
        "status": voucher.status,
        "summary": voucher.summary,
        "total": to_str2(voucher.total),
        "source": {"type": voucher.source_type, "id": voucher.source_id} if voucher.source_type else None,
        "lines": lines,
    }


def print_voucher(data: dict) -> None:
    from erp.vouchers import state_name

    print(f"{data['number']}  {data['date']}  {state_name(data['status'])}  {data['summary']}")
    for ln in data["lines"]:
        party = f"—{ln['party']}" if ln["party"] else ""
        d = fmt(Decimal(ln["debit"])) if Decimal(ln["debit"]) else ""
        c = fmt(Decimal(ln["credit"])) if Decimal(ln["credit"]) else ""
        print(f"  {ln['account_code']} {ln['account_name']}{party:<12} 借 {d:>14}  贷 {c:>14}")
    print(f"  合计 {fmt(Decimal(data['total']))}")


@_fails
def cmd_voucher(args: argparse.Namespace) -> int:
    from erp.models import Voucher
    from erp.vouchers import get_voucher, state_name

    engine = _engine()
    with Session(engine) as session:
        if args.action == "show":
            v = get_voucher(session, args.number)
            data = voucher_json(session, v)
            _print_json(data) if args.json else print_voucher(data)
            return 0
        stmt = select(Voucher).order_by(Voucher.period.desc(), Voucher.seq.desc())  # type: ignore[attr-defined]
        if args.period:
            stmt = stmt.where(Voucher.period == args.period)
        if args.status:
            stmt = stmt.where(Voucher.status == args.status)
        rows = session.exec(stmt.limit(args.limit)).all()
        if args.json:
            _print_json(
                {
                    "vouchers": [
                        {
                            "number": v.number,
                            "date": v.date.isoformat(),
                            "status": v.status,
                            "summary": v.summary,
                            "total": to_str2(v.total),
                        }
                        for v in rows
                    ]
                }
            )
            return 0
        for v in rows:
            print(f"{v.number}  {v.date}  {state_name(v.status):<4} ¥{fmt(v.total):>14}  {v.summary}")
    return 0


@_fails
def cmd_voucher_change(args: argparse.Namespace) -> int:
    from erp.db import transaction
    from erp.invoices import approve_invoice, void_invoice
    from erp.models import Invoice, Settlement
    from erp.receivables import void_settlement
    from erp.vouchers import approve_voucher, get_voucher, post_voucher, void_voucher

    s = _settings()
    with transaction(_engine()) as session:
        v = get_voucher(session, args.number)
        invoice = session.get(Invoice, v.source_id) if v.source_type == "invoice" else None
        if args.action == "void":
            # void the business document too, so stock and open items follow the ledger
            if invoice is not None:
                reversal = void_invoice(session, invoice.id, s, actor_id=None, reason=args.reason)
            elif v.source_type in ("receipt", "payment"):
                void_settlement(session, session.get(Settlement, v.source_id), None, reason=args.reason)
                reversal = session.get(type(v), v.reversed_by_id) if v.reversed_by_id else None
            else:
                reversal = void_voucher(session, v, None, reason=args.reason)
            print(f"凭证 {v.number} 已作废" + (f"，冲销凭证 {reversal.number}" if reversal else ""))
            return 0
        if args.action == "approve":
            if invoice is not None:
                result = approve_invoice(session, invoice.id, s, manager_id=None)
                print(f"凭证 {v.number} 已审批并入账" if result.outcome != "needs_approval" else "")
            else:
                approve_voucher(session, v, None)
                post_voucher(session, v, s, None)
                print(f"凭证 {v.number} 已审批并入账")
            return 0
    return 2


@_fails
def cmd_settle(args: argparse.Namespace) -> int:
    from erp.db import transaction
    from erp.parties import find_parties
    from erp.receivables import settle

    s = _settings()
    side = "receivable" if args.command == "receive" else "payable"
    kind = "customer" if side == "receivable" else "supplier"
    date = dt.date.fromisoformat(args.date) if args.date else _today(s)
    with transaction(_engine()) as session:
        matches = find_parties(session, args.party, kind=kind)
        if not matches:
            raise ErpError("NOT_FOUND", what="客户" if side == "receivable" else "供应商", key=args.party)
        if len(matches) > 1 and matches[0].score == matches[1].score:
            names = "、".join(m.item.name for m in matches[:3])
            raise ErpError("INVALID_INPUT", why=f"「{args.party}」对应多个单位：{names}，请写全称")
        party = matches[0].item
        st = settle(
            session, party=party, amount=args.amount, date=date, settings=s, side=side, reference=args.ref
        )
        from erp.models import Voucher

        number = session.get(Voucher, st.voucher_id).number
    word = "收到" if side == "receivable" else "支付"
    extra = (
        f"，其中 ¥{fmt(st.unallocated)} 记为{'预收' if side == 'receivable' else '预付'}账款"
        if st.unallocated
        else ""
    )
    print(f"已登记{word} {party.name} ¥{fmt(st.amount)}，凭证 {number}{extra}")
    return 0


@_fails
def cmd_trial_balance(args: argparse.Namespace) -> int:
    from erp.reports import TBRow, trial_balance

    s = _settings()
    period = args.period or _today(s).strftime("%Y-%m")
    engine = _engine()
    with Session(engine) as session:
        tb = trial_balance(session, period)
    totals = tb.totals()
    if args.json:
        _print_json(
            {
                "period": period,
                "balanced": tb.balanced,
                "rows": [
                    {
                        "code": r.code,
                        "name": r.name,
                        "level": r.level,
                        "opening_debit": to_str2(TBRow.sides(r.opening)[0]),
                        "opening_credit": to_str2(TBRow.sides(r.opening)[1]),
                        "debit": to_str2(r.debit),
                        "credit": to_str2(r.credit),
                        "closing_debit": to_str2(TBRow.sides(r.closing)[0]),
                        "closing_credit": to_str2(TBRow.sides(r.closing)[1]),
                    }
                    for r in tb.rows
                ],
                "totals": {k: to_str2(v) for k, v in totals.items()},
            }
        )
        return 0
    print(f"试算平衡表 {period}（{'平衡' if tb.balanced else '不平衡！'}）")
    print(
        f"{'科目':<24}{'期初借方':>14}{'期初贷方':>14}{'本期借方':>14}{'本期贷方':>14}{'期末借方':>14}{'期末贷方':>14}"
    )
    for r in tb.rows:
        od, oc = TBRow.sides(r.opening)
        cd, cc = TBRow.sides(r.closing)
        label = ("  " * (r.level - 1) + f"{r.code} {r.name}")[:24]
        print(
            f"{label:<24}{fmt(od):>14}{fmt(oc):>14}{fmt(r.debit):>14}{fmt(r.credit):>14}{fmt(cd):>14}{fmt(cc):>14}"
        )
    t = totals
    print(
        f"{'合计':<24}{fmt(t['opening_debit']):>14}{fmt(t['opening_credit']):>14}{fmt(t['debit']):>14}"
        f"{fmt(t['credit']):>14}{fmt(t['closing_debit']):>14}{fmt(t['closing_credit']):>14}"
    )
    return 0 if tb.balanced else 1


# --- staff, periods, rules --------------------------------------------------------


@_fails
def cmd_staff(args: argparse.Namespace) -> int:
    from erp.db import transaction
    from erp.models import Staff
    from erp.staff import ROLES, add_staff, deactivate

    engine = _engine()
    if args.action == "add":
        with transaction(engine) as session:
            st = add_staff(session, telegram_id=args.telegram_id, name=args.name, role=args.role)
        print(f"已添加员工 {st.name}（{ROLES[st.role]}，Telegram ID {st.telegram_id}）")
        return 0
    if args.action == "remove":
        with transaction(engine) as session:
            st = deactivate(session, args.telegram_id)
        print(f"已停用员工 {st.name}（Telegram ID {st.telegram_id}）")
        return 0
    with Session(engine) as session:
        rows = session.exec(select(Staff).order_by(Staff.id)).all()
        if args.json:
            _print_json(
                {
                    "staff": [
                        {"telegram_id": r.telegram_id, "name": r.name, "role": r.role, "active": r.active}
                        for r in rows
                    ]
                }
            )
            return 0
        for r in rows:
            state = "" if r.active else "（已停用）"
            print(f"{r.telegram_id:>12}  {r.name}  {ROLES.get(r.role, r.role)}{state}")
    return 0


@_fails
def cmd_period(args: argparse.Namespace) -> int:
    from erp.db import transaction
    from erp.vouchers import close_period, reopen_period

    engine = _engine()
    with transaction(engine) as session:
        if args.action == "close":
            close_period(session, args.period, None)
            print(f"期间 {args.period} 已结账")
        else:
            reopen_period(session, args.period, None)
            print(f"期间 {args.period} 已反结账")
    return 0


def cmd_accounts(args: argparse.Namespace) -> int:
    from erp.models import Account

    with Session(_engine()) as session:
        rows = session.exec(select(Account).where(Account.active == True).order_by(Account.code)).all()  # noqa: E712
    if args.json:
        _print_json(
            {
                "accounts": [
                    {"code": a.code, "name": a.name, "level": a.level, "category": a.category,
                     "nature": a.nature, "leaf": a.is_leaf, "aux_party": a.aux_party}
                    for a in rows
                ]
            }
        )  # fmt: skip
        return 0
    for a in rows:
        aux = "（往来核算）" if a.aux_party else ""
        print(f"{'  ' * (a.level - 1)}{a.code} {a.name}{aux}")
    return 0


@_fails
def cmd_rules(args: argparse.Namespace) -> int:
    from erp.chart import full_name
    from erp.db import transaction
    from erp.models import Account, PostingRule

    engine = _engine()
    if args.action == "add":
        with transaction(engine) as session:
            acc = session.get(Account, args.account)
            if acc is None:
                raise ErpError("UNKNOWN_ACCOUNT", code=args.account)
            if not acc.is_leaf:
                raise ErpError("NOT_LEAF_ACCOUNT", code=acc.code, name=acc.name)
            rule = PostingRule(
                direction=args.direction,
                invoice_type=args.type,
                category=args.category,
                account_code=acc.code,
                is_stock=args.stock,
                vat_deductible=False if args.no_deduct else None,
                priority=args.priority,
                note=args.note,
            )
            session.add(rule)
            session.flush()
            print(
                f"已添加规则 {rule.id}：{args.direction} {args.category or '（其他）'} -> {acc.code} {full_name(session, acc.code)}"
            )
        return 0
    if args.action == "remove":
        with transaction(engine) as session:
            rule = session.get(PostingRule, args.id)
            if rule is None:
                raise ErpError("NOT_FOUND", what="记账规则", key=args.id)
            session.delete(rule)
        print(f"已删除规则 {args.id}")
        return 0
    with Session(engine) as session:
        rows = session.exec(select(PostingRule).order_by(PostingRule.direction, PostingRule.category)).all()
        for r in rows:
            cat = r.category or "（其他）"
            print(
                f"{r.id:>3} {r.direction:<8} {r.invoice_type:<7} {cat:<10} -> {r.account_code} {full_name(session, r.account_code)}  {r.note or ''}"
            )
    return 0


@_fails
def cmd_party_add(args: argparse.Namespace) -> int:
    from erp.db import transaction
    from erp.parties import create_party

    with transaction(_engine()) as session:
        p = create_party(
            session,
            name=args.name,
            kind=args.kind,
            tax_id=args.tax_id,
            short_name=args.short_name,
            aliases=args.aliases,
            province=args.province,
            city=args.city,
            credit_days=args.credit_days,
        )
    print(f"已添加往来单位 {p.name}（{p.kind}，信用期 {p.credit_days} 天）")
    return 0


@_fails
def cmd_product_add(args: argparse.Namespace) -> int:
    from erp.db import transaction
    from erp.products import create_product

    with transaction(_engine()) as session:
        p = create_product(
            session,
            sku=args.sku,
            name=args.name,
            spec=args.spec,
            unit=args.unit,
            category=args.category,
            tax_rate=args.tax_rate,
            min_stock=args.min_stock,
            colour=args.colour,
            size=args.size,
            aliases=args.aliases,
        )
    print(f"已添加商品 {p.sku} {p.name}")
    return 0


@_fails
def cmd_stock_adjust(args: argparse.Namespace) -> int:
    from erp.db import transaction
    from erp.models import Product, Warehouse
    from erp.stock import adjust_stock, default_warehouse

    s = _settings()
    with transaction(_engine()) as session:
        product = session.exec(select(Product).where(Product.sku == args.sku.upper())).first()
        if product is None:
            raise ErpError("NOT_FOUND", what="商品", key=args.sku)
        wh = (
            session.exec(select(Warehouse).where(Warehouse.code == args.warehouse)).first()
            if args.warehouse
            else default_warehouse(session)
        )
        if wh is None:
            raise ErpError("NOT_FOUND", what="仓库", key=args.warehouse)
        result, voucher = adjust_stock(
            session,
            product=product,
            warehouse_id=wh.id,
            counted=args.counted,
            date=_today(s),
            settings=s,
            reason=args.reason,
        )
    change = "无差异" if result.difference == 0 else f"差异 {result.difference.normalize():+f}"
    print(
        f"{product.sku} {product.name} 账面 {result.book.normalize():f} → 实盘 {result.counted.normalize():f}，{change}"
    )
    if voucher is not None:
        print(f"已生成凭证 {voucher.number}，金额 ¥{fmt(result.amount)}")
    return 0


@_fails
def cmd_margin(args: argparse.Namespace) -> int:
    from erp.reports import gross_margin

    start = dt.date.fromisoformat(args.start) if args.start else None
    end = dt.date.fromisoformat(args.end) if args.end else None
    with Session(_engine()) as session:
        rows = gross_margin(session, start=start, end=end)
    data = [
        {
            "sku": r.product.sku,
            "name": r.product.name,
            "quantity": str(r.quantity),
            "revenue": to_str2(r.revenue),
            "cost": to_str2(r.cost),
            "margin": to_str2(r.margin),
            "margin_rate": str(r.margin_rate) if r.margin_rate is not None else None,
        }
        for r in rows[: args.limit]
    ]
    if args.json:
        _print_json({"start": args.start, "end": args.end, "products": data})
        return 0
    print("销售毛利（按商品）：")
    for r in data:
        rate = f"{r['margin_rate']}%" if r["margin_rate"] else "-"
        print(
            f"  {r['sku']:<8} {r['name']:<16} 收入 {fmt(Decimal(r['revenue'])):>12} 成本 {fmt(Decimal(r['cost'])):>12} 毛利 {fmt(Decimal(r['margin'])):>12} {rate:>7}"
        )
    return 0


@_fails
def cmd_balance(args: argparse.Namespace) -> int:
    from erp.chart import full_name
    from erp.models import Account
    from erp.reports import balance

    with Session(_engine()) as session:
        acc = session.get(Account, args.account)
        if acc is None:
            raise ErpError("UNKNOWN_ACCOUNT", code=args.account)
        until = dt.date.fromisoformat(args.until) if args.until else None
        value = balance(session, acc.code, until=until)
        name = full_name(session, acc.code)
    side = "借" if value >= 0 else "贷"
    if args.json:
        _print_json({"account": acc.code, "name": name, "balance": to_str2(value), "until": args.until})
    else:
        print(f"{acc.code} {name} 余额：{side} ¥{fmt(abs(value))}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="数据库：upgrade 应用迁移")
    p.add_argument("action", choices=["upgrade"])
    p.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("demo", help="生成示例公司数据")
    p.add_argument("--reset", action="store_true", help="清空数据库后重新生成")
    p.add_argument("--if-empty", action="store_true", help="只在数据库为空时生成")
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("stock", help="库存查询：stock A001 / stock --list / stock --low")
    p.add_argument("query", nargs="?")
    p.add_argument("--list", action="store_true", help="列出全部商品")
    p.add_argument("--low", action="store_true", help="低于最低库存的商品")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stock)

    for name, help_text in (("ar", "应收账款：ar 华为 / ar（账龄汇总）"), ("ap", "应付账款：ap 供应商 / ap")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("query", nargs="?")
        p.add_argument("--as-of", help="截至日期 YYYY-MM-DD（默认今天）")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_ar)

    p = sub.add_parser("voucher", help="凭证：voucher list / voucher show 记-202405-0001")
    vs = p.add_subparsers(dest="action", required=True)
    pl = vs.add_parser("list")
    pl.add_argument("--period", help="YYYY-MM")
    pl.add_argument("--status", choices=["draft", "approved", "posted", "void"])
    pl.add_argument("--limit", type=int, default=50)
    pl.add_argument("--json", action="store_true")
    pl.set_defaults(func=cmd_voucher)
    ps = vs.add_parser("show")
    ps.add_argument("number", help="凭证号，如 记-202405-0001 或 202405-1")
    ps.add_argument("--json", action="store_true")
    ps.set_defaults(func=cmd_voucher)

    pv = vs.add_parser("void", help="作废（已记账的生成红字冲销凭证）")
    pv.add_argument("number")
    pv.add_argument("--reason", required=True)
    pv.set_defaults(func=cmd_voucher_change)
    pa = vs.add_parser("approve", help="经理审批并入账")
    pa.add_argument("number")
    pa.set_defaults(func=cmd_voucher_change)

    for name, help_text in (("receive", "登记收款：receive 华为 5000"), ("pay", "登记付款：pay 供应商 3000")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("party")
        p.add_argument("amount")
        p.add_argument("--date", help="YYYY-MM-DD（默认今天）")
        p.add_argument("--ref", help="银行流水号等")
        p.set_defaults(func=cmd_settle)

    p = sub.add_parser("trial-balance", help="试算平衡表")
    p.add_argument("--period", help="YYYY-MM（默认本月）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_trial_balance)

    p = sub.add_parser(
        "staff", help="员工：staff add ID --role ROLE --name NAME / staff list / staff remove ID"
    )
    ss = p.add_subparsers(dest="action", required=True)
    pa = ss.add_parser("add")
    pa.add_argument("telegram_id", type=int)
    pa.add_argument("--role", required=True, choices=["admin", "accountant", "warehouse", "sales", "manager"])
    pa.add_argument("--name", required=True)
    pa.set_defaults(func=cmd_staff)
    pr = ss.add_parser("remove")
    pr.add_argument("telegram_id", type=int)
    pr.set_defaults(func=cmd_staff)
    pls = ss.add_parser("list")
    pls.add_argument("--json", action="store_true")
    pls.set_defaults(func=cmd_staff)

    p = sub.add_parser("margin", help="销售毛利（按商品）")
    p.add_argument("--start", help="YYYY-MM-DD")
    p.add_argument("--end", help="YYYY-MM-DD")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_margin)

    p = sub.add_parser("balance", help="科目余额：balance 1002（含下级科目，借方为正）")
    p.add_argument("account")
    p.add_argument("--until", help="截至日期 YYYY-MM-DD")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_balance)

    p = sub.add_parser("party", help="往来单位：party add NAME --kind customer --tax-id ...")
    ps = p.add_subparsers(dest="action", required=True)
    pa = ps.add_parser("add")
    pa.add_argument("name")
    pa.add_argument("--kind", choices=["customer", "supplier", "both"], default="customer")
    pa.add_argument("--tax-id")
    pa.add_argument("--short-name")
    pa.add_argument("--aliases", help="别名，逗号分隔")
    pa.add_argument("--province")
    pa.add_argument("--city")
    pa.add_argument("--credit-days", type=int, default=30)
    pa.set_defaults(func=cmd_party_add)

    p = sub.add_parser("product", help="商品：product add SKU NAME --spec ... --min-stock 10")
    ps = p.add_subparsers(dest="action", required=True)
    pa = ps.add_parser("add")
    pa.add_argument("sku")
    pa.add_argument("name")
    pa.add_argument("--spec")
    pa.add_argument("--unit", default="个")
    pa.add_argument("--category")
    pa.add_argument("--tax-rate", default="0.13")
    pa.add_argument("--min-stock", default="0")
    pa.add_argument("--colour")
    pa.add_argument("--size")
    pa.add_argument("--aliases")
    pa.set_defaults(func=cmd_product_add)

    p = sub.add_parser("stock-adjust", help="盘点调整：stock-adjust A001 --counted 95 --reason 月末盘点")
    p.add_argument("sku")
    p.add_argument("--counted", required=True)
    p.add_argument("--reason", required=True)
    p.add_argument("--warehouse", help="仓库编码（默认主仓库）")
    p.set_defaults(func=cmd_stock_adjust)

    p = sub.add_parser("period", help="结账：period close 2024-05 / period reopen 2024-05")
    p.add_argument("action", choices=["close", "reopen"])
    p.add_argument("period")
    p.set_defaults(func=cmd_period)

    p = sub.add_parser("accounts", help="科目表")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_accounts)

    p = sub.add_parser("rules", help="记账规则：rules list / rules add / rules remove ID")
    rs = p.add_subparsers(dest="action")
    p.set_defaults(func=cmd_rules, action="list")
    rs.add_parser("list").set_defaults(func=cmd_rules)
    ra = rs.add_parser("add", help="rules add --direction purchase --category 办公用品 --account 560203")
    ra.add_argument("--direction", choices=["purchase", "sales"], required=True)
    ra.add_argument("--category", default="", help="发票项目名称 *类别* 中的文字；空 = 其他")
    ra.add_argument("--account", required=True)
    ra.add_argument("--type", choices=["*", "special", "normal"], default="*", help="发票类型")
    ra.add_argument("--stock", action="store_true", help="商品进出库存")
    ra.add_argument("--no-deduct", action="store_true", help="进项税不得抵扣")
    ra.add_argument("--priority", type=int, default=10, help="同样匹配时优先级高者胜（默认规则为 0）")
    ra.add_argument("--note")
    ra.set_defaults(func=cmd_rules)
    rr = rs.add_parser("remove")
    rr.add_argument("id", type=int)
    rr.set_defaults(func=cmd_rules)
