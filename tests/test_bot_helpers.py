"""Shared set-up for the bot tests: a small company, its staff, and the local chat.

Everything runs the real PTB Application against ``bot.fakeapi`` on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

from bot.context import AppContext
from bot.fakeapi import FakeBotApi
from bot.localchat import LocalChat
from erp.db import transaction
from erp.invoices import book_invoice
from erp.models import Staff
from erp.parties import create_party
from erp.products import create_product
from erp.staff import add_staff
from erp.stock import default_warehouse, move_in
from tests.factories import OUR_NAME, OUR_TAX_ID, line, parsed_invoice, uscc
from values import clock

ADMIN, ACCOUNTANT, MANAGER, WAREHOUSE, SALES, STRANGER = 1001, 1002, 1003, 1004, 1005, 4242


def user(telegram_id: int, name: str = "用户") -> dict:
    return FakeBotApi.user(telegram_id, name)


def run(coro):
    return asyncio.run(coro)


def company_settings(settings):
    """The test settings (fresh database, temp storage) for our demo company."""
    return settings.model_copy(
        update={
            "company_tax_id": OUR_TAX_ID,
            "company_name": OUR_NAME,
            "approval_threshold": Decimal("50000.00"),
        }
    )


def seed_company(engine) -> dict:
    """Staff of every role, products with stock, a customer with open invoices."""
    ids: dict = {}
    with transaction(engine) as s:
        for tid, name, role in [
            (ADMIN, "王管理", "admin"),
            (ACCOUNTANT, "李会计", "accountant"),
            (MANAGER, "张经理", "manager"),
            (WAREHOUSE, "赵仓管", "warehouse"),
            (SALES, "钱销售", "sales"),
        ]:
            ids[role] = add_staff(s, telegram_id=tid, name=name, role=role).id
        wh = default_warehouse(s)
        a001 = create_product(s, sku="A001", name="电阻器", spec="RC-0805", unit="个", min_stock="50")
        tee_m = create_product(
            s, sku="T-RED-M", name="纯棉T恤", unit="件", style="T恤", colour="红", size="M", aliases="红T恤"
        )
        tee_l = create_product(
            s, sku="T-RED-L", name="纯棉T恤", unit="件", style="T恤", colour="红", size="L"
        )
        create_product(s, sku="T-BLU-M", name="纯棉T恤", unit="件", style="T恤", colour="蓝", size="M")
        day = clock.today() - dt.timedelta(days=100)
        move_in(
            s,
            product=a001,
            warehouse_id=wh.id,
            quantity=Decimal(30),
            amount=Decimal("150.00"),
            date=day,
            kind="opening",
        )
        move_in(
            s,
            product=tee_m,
            warehouse_id=wh.id,
            quantity=Decimal(12),
            amount=Decimal("360.00"),
            date=day,
            kind="opening",
            batch="B2405",
        )
        move_in(
            s,
            product=tee_l,
            warehouse_id=wh.id,
            quantity=Decimal(5),
            amount=Decimal("150.00"),
            date=day,
            kind="opening",
        )
        huawei = create_party(
            s, name="深圳华为技术有限公司", kind="customer", tax_id=uscc(1), short_name="华为", province="广东", credit_days=30,
            sales_rep_id=ids["sales"],
        )  # fmt: skip
        create_party(
            s,
            name="北京小米科技有限责任公司",
            kind="customer",
            tax_id=uscc(2),
            short_name="小米",
            province="北京",
        )
        ids["huawei"] = huawei.id
        ids["a001"] = a001.id
    settings = _settings_for_books()
    with transaction(engine) as s:
        for i, (days_ago, amount) in enumerate([(75, "10000.00"), (10, "2000.00")], start=1):
            inv = parsed_invoice(
                direction="sales",
                number=f"2444000000000000{i:04d}",
                lines=[line("*信息技术服务*软件服务费", amount, "6%", quantity=None)],
                other_tax_id=uscc(1),
                issue_date=clock.today() - dt.timedelta(days=days_ago),
                invoice_type="special",
            )
            book_invoice(s, inv, settings)
    return ids


def _settings_for_books():
    from tests.factories import make_settings

    return make_settings()


def make_ctx(engine, settings, **extras) -> AppContext:
    """Real-clock reminders are off unless a test asks for them: on a weekday morning they
    would otherwise arrive in the middle of a conversation under test."""
    extras.setdefault("reminders", False)
    return AppContext(settings=settings, engine=engine, extras=dict(extras))


def staff_row(engine, telegram_id: int) -> Staff:
    from sqlmodel import Session

    from erp.staff import by_telegram_id

    with Session(engine, expire_on_commit=False) as s:
        return by_telegram_id(s, telegram_id)


__all__ = [
    "ACCOUNTANT",
    "ADMIN",
    "MANAGER",
    "SALES",
    "STRANGER",
    "WAREHOUSE",
    "LocalChat",
    "company_settings",
    "make_ctx",
    "run",
    "seed_company",
    "user",
]
