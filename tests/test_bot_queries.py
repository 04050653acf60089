"""End to end through the real Application and the local Bot API: who may talk, stock and receivables."""

from __future__ import annotations

from sqlmodel import select

from erp.db import reading
from erp.models import ProcessedUpdate
from tests.test_bot_helpers import (
    ACCOUNTANT,
    ADMIN,
    SALES,
    STRANGER,
    WAREHOUSE,
    LocalChat,
    company_settings,
    make_ctx,
    run,
    seed_company,
    staff_row,
    user,
)


def test_stranger_is_refused_and_admin_can_add_them_in_one_tap(engine, settings):
    bot_settings = company_settings(settings)
    seed_company(engine)

    async def scenario():
        async with LocalChat(make_ctx(engine, bot_settings)) as chat:
            replies = await chat.say(user(STRANGER, "陌生人"), "库存 A001")
            refusal = [m for m in replies if m.chat_id == STRANGER]
            assert len(refusal) == 1
            assert "未授权" in refusal[0].body and str(STRANGER) in refusal[0].body
            assert "电阻器" not in refusal[0].body  # nothing about the business
            request = await chat.api.wait_for("未授权用户请求使用", chat_id=ADMIN)
            # a second message from the stranger does not spam the admins again
            await chat.say(user(STRANGER, "陌生人"), "你好")
            assert sum("请求使用" in e.message.body for e in chat.api.events) == 1
            done = await chat.press(user(ADMIN), request, "添加为仓管")
            assert any("已添加" in m.body for m in done)
            welcome = await chat.api.wait_for("您已开通", chat_id=STRANGER)
            assert "仓管" in welcome.body
            # now they are staff
            replies = await chat.say(user(STRANGER), "库存 A001")
            assert "电阻器" in replies[-1].body

    run(scenario())
    assert staff_row(engine, STRANGER).role == "warehouse"


def test_stock_questions_in_chinese(engine, settings):
    bot_settings = company_settings(settings)
    seed_company(engine)
    me = user(WAREHOUSE)

    async def scenario():
        async with LocalChat(make_ctx(engine, bot_settings)) as chat:
            r = await chat.say(me, "库存 A001")
            assert "A001 电阻器" in r[-1].body and "现有库存：30个" in r[-1].body
            assert "低于最低库存 50" in r[-1].body
            r = await chat.say(me, "A001还有多少")
            assert "现有库存：30个" in r[-1].body
            r = await chat.say(me, "红色T恤M码库存")
            assert "T-RED-M" in r[-1].body and "12件" in r[-1].body and "B2405" in r[-1].body
            r = await chat.say(me, "stock of A001")
            assert "30个" in r[-1].body
            # several matches: buttons to choose, then the detail
            r = await chat.say(me, "红色T恤库存")
            assert "请选择" in r[-1].body and len(r[-1].buttons) == 2
            r = await chat.press(me, r[-1], "T-RED-L")
            assert "现有库存：5件" in r[-1].body
            r = await chat.say(me, "/lowstock")
            assert "A001" in r[-1].body and "建议补货" in r[-1].body
            r = await chat.say(me, "库存 不存在的东西XYZ")
            assert "没有找到" in r[-1].body

    run(scenario())


def test_receivable_questions(engine, settings):
    bot_settings = company_settings(settings)
    seed_company(engine)
    me = user(ACCOUNTANT)

    async def scenario():
        async with LocalChat(make_ctx(engine, bot_settings)) as chat:
            r = await chat.say(me, "华为欠多少")
            body = r[-1].body
            assert "深圳华为技术有限公司" in body
            assert "应收余额：¥12,720.00" in body  # 10,600 + 2,120 incl. 6% VAT
            assert "逾期 45 天" in body
            r = await chat.say(me, "账龄")
            assert "31-60天：¥10,600.00" in r[-1].body and "未到期：¥2,120.00" in r[-1].body
            r = await chat.say(me, "应收账款")
            assert "1. 深圳华为技术有限公司：¥12,720.00" in r[-1].body
            r = await chat.say(me, "/aging")
            photo = r[-1]
            assert photo.photo is not None and photo.photo[:8] == b"\x89PNG\r\n\x1a\n"
            assert "应收账龄" in photo.caption
            r = await chat.say(me, "小米欠多少")
            assert "应收余额：¥0.00" in r[-1].body

    run(scenario())


def test_sales_sees_only_own_customers_and_warehouse_no_receivables(engine, settings):
    bot_settings = company_settings(settings)
    seed_company(engine)

    async def scenario():
        async with LocalChat(make_ctx(engine, bot_settings)) as chat:
            r = await chat.say(user(SALES), "华为欠多少")
            assert "12,720.00" in r[-1].body
            r = await chat.say(user(SALES), "小米欠多少")
            assert "没有找到您可查看的客户" in r[-1].body
            r = await chat.say(user(WAREHOUSE), "华为欠多少")
            assert "没有权限" in r[-1].body and "PERMISSION_DENIED" in r[-1].body

    run(scenario())


