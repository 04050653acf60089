"""Staff and what each role may do."""

from __future__ import annotations

from sqlmodel import Session, select

from erp.errors import ErpError
from erp.models import Staff

ROLES = {
    "admin": "管理员",
    "accountant": "会计",
    "warehouse": "仓管",
    "sales": "销售",
    "manager": "经理",
}

# action -> roles allowed (admin may do everything)
PERMISSIONS: dict[str, set[str]] = {
    "book_invoice": {"accountant", "manager"},
    "post_voucher": {"accountant", "manager"},
    "approve": {"manager"},
    "receive": {"accountant", "manager"},
    "view_stock": {"accountant", "warehouse", "sales", "manager"},
    "adjust_stock": {"warehouse", "manager"},
    "view_receivables": {"accountant", "sales", "manager"},
    "view_all_receivables": {"accountant", "manager"},
    "view_vouchers": {"accountant", "manager"},
    "manage_staff": set(),
    "settings": set(),
    "support": {"accountant", "warehouse", "sales", "manager"},
}

ACTION_NAMES = {
    "book_invoice": "发票入账",
    "post_voucher": "凭证记账",
    "approve": "审批凭证",
    "receive": "登记收款",
    "view_stock": "查询库存",
    "adjust_stock": "盘点调整",
    "view_receivables": "查询应收",
    "view_all_receivables": "查看全部客户应收",
    "view_vouchers": "查看凭证",
    "manage_staff": "管理员工",
    "settings": "修改设置",
    "support": "提问",
}


def can(staff: Staff | None, action: str) -> bool:
    if staff is None or not staff.active:
        return False
    return staff.role == "admin" or staff.role in PERMISSIONS.get(action, set())


def require(staff: Staff | None, action: str) -> None:
    if not can(staff, action):
        allowed = sorted(PERMISSIONS.get(action, set()) | {"admin"})
        raise ErpError(
            "PERMISSION_DENIED",
            action=ACTION_NAMES.get(action, action),
            roles="/".join(ROLES[r] for r in allowed),
        )


def add_staff(session: Session, *, telegram_id: int, name: str, role: str, active: bool = True) -> Staff:
    """Add or update a staff member (same Telegram id: role and name are updated)."""
    if role not in ROLES:
        raise ErpError("INVALID_INPUT", why=f"角色 {role} 无效，可选：{', '.join(ROLES)}")
    staff = session.exec(select(Staff).where(Staff.telegram_id == telegram_id)).first()
    if staff is None:
        staff = Staff(telegram_id=telegram_id, name=name, role=role, active=active)
    else:
        staff.name, staff.role, staff.active = name or staff.name, role, active
    session.add(staff)
    session.flush()
    return staff


def by_telegram_id(session: Session, telegram_id: int) -> Staff | None:
    return session.exec(select(Staff).where(Staff.telegram_id == telegram_id)).first()


def active_staff(session: Session, role: str | None = None) -> list[Staff]:
    stmt = select(Staff).where(Staff.active == True)  # noqa: E712
    if role:
        stmt = stmt.where(Staff.role == role)
    return list(session.exec(stmt.order_by(Staff.id)).all())


def deactivate(session: Session, telegram_id: int) -> Staff:
    staff = by_telegram_id(session, telegram_id)
    if staff is None:
        raise ErpError("NOT_FOUND", what="员工", key=telegram_id)
    staff.active = False
    session.add(staff)
    session.flush()
    return staff
