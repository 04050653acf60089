"""Reference data every book needs: the chart, posting rules, a warehouse, the first admins."""

from __future__ import annotations

from sqlmodel import Session, select

from erp.chart import seed_chart
from erp.config import Settings
from erp.models import Staff, Warehouse
from erp.posting_rules import seed_rules


def bootstrap(session: Session, settings: Settings | None = None) -> None:
    """Idempotent: safe to run on every start."""
    seed_chart(session)
    seed_rules(session)
    if session.exec(select(Warehouse).limit(1)).first() is None:
        session.add(Warehouse(code="WH01", name="主仓库"))
    if settings is not None:
        for tid in settings.admin_ids:
            staff = session.exec(select(Staff).where(Staff.telegram_id == tid)).first()
            if staff is None:
                session.add(Staff(telegram_id=tid, name=f"管理员{tid}", role="admin"))
    session.flush()
