"""/accounts in the chat: the chart a refusal points to."""

from __future__ import annotations

from tests.test_bot_helpers import (
    ACCOUNTANT,
    STRANGER,
    LocalChat,
    company_settings,
    make_ctx,
    run,
    seed_company,
    user,
)


def test_accounts_command_lists_and_filters(engine, settings):
    seed_company(engine)

    async def scenario():
        async with LocalChat(make_ctx(engine, company_settings(settings))) as chat:
            full = await chat.say(user(ACCOUNTANT), "/accounts")
            text = "\n".join(m.body for m in full)
            assert "1002 银行存款" in text and "22210101 进项税额" in text
            assert "2221 应交税费" in text and "▸" in text  # a parent account is marked
            some = await chat.say(user(ACCOUNTANT), "/accounts 管理费用")
            assert "560202 业务招待费" in some[-1].body and "1002" not in some[-1].body
            none = await chat.say(user(ACCOUNTANT), "/accounts 不存在的科目")
            assert "没有找到" in none[-1].body
            stranger = await chat.say(user(STRANGER), "/accounts")
            assert "未授权" in stranger[-1].body and "银行存款" not in stranger[-1].body

    run(scenario())
