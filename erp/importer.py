"""Bulk import: a month of invoices from the tax platform's export, booked without double-booking.

``collect`` turns files, folders and zips (nested too) into items, refusing what
could hurt the machine: more files or more uncompressed bytes than the settings
allow, zip bombs, paths that escape the archive. Nothing is extracted to disk.
``import_batch`` reads the items (in parallel), then books each one in its own
transaction: duplicates (same seller + number, or the same file) and non-invoices
are skipped with a reason, and one bad file never stops the batch. Running the
same import twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import hashlib
import io
import posixpath
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy.engine import Engine

from erp.config import Settings
from erp.db import reading, transaction
from erp.errors import ErpError
from erp.files import store_file
from erp.invoices import confirm_invoice, draft_from_invoice, find_duplicate, save_draft
from erp.models import Voucher

INVOICE_SUFFIXES = {".pdf", ".ofd", ".xml", ".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"}
MAX_RATIO = 200  # uncompressed/compressed beyond this, with size, is a bomb
MAX_DEPTH = 3


@dataclass
class Item:
    source: str  # "batch.zip!2024-05/inv1.pdf"
    data: bytes | None = None
    error: str | None = None

    @cached_property
    def sha256(self) -> str | None:
        return hashlib.sha256(self.data).hexdigest() if self.data is not None else None


@dataclass
class Budget:
    files: int
    bytes: int

    def take(self, size: int) -> str | None:
        if self.files <= 0:
            return "文件数量超过上限，其余文件未处理"
        if size > self.bytes:
            return "解压后总大小超过上限，其余文件未处理"
        self.files -= 1
        self.bytes -= size
        return None


def _is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def _is_ofd(zf: zipfile.ZipFile) -> bool:
    names = {n.lower() for n in zf.namelist()}
    return "ofd.xml" in names


def _unsafe_name(name: str) -> str | None:
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return "绝对路径"
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    depth = 0
    for p in parts:
        depth += -1 if p == ".." else 1
        if depth < 0:
            return "路径越出解压目录"
    return None


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes | None:
    """Read an entry but stop at ``cap`` bytes: a header may lie about the size."""
    out = io.BytesIO()
    with zf.open(info) as fh:
        while chunk := fh.read(1 << 16):
            out.write(chunk)
            if out.tell() > cap:
                return None
    return out.getvalue()


def _from_zip(data: bytes, label: str, budget: Budget, settings: Settings, depth: int) -> Iterator[Item]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        yield Item(label, error="压缩包已损坏，无法打开")
        return
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        declared = sum(i.file_size for i in infos)
        if declared > budget.bytes or len(infos) > budget.files:
            yield Item(
                label,
                error=f"压缩包过大：{len(infos)} 个文件、解压后 {declared / 1024 / 1024:.0f} MB，"
                f"上限 {settings.zip_max_files} 个文件、{settings.zip_max_total_mb} MB",
            )
            return
        for info in infos:
            name = info.filename
            where = f"{label}!{name}"
            if (why := _unsafe_name(name)) is not None:
                yield Item(where, error=f"已拒绝：{why}（{name}）")
                continue
            base = posixpath.basename(name)
            if base.startswith((".", "__MACOSX")) or "/__MACOSX/" in f"/{name}":
                continue
            if (
                info.compress_size
                and info.file_size / max(info.compress_size, 1) > MAX_RATIO
                and info.file_size > 10 << 20
            ):
                yield Item(where, error="已拒绝：疑似压缩炸弹（压缩比异常）")
                continue
            per_file = settings.max_file_mb * 1024 * 1024
            content = _read_capped(
                zf, info, min(per_file * 4 if name.lower().endswith(".zip") else per_file, budget.bytes)
            )
            if content is None:
                yield Item(where, error="已拒绝：文件解压后超过大小上限")
                continue
            if (why := budget.take(len(content))) is not None:
                yield Item(where, error=why)
                return
            if _is_zip(content) and not name.lower().endswith(".ofd"):
                try:
                    inner_is_ofd = _is_ofd(zipfile.ZipFile(io.BytesIO(content)))
                except zipfile.BadZipFile:
                    inner_is_ofd = False
                if not inner_is_ofd:
                    if depth >= MAX_DEPTH:
                        yield Item(where, error="压缩包嵌套过深，已跳过")
                    else:
                        yield from _from_zip(content, where, budget, settings, depth + 1)
                    continue
            yield Item(where, data=content)


def _budget(settings: Settings) -> Budget:
    return Budget(files=settings.zip_max_files, bytes=settings.zip_max_total_mb * 1024 * 1024)


def _items_from(data: bytes, label: str, suffix: str, budget: Budget, settings: Settings) -> list[Item]:
    """One file's items: itself, or a zip's entries (an OFD is a zip too, but one invoice)."""
    if _is_zip(data) and suffix != ".ofd":
        try:
            is_ofd = _is_ofd(zipfile.ZipFile(io.BytesIO(data)))
        except zipfile.BadZipFile:
            is_ofd = False
        if not is_ofd:
            return list(_from_zip(data, label, budget, settings, 1))
    if (why := budget.take(len(data))) is not None:
        return [Item(label, error=why)]
    return [Item(label, data=data)]


def collect_bytes(data: bytes, name: str, settings: Settings) -> list[Item]:
    """The items of one received file (the chat gets a zip as bytes)."""
    return _items_from(data, name, Path(name).suffix.lower(), _budget(settings), settings)


def collect(paths: Iterable[str | Path], settings: Settings) -> list[Item]:
    """Every file to import, in a stable order, with refusals as items carrying an error."""
    budget = _budget(settings)
    items: list[Item] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        elif path.exists():
            files = [path]
        else:
            items.append(Item(str(raw), error="找不到文件"))
            continue
        for f in files:
            size = f.stat().st_size
            if size > settings.max_file_mb * 1024 * 1024 and f.suffix.lower() != ".zip":
                items.append(Item(str(f), error=f"文件过大（{size / 1024 / 1024:.1f} MB）"))
                continue
            items.extend(_items_from(f.read_bytes(), str(f), f.suffix.lower(), budget, settings))
    return items


# --- reading ------------------------------------------------------------------------


def read_items(
    items: list[Item], *, workers: int = 2, settings: Settings | None = None, pool: object | None = None
) -> Iterator[tuple[Item, dict]]:
    """Parsed-invoice dicts in the items' order, read in the invoice pool (worker processes,
    a time limit per file); refused items get an error dict without reading."""
    from invoice_ocr import read
    from invoice_ocr.pool import InvoicePool
    from invoice_ocr.reader import limits_from_settings

    limits = limits_from_settings(settings)
    todo = [it for it in items if it.data is not None]
    parsed: dict[int, dict] = {}
    if pool is None and workers > 1 and len(todo) > 1:
        with InvoicePool(workers=workers, limits=limits) as own:
            yield from read_items(items, settings=settings, pool=own)
        return
    if pool is not None:
        results = pool.read_many([it.data for it in todo])  # type: ignore[attr-defined]
        for it, r in zip(todo, results, strict=True):
            r.source = it.source  # the pool only saw bytes
            parsed[id(it)] = r.to_json_dict()
    else:
        parsed = {id(it): read(it.data, source=it.source, limits=limits).to_json_dict() for it in todo}
    for it in items:
        if it.data is None:
            yield it, {"source": it.source, "ok": False, "error": it.error}
        else:
            yield it, parsed[id(it)]


# --- booking -----------------------------------------------------------------------


@dataclass
class Outcome:
    source: str
    status: str  # drafted, posted, needs_approval, duplicate, failed
    reason: str | None = None
    number: str | None = None
    seller: str | None = None
    buyer: str | None = None
    total: str | None = None
    voucher: str | None = None
    invoice_id: int | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def read(self) -> int:
        return sum(1 for o in self.outcomes if o.status != "failed")

    def summary(self) -> dict[str, int]:
        return {
            "files": len(self.outcomes),
            "read": self.read,
            "drafted": self.count("drafted"),
            "posted": self.count("posted"),
            "needs_approval": self.count("needs_approval"),
            "duplicates": self.count("duplicate"),
            "failed": self.count("failed"),
        }

    def summary_text(self) -> str:
        s = self.summary()
        text = (
            f"共 {s['files']} 个文件：识别 {s['read']}，生成草稿 {s['drafted']}，已入账 {s['posted']}，"
            f"待审批 {s['needs_approval']}，重复跳过 {s['duplicates']}，失败 {s['failed']}"
        )
        fails = [o for o in self.outcomes if o.status == "failed"]
        if fails:
            text += "\n失败原因：\n" + "\n".join(f"  {o.source}：{o.reason}" for o in fails)
        return text

    def write(self, path: Path) -> Path:
        """A CSV or Excel (.xlsx) row per file."""
        header = ["文件", "结果", "原因", "发票号码", "销售方", "购买方", "价税合计", "凭证号", "提示"]
        names = {
            "drafted": "草稿",
            "posted": "已入账",
            "needs_approval": "待审批",
            "duplicate": "重复跳过",
            "failed": "失败",
        }
        rows = [
            [o.source, names[o.status], o.reason or "", o.number or "", o.seller or "", o.buyer or "",
             o.total or "", o.voucher or "", "；".join([*o.warnings, *o.notes])]
            for o in self.outcomes
        ]  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".xlsx":
            from openpyxl import Workbook

            wb = Workbook()
            ws = wb.active
            ws.title = "导入结果"
            ws.append(header)
            for r in rows:
                ws.append(r)
            wb.save(path)
        else:
            with path.open("w", newline="", encoding="utf-8-sig") as fh:
                w = csv.writer(fh)
                w.writerow(header)
                w.writerows(rows)
        return path


def book_one(
    engine: Engine,
    settings: Settings,
    item: Item,
    parsed: dict,
    *,
    post: bool,
    actor_id: int | None = None,
    direction: str | None = None,
) -> Outcome:
    """One file, one transaction: skip duplicates, draft, and post when asked (approval honoured)."""
    out = Outcome(item.source, "failed")
    if not parsed.get("number") and not parsed.get("ok"):
        out.reason = parsed.get("error") or "无法识别为发票"
        return out
    out.number = parsed.get("number")
    out.seller = (parsed.get("seller") or {}).get("name")
    out.buyer = (parsed.get("buyer") or {}).get("name")
    out.total = parsed.get("total")
    out.warnings = list(parsed.get("warnings") or [])
    try:
        with transaction(engine) as session:
            sha = item.sha256
            dup = find_duplicate(session, file_sha256=sha)
            if dup is not None:
                out.status, out.reason = "duplicate", f"同一文件已导入（发票 {dup.number}）"
                out.voucher = _number(session, dup.voucher_id)
                return out
            draft = draft_from_invoice(session, parsed, settings, direction=direction)
            if draft.duplicate_of:
                out.status, out.reason, out.voucher = "duplicate", "重复发票", draft.duplicate_of
                return out
            _, stored = store_file(settings, item.data, Path(item.source.rsplit("!", 1)[-1]).suffix)
            invoice = save_draft(session, draft, actor_id=actor_id, file_sha256=sha, file_path=str(stored))
            out.invoice_id = invoice.id
            out.warnings = list(dict.fromkeys(draft.warnings))
            out.notes = list(draft.notes)
            out.voucher = _number(session, invoice.voucher_id)
            out.status = "drafted"
            if post:
                result = confirm_invoice(session, invoice.id, settings, actor_id=actor_id)
                out.status = "posted" if result.outcome in ("posted", "already_posted") else "needs_approval"
    except ErpError as exc:
        if exc.code in ("DUPLICATE_INVOICE", "DUPLICATE_FILE"):
            out.status = "duplicate"
        else:
            out.status = "failed"
        out.reason = exc.message()
        out.invoice_id = None
    return out


def _number(session, voucher_id: int | None) -> str | None:
    if voucher_id is None:
        return None
    v = session.get(Voucher, voucher_id)
    return v.number if v else None


def import_batch(
    engine: Engine,
    settings: Settings,
    items: list[Item],
    *,
    post: bool = False,
    actor_id: int | None = None,
    direction: str | None = None,
    workers: int = 2,
    progress: Callable[[int, int, Outcome], None] | None = None,
) -> ImportReport:
    report = ImportReport()
    total = len(items)
    from invoice_ocr.pool import InvoicePool
    from invoice_ocr.reader import limits_from_settings

    known = _already_imported(engine, items)
    parsed_by_item: dict[int, dict] = {}
    chunk = max(workers, 1) * 8  # read a chunk in parallel, book it, report progress, go on
    n = 0
    unread = sum(1 for it in items if it.data is not None and it.sha256 not in known)
    use_pool = workers > 1 and unread > 1
    with (
        InvoicePool(workers=workers, limits=limits_from_settings(settings))
        if use_pool
        else nullcontext() as pool
    ):
        for start in range(0, total, chunk):
            part = items[start : start + chunk]
            to_read = [it for it in part if it.sha256 not in known]
            parsed_by_item.update(
                {id(it): p for it, p in read_items(to_read, workers=1, settings=settings, pool=pool)}
            )
            for item in part:
                n += 1
                outcome = _outcome(engine, settings, item, known, parsed_by_item, post, actor_id, direction)
                report.outcomes.append(outcome)
                if progress:
                    progress(n, total, outcome)
    return report


def _outcome(engine, settings, item, known, parsed_by_item, post, actor_id, direction) -> Outcome:
    if item.sha256 in known:
        number, voucher = known[item.sha256]
        return Outcome(
            item.source, "duplicate", f"同一文件已导入（发票 {number}）", number=number, voucher=voucher
        )
    return book_one(
        engine, settings, item, parsed_by_item[id(item)], post=post, actor_id=actor_id, direction=direction
    )


def _already_imported(engine: Engine, items: list[Item]) -> dict[str, tuple[str, str | None]]:
    """Files booked before (by content hash): a re-run need not read them again."""
    from sqlmodel import select

    from erp.models import Invoice

    hashes = [it.sha256 for it in items if it.data is not None]
    if not hashes:
        return {}
    with reading(engine) as session:
        rows = session.exec(select(Invoice).where(Invoice.file_sha256.in_(hashes))).all()  # type: ignore[union-attr]
        return {inv.file_sha256: (inv.number, _number(session, inv.voucher_id)) for inv in rows}


def draft_json(
    engine: Engine, settings: Settings, item: Item, parsed: dict, *, direction: str | None = None
) -> dict:
    """What ``invoice draft --json`` prints for one file; writes nothing."""
    out = {
        "source": item.source,
        "ok": bool(parsed.get("ok")),
        "error": parsed.get("error"),
        "invoice": parsed if parsed.get("number") or parsed.get("ok") else None,
        "direction": None,
        "duplicate_of": None,
        "voucher": None,
        "warnings": [],
    }
    if out["invoice"] is None:
        out["error"] = out["error"] or "无法识别为发票"
        return out
    with reading(engine) as session:
        draft = draft_from_invoice(session, parsed, settings, direction=direction)
        body = draft.to_json(session)
        dup = find_duplicate(session, file_sha256=item.sha256)
        if dup is not None and not body["duplicate_of"]:
            body["duplicate_of"] = _number(session, dup.voucher_id)
    out.update(body)
    if not out["voucher"]["lines"]:
        out["voucher"] = None
    return out
