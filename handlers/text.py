"""The free-text router (group 1): a question the bot answers itself goes to its feature.

Text that ``handlers.intents.parse`` does not recognise passes on untouched to the
support group (``handlers.support``) and then to the fallback suggestion.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, MessageHandler, filters

from handlers import receivables, stock, vouchers
from handlers.common import TEXT_GROUP
from handlers.intents import parse


class _Understood(filters.MessageFilter):
    """Text the router answers itself; anything else is left for support and the fallback."""

    def filter(self, message) -> bool:  # noqa: ANN001 - PTB's signature
        return bool(message.text) and parse(message.text) is not None


UNDERSTOOD = _Understood(name="understood")


async def route_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    intent = parse(update.message.text)
    if intent is None:
        return  # not ours: support and the fallback get it
    if intent.kind == "stock":
        await stock.answer_stock(update, context, intent.subject)
    elif intent.kind == "lowstock":
        await stock.answer_low_stock(update, context)
    elif intent.kind == "receivable":
        await receivables.answer_receivable(update, context, intent.subject)
    elif intent.kind == "ar_summary":
        await receivables.answer_ar_summary(update, context)
    elif intent.kind == "aging":
        await receivables.answer_ar_summary(update, context, aging_only=True)
    elif intent.kind == "collection":
        await receivables.answer_collection(update, context)
    elif intent.kind == "receipt":
        await receivables.propose_receipt(update, context, intent.subject, intent.amount)
    elif intent.kind == "vouchers":
        await vouchers.answer_vouchers(update, context)
    elif intent.kind == "tb":
        await vouchers.answer_trial_balance(update, context)
    else:  # pragma: no cover - every kind above has a branch
        return
    raise ApplicationHandlerStop


def register(application: Application) -> None:
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & UNDERSTOOD, route_text), group=TEXT_GROUP
    )
