"""An invoice line that looks like several products: the card asks, posting waits for the answer."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from sqlmodel import Session

from erp.db import transaction
from erp.products import create_product
from erp.stock import on_hand
from tests.invoice_corpus.render import to_xml
from tests.test_bot_helpers import ACCOUNTANT, LocalChat, run, seed_company, user
from tests.test_bot_invoices import ctx_for, pool, truth, upload_card  # noqa: F401 - pool is a fixture


def test_unsure_product_is_chosen_on_the_card_before_confirming(engine, settings, pool):  # noqa: F811
    seed_company(engine)
    with transaction(engine) as s:
        a = create_product(s, sku="R0805", name="贴片电阻", spec="0805-10K")
        create_product(s, sku="R0603", name="贴片电阻", spec="0603-10K")
        a_id = a.id
    inv = truth("24312000000000000555")
    inv = dataclasses.replace(
        inv, lines=[dataclasses.replace(inv.lines[0], name="*电子元件*贴片电阻", spec="0402")]
    )
    me = user(ACCOUNTANT)

    async def scenario():
        async with LocalChat(ctx_for(engine, settings, pool)) as chat:
            card = await upload_card(chat, me, to_xml(inv), "r.xml", "application/xml")
            assert "匹配不确定" in card.body
            labels = [label for label, _ in card.buttons]
            assert any("R0805" in x for x in labels) and any("新商品" in x for x in labels)
            refused = await chat.press(me, card, "确认入账")
            alert = list(chat.api.answered.values())[-1]
            assert alert.get("show_alert") and "不确定" in alert.get("text", "")
            assert not any("已入账" in m.body for m in refused)
            await chat.press(me, card, "R0805")
            card = chat.api.messages[card.message_id]  # the card is edited in place
            assert "对应商品：R0805" in card.body
            assert not any("R0603" in label for label, _ in card.buttons)
            done = await chat.press(me, card, "确认入账")
            assert "✅ 已入账" in done[-1].body

    run(scenario())
    with Session(engine) as s:
        assert on_hand(s, a_id) == Decimal("100")