def test_not_understood_gets_a_suggestion_and_help_lists_commands(engine, settings):
    bot_settings = company_settings(settings)
    seed_company(engine)
    me = user(ACCOUNTANT)

    async def scenario():
        async with LocalChat(make_ctx(engine, bot_settings)) as chat:
            r = await chat.say(me, "那个弄好没")
            assert len(r) == 1 and "没看懂" in r[0].body

            r = await chat.say(me, "/nosuchcommand")
            assert len(r) == 1 and "没有这个命令" in r[0].body
            r = await chat.say(me, "/help")
            assert len(r) == 1 and "/receive" in r[0].body and "库存 A001" in r[0].body
            assert {c["command"] for c in chat.api.commands} >= {
                "help",
                "stock",
                "ar",
                "aging",
                "tb",
                "voucher",
            }

    run(scenario())


def test_replayed_update_is_handled_once(engine, settings):
    bot_settings = company_settings(settings)
    seed_company(engine)
    me = user(ACCOUNTANT)

    async def scenario():
        async with LocalChat(make_ctx(engine, bot_settings)) as chat:
            mark = chat.api.mark()
            uid = await chat.api.push_text(me, "库存 A001")
            await chat.tracker.wait(uid, 10)
            assert len(chat.api.since(mark)) == 1
            again = await chat.replay(uid, ACCOUNTANT)
            assert again == []

    run(scenario())
    with reading(engine) as s:
        assert len(s.exec(select(ProcessedUpdate)).all()) >= 1


def test_long_reply_is_paginated_under_telegram_limit(engine, settings):
    bot_settings = company_settings(settings)
    from erp.db import transaction
    from erp.products import create_product

    seed_company(engine)
    with transaction(engine) as s:
        for i in range(120):
            create_product(
                s, sku=f"LOW{i:03d}", name=f"很长名字的测试商品第{i}号规格型号说明", min_stock="10"
            )

    async def scenario():
        async with LocalChat(make_ctx(engine, bot_settings)) as chat:
            r = await chat.say(user(ADMIN), "/lowstock")
            first = r[-1]
            assert len(first.body) <= 4096 and "第 1/" in first.body
            r = await chat.press(user(ADMIN), first, "下一页")
            assert "第 2/" in r[-1].body and "上一页" in [b[0] for b in r[-1].buttons][0]

    run(scenario())


def test_stock_count_adjustment_posts_once(engine, settings):
    bot_settings = company_settings(settings)
    ids = seed_company(engine)
    me = user(WAREHOUSE)

    async def scenario():
        async with LocalChat(make_ctx(engine, bot_settings)) as chat:
            r = await chat.say(me, "库存 A001")
            assert "现有库存：30个" in r[-1].body  # now in the answer cache
            r = await chat.say(me, "/count A001 25 月末盘点")
            card = r[-1]
            assert "账面 30个 → 实盘 25个：盘亏 5个" in card.body
            data = card.button("确认调整")
            first = await chat.api.push_callback(me, card.message_id, data)
            second = await chat.api.push_callback(me, card.message_id, data)
            await chat.tracker.wait(first, 10)
            await chat.tracker.wait(second, 10)
            assert "没有重复调整" in card.body and "记-" in card.body
            r = await chat.say(me, "库存 A001")
            assert "现有库存：25个" in r[-1].body  # the cached answer did not outlive the change
            r = await chat.say(user(ACCOUNTANT), "/count A001 1 试试")
            assert "没有权限" in r[-1].body

    run(scenario())
    from sqlmodel import Session

    from erp.stock import on_hand

    with Session(engine) as s:
        assert on_hand(s, ids["a001"]) == 25


def test_trial_balance_vouchers_and_staff_admin(engine, settings):
    bot_settings = company_settings(settings)
    seed_company(engine)

    async def scenario():
        async with LocalChat(make_ctx(engine, bot_settings)) as chat:
            admin, acc = user(ADMIN), user(ACCOUNTANT)
            r = await chat.say(acc, "/tb")
            assert (
                "试算平衡表" in r[-1].body and "1122 应收账款" in r[-1].body and "✅ 借贷平衡" in r[-1].body
            )
            r = await chat.say(acc, "/voucher 记-99")
            assert "找不到凭证" in r[-1].body
            r = await chat.say(acc, "/staff")
            assert "没有权限" in r[-1].body
            r = await chat.say(admin, "/staff")
            assert "李会计 — 会计 — ID 1002" in r[-1].body
            r = await chat.say(admin, "/staff add 5555 仓管 小周")
            assert "已添加" in r[0].body
            assert "您已开通" in (await chat.api.wait_for("您已开通", chat_id=5555)).body
            r = await chat.say(user(5555), "库存 A001")
            assert "现有库存" in r[-1].body
            r = await chat.say(admin, "/staff del 5555")
            assert "已停用" in r[-1].body
            r = await chat.say(user(5555), "库存 A001")
            assert "未授权" in r[-1].body

    run(scenario())
