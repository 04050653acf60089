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
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
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

    @property
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


def collect(paths: Iterable[str | Path], settings: Settings) -> list[Item]:
    """Every file to import, in a stable order, with refusals as items carrying an error."""
    budget = Budget(files=settings.zip_max_files, bytes=settings.zip_max_total_mb * 1024 * 1024)
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
            is_zip_name = f.suffix.lower() == ".zip"
            if size > settings.max_file_mb * 1024 * 1024 and not is_zip_name:
                items.append(Item(str(f), error=f"文件过大（{size / 1024 / 1024:.1f} MB）"))
                continue
            data = f.read_bytes()
            if _is_zip(data) and f.suffix.lower() != ".ofd":
                try:
                    is_ofd = _is_ofd(zipfile.ZipFile(io.BytesIO(data)))
                except zipfile.BadZipFile:
                    is_ofd = False
                if not is_ofd:
                    items.extend(_from_zip(data, str(f), budget, settings, 1))
                    continue
            if (why := budget.take(len(data))) is not None:
                items.append(Item(str(f), error=why))
                break
            items.append(Item(str(f), data=data))
    return items


# --- reading ------------------------------------------------------------------------


def _read_one(args: tuple[bytes, str]) -> dict:
    from invoice_ocr import read

    data, source = args
    return read(data, source=source).to_json_dict()


def read_items(items: list[Item], *, workers: int = 2) -> Iterator[tuple[Item, dict]]:
    """Parsed-invoice dicts in the items' order; refused items get an error dict without reading."""
    todo = [(i, it) for i, it in enumerate(items) if it.data is not None]
    results: dict[int, dict] = {}
    if workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for (i, _), parsed in zip(
                todo, pool.map(_read_one, [(it.data, it.source) for _, it in todo]), strict=True
            ):
                results[i] = parsed
    else:
        for i, it in todo:
            results[i] = _read_one((it.data, it.source))
    for i, it in enumerate(items):
        if it.data is None:
            yield it, {"source": it.source, "ok": False, "error": it.error}
        else:
            yield it, results[i]


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
             o.total or "", o.voucher or "", "；".join(o.warnings)]
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
    for n, (item, parsed) in enumerate(read_items(items, workers=workers), start=1):
        outcome = book_one(engine, settings, item, parsed, post=post, actor_id=actor_id, direction=direction)
        report.outcomes.append(outcome)
        if progress:
            progress(n, total, outcome)
    return report


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
