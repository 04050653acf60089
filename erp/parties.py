"""客户与供应商: create with a checked tax ID, find by name, alias or tax ID."""

from __future__ import annotations

from sqlmodel import Session, or_, select

from erp.errors import ErpError
from erp.fuzzy import Match, score
from erp.models import Party
from values.taxid import tax_id_problem


def create_party(
    session: Session,
    *,
    name: str,
    kind: str = "customer",
    tax_id: str | None = None,
    short_name: str | None = None,
    aliases: str | None = None,
    province: str | None = None,
    city: str | None = None,
    credit_days: int = 30,
    sales_rep_id: int | None = None,
    contact: str | None = None,
    phone: str | None = None,
    check_tax_id: bool = True,
) -> Party:
    name = (name or "").strip()
    if not name:
        raise ErpError("INVALID_INPUT", why="往来单位名称不能为空")
    if kind not in ("customer", "supplier", "both"):
        raise ErpError("INVALID_INPUT", why=f"往来单位类型 {kind} 无效（customer/supplier/both）")
    if tax_id:
        tax_id = tax_id.strip().upper()
        problem = tax_id_problem(tax_id) if check_tax_id else None
        if problem:
            raise ErpError("INVALID_TAX_ID", why=problem)
        if session.exec(select(Party).where(Party.tax_id == tax_id)).first():
            raise ErpError("INVALID_INPUT", why=f"税号 {tax_id} 已属于另一个往来单位")
    if session.exec(select(Party).where(Party.name == name)).first():
        raise ErpError("INVALID_INPUT", why=f"往来单位「{name}」已存在")
    party = Party(
        kind=kind,
        name=name,
        tax_id=tax_id or None,
        short_name=short_name,
        aliases=aliases,
        province=province,
        city=city,
        credit_days=credit_days,
        sales_rep_id=sales_rep_id,
        contact=contact,
        phone=phone,
    )
    session.add(party)
    session.flush()
    return party


def by_tax_id(session: Session, tax_id: str | None) -> Party | None:
    if not tax_id:
        return None
    return session.exec(select(Party).where(Party.tax_id == tax_id.strip().upper())).first()


def find_parties(
    session: Session, query: str, *, kind: str | None = None, limit: int = 5, min_score: float = 60.0
) -> list[Match[Party]]:
    """Best matches for a name, short name, alias or tax ID, best first."""
    query = (query or "").strip()
    if not query:
        return []
    exact = by_tax_id(session, query)
    if exact is not None:
        return [Match(exact, 100.0, "tax_id")]
    stmt = select(Party)
    if kind:
        stmt = stmt.where(or_(Party.kind == kind, Party.kind == "both"))
    matches: list[Match[Party]] = []
    for party in session.exec(stmt).all():
        names = [("name", party.name)]
        if party.short_name:
            names.append(("short_name", party.short_name))
        names += [("alias", a.strip()) for a in (party.aliases or "").split(",") if a.strip()]
        best = max(((score(query, n), field) for field, n in names), key=lambda t: t[0])
        if best[0] >= min_score:
            matches.append(Match(party, best[0], best[1]))
    matches.sort(key=lambda m: (-m.score, m.item.name))
    return matches[:limit]


def find_or_create_by_invoice(
    session: Session, *, name: str | None, tax_id: str | None, kind: str
) -> tuple[Party | None, bool, list[str]]:
    """The party an invoice names: by tax ID first, then exact name; new when unknown.

    Returns (party or None if nothing to go on, created?, warnings). A new party
    with a tax ID that fails the checksum is still created (the invoice is real),
    with a warning the accountant sees.
    """
    warnings: list[str] = []
    party = by_tax_id(session, tax_id)
    if party is not None:
        if party.kind != kind and party.kind != "both":
            party.kind = "both"
            session.add(party)
        return party, False, warnings
    if name:
        party = session.exec(select(Party).where(Party.name == name.strip())).first()
        if party is not None:
            if tax_id and not party.tax_id:
                party.tax_id = tax_id.strip().upper()
                session.add(party)
            return party, False, warnings
    if not name:
        return None, False, ["发票上没有对方名称"]
    problem = tax_id_problem(tax_id) if tax_id else None
    if problem and tax_id:
        warnings.append(problem)
    party = create_party(session, name=name, kind=kind, tax_id=tax_id, check_tax_id=False)
    return party, True, warnings
