"""商品: create and find by SKU, name, spec, aliases and apparel attributes."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlmodel import Session, select

from erp.errors import ErpError
from erp.fuzzy import Match, normalise, score
from erp.models import Product
from values.money import parse_decimal, qty

SIZES = ("XXXL", "XXL", "XL", "XS", "S", "M", "L")
COLOURS = (
    "红",
    "橙",
    "黄",
    "绿",
    "青",
    "蓝",
    "紫",
    "黑",
    "白",
    "灰",
    "粉",
    "棕",
    "米",
    "卡其",
    "藏青",
    "酒红",
)


def create_product(
    session: Session,
    *,
    sku: str,
    name: str,
    spec: str | None = None,
    unit: str | None = "个",
    category: str | None = None,
    tax_category: str | None = None,
    tax_rate: Decimal | str = "0.13",
    min_stock: Decimal | str = "0",
    style: str | None = None,
    colour: str | None = None,
    size: str | None = None,
    aliases: str | None = None,
    sale_price: Decimal | str = "0",
) -> Product:
    sku = (sku or "").strip().upper()
    if not sku or not (name or "").strip():
        raise ErpError("INVALID_INPUT", why="商品编码和名称不能为空")
    if session.exec(select(Product).where(Product.sku == sku)).first():
        raise ErpError("INVALID_INPUT", why=f"商品编码 {sku} 已存在")
    product = Product(
        sku=sku,
        name=name.strip(),
        spec=spec,
        unit=unit,
        category=category,
        tax_category=tax_category,
        tax_rate=parse_decimal(tax_rate),
        min_stock=qty(min_stock),
        style=style,
        colour=colour,
        size=size,
        aliases=aliases,
        sale_price=parse_decimal(sale_price),
    )
    session.add(product)
    session.flush()
    return product


def next_sku(session: Session, prefix: str = "P") -> str:
    n = len(session.exec(select(Product.id)).all()) + 1
    while True:
        sku = f"{prefix}{n:05d}"
        if not session.exec(select(Product).where(Product.sku == sku)).first():
            return sku
        n += 1


def _attributes(query: str) -> tuple[str, str | None, str | None]:
    """Take colour and size words out of a query: '红色T恤M码' -> ('T恤', '红', 'M')."""
    q = query.upper()
    size = None
    m = re.search(r"(XXXL|XXL|XL|XS|S|M|L)(?:码|号)?(?![A-Z])", q)
    if m and not re.fullmatch(r"[A-Z]{0,3}\d+", q):
        size = m.group(1)
        q = q[: m.start()] + q[m.end() :]
    colour = None
    for c in sorted(COLOURS, key=len, reverse=True):
        if c in q:
            colour = c
            q = q.replace(c + "色", "").replace(c, "")
            break
    return q.strip(), colour, size


def find_products(
    session: Session, query: str, *, limit: int = 8, min_score: float = 62.0
) -> list[Match[Product]]:
    """Best matches, best first. An exact SKU wins outright."""
    query = (query or "").strip()
    if not query:
        return []
    exact = session.exec(select(Product).where(Product.sku == query.upper())).first()
    if exact is not None:
        return [Match(exact, 100.0, "sku")]
    rest, colour, size = _attributes(query)
    matches: list[Match[Product]] = []
    for p in session.exec(select(Product).where(Product.active == True)).all():  # noqa: E712
        if colour and (not p.colour or colour not in p.colour):
            continue
        if size and (p.size or "").upper() != size:
            continue
        fields = [("sku", p.sku), ("name", p.name)]
        if p.spec:
            fields.append(("name_spec", f"{p.name}{p.spec}"))
        if p.style:
            fields.append(("style", p.style))
        fields += [("alias", a.strip()) for a in (p.aliases or "").split(",") if a.strip()]
        if rest:
            best = max(((score(rest, v), f) for f, v in fields), key=lambda t: t[0])
        else:
            best = (80.0, "attributes")
        if best[0] >= min_score:
            matches.append(Match(p, best[0], best[1]))
    matches.sort(key=lambda m: (-m.score, m.item.sku))
    return matches[:limit]


def active_products(session: Session) -> list[Product]:
    return list(session.exec(select(Product).where(Product.active == True)).all())  # noqa: E712


def match_invoice_line(
    session: Session,
    name: str,
    spec: str | None,
    *,
    sure: float = 92.0,
    maybe: float = 70.0,
    products: list[Product] | None = None,
) -> tuple[Product | None, list[Match[Product]]]:
    """For an invoice line: (the product when sure, else None; the candidates when unsure).

    ``products`` lets a caller matching several lines load the catalogue once.
    """
    plain = re.sub(r"^\*[^*]+\*", "", name or "").strip()
    if not plain:
        return None, []
    candidates = []
    for p in products if products is not None else active_products(session):
        s = score(plain, p.name)
        if spec and p.spec:
            s = s * 0.7 + (100.0 if normalise(spec) == normalise(p.spec) else score(spec, p.spec)) * 0.3
        elif spec or p.spec:
            s -= 5
        for a in (p.aliases or "").split(","):
            if a.strip():
                s = max(s, score(plain, a.strip()))
        if s >= maybe:
            candidates.append(Match(p, s, "name"))
    candidates.sort(key=lambda m: -m.score)
    if candidates and candidates[0].score >= sure and (len(candidates) == 1 or candidates[1].score < sure):
        return candidates[0].item, []
    return None, candidates[:3]
