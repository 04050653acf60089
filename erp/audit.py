"""The audit trail: who changed which record, when, and how."""

from __future__ import annotations

import json

from sqlmodel import Session

from erp.models import AuditLog


def audit(
    session: Session, entity: str, entity_id: int, action: str, actor_id: int | None, **detail: object
) -> None:
    session.add(
        AuditLog(
            entity=entity,
            entity_id=entity_id,
            action=action,
            actor_id=actor_id,
            detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
        )
    )
