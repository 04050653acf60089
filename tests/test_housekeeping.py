"""Old pending actions are pruned; what still waits for a decision is kept."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from erp.db import transaction
from erp.housekeeping import TRANSIENT_KINDS, prune_pending_actions
from erp.models import PendingAction
from handlers.support import QUESTION_KIND
from scheduler.jobs import HOUSEKEEPING_JOB, JOB_NAME
from tests.test_bot_helpers import ACCOUNTANT, LocalChat, company_settings, make_ctx, run, seed_company, user
from values import clock

NOW = dt.datetime(2030, 6, 1, 3, 30, tzinfo=dt.UTC)


def _action(kind: str, days_old: int, status: str = "open") -> PendingAction:
    return PendingAction(kind=kind, payload="{}", status=status, created_at=NOW - dt.timedelta(days=days_old))


def test_old_transient_and_old_decided_actions_go_open_proposals_stay(session):
    rows = {
        "old question": _action(QUESTION_KIND, 31),
        "old pages": _action("pages", 45),
        "new question": _action(QUESTION_KIND, 29),
        "old open receipt": _action("receipt", 400),
        "decided receipt, 91 days": _action("receipt", 91, status="done"),
        "decided receipt, 60 days": _action("receipt", 60, status="cancelled"),
    }
    session.add_all(rows.values())
    session.commit()
    ids = {name: row.id for name, row in rows.items()}
    assert prune_pending_actions(session, NOW) == 3
    session.commit()
    left = {row.id for row in session.exec(select(PendingAction)).all()}
    assert left == {ids["new question"], ids["old open receipt"], ids["decided receipt, 60 days"]}
    assert prune_pending_actions(session, NOW) == 0  # nothing more to do


def test_the_kinds_pruned_are_the_ones_the_handlers_write():
    assert QUESTION_KIND in TRANSIENT_KINDS and "pages" in TRANSIENT_KINDS


def test_a_button_on_a_pruned_answer_says_it_expired_and_the_job_runs_without_reminders(engine, settings):
    seed_company(engine)
    me = user(ACCOUNTANT, "李会计")

    async def scenario():
        ctx = make_ctx(engine, company_settings(settings))  # reminders off
        async with LocalChat(ctx) as chat:
            assert chat.app.job_queue.get_jobs_by_name(JOB_NAME) == ()
            [job] = chat.app.job_queue.get_jobs_by_name(HOUSEKEEPING_JOB)
            r = await chat.say(me, "怎么开红字发票")
            answer = r[0]
            with transaction(engine) as s:
                for action in s.exec(select(PendingAction)).all():
                    action.created_at = clock.now() - dt.timedelta(days=31)
                    s.add(action)
            with transaction(engine) as s:
                assert prune_pending_actions(s, clock.now()) >= 1
            await chat.press(me, answer, "转人工")
            alert = list(chat.api.answered.values())[-1]
            assert alert.get("show_alert") and "已失效" in alert.get("text", "")

    run(scenario())
