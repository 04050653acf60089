"""The console chat: the real bot, typed to in a terminal.

It starts the local Bot API stand-in (``bot.fakeapi``) and the same ``Application`` that
runs on Telegram, so every answer comes from the same handlers. What you type becomes
an update from the staff member you chose:

- text and /commands as messages;
- a number picks a button of the latest message that has buttons;
- ``/file PATH [PATH…]`` sends documents (several at once, like an album);
- ``/photo PATH`` sends a compressed photo;
- ``/as TELEGRAM_ID`` switches who you are; ``/who`` lists staff; ``/quit`` ends.
Pictures the bot sends (the aging chart) are saved to a file and the path printed.
"""

from __future__ import annotations

import asyncio
import itertools
import mimetypes
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, select

from bot.context import AppContext
from bot.fakeapi import Event, SentMessage
from bot.localchat import LocalChat
from erp.models import Staff
from erp.staff import ROLES

HELP = (
    "控制台命令：数字 = 选择按钮；/file 路径… 发送文件；/photo 路径 发送照片；"
    "/as ID 切换身份；/who 员工列表；/quit 退出。其余输入原样发给账房（/help 查看账房用法）。"
)


def active_staff_rows(ctx: AppContext) -> list[Staff]:
    with Session(ctx.engine, expire_on_commit=False) as s:
        return list(s.exec(select(Staff).where(Staff.active == True).order_by(Staff.id)).all())  # noqa: E712


def choose_staff(ctx: AppContext, telegram_id: int | None) -> Staff | None:
    rows = active_staff_rows(ctx)
    if telegram_id is not None:
        return next((r for r in rows if r.telegram_id == telegram_id), None)
    for role in ("accountant", "admin", "manager"):
        for r in rows:
            if r.role == role:
                return r
    return rows[0] if rows else None


class Console:
    def __init__(
        self,
        ctx: AppContext,
        me: Staff,
        *,
        write: Callable[[str], None] = print,
        read: Callable[[str], str] = input,
        picture_dir: Path | None = None,
        wait_for_reads: bool = False,
    ) -> None:
        self.ctx = ctx
        self.me = me
        self.write = write
        self.read = read
        self.picture_dir = picture_dir or Path(tempfile.gettempdir()) / "zhangfang-console"
        self.chat = LocalChat(ctx)
        self.choices: list[tuple[SentMessage, str]] = []
        self._seen = 0
        self._groups = itertools.count(1)
        # piped input: finish reading each invoice before the next line, so a script is deterministic
        self.wait_for_reads = wait_for_reads

    @property
    def user(self) -> dict:
        return self.chat.api.user(self.me.telegram_id, self.me.name)

    # --- output --------------------------------------------------------------

    def show(self, event: Event) -> None:
        msg = event.message
        if msg.chat_id != self.me.telegram_id:
            return
        tag = "账房" if event.kind == "send" else "账房（更新）"
        body = msg.body
        if msg.photo is not None:
            self.picture_dir.mkdir(parents=True, exist_ok=True)
            path = self.picture_dir / f"picture_{msg.message_id}.png"
            path.write_bytes(msg.photo)
            body = f"[图片已保存：{path}]\n{body}"
        self.write(f"\n{tag}：{body}")
        if msg.buttons:
            self.choices = [(msg, data) for _, data in msg.buttons]
            for i, (label, _) in enumerate(msg.buttons, 1):
                self.write(f"   [{i}] {label}")
        elif self.choices and self.choices[0][0] is msg:
            self.choices = []

    async def _printer(self) -> None:
        api = self.chat.api
        while True:
            async with api._events_changed:
                await api._events_changed.wait_for(lambda: len(api.events) > self._seen)
                new = api.events[self._seen :]
                self._seen = len(api.events)
            for ev in new:
                self.show(ev)

    # --- input ---------------------------------------------------------------

    async def handle(self, line: str) -> bool:
        """One typed line; False to stop."""
        line = line.strip()
        if not line:
            return True
        if line in ("/quit", "/exit", "/q"):
            return False
        if line == "/who":
            for st in active_staff_rows(self.ctx):
                self.write(f"  {st.telegram_id}  {st.name}（{ROLES.get(st.role, st.role)}）")
            return True
        if line.startswith("/as"):
            parts = line.split()
            found = choose_staff(self.ctx, int(parts[1])) if len(parts) > 1 and parts[1].isdigit() else None
            if found is None:
                self.write("找不到这个员工；/who 查看员工列表。")
            else:
                self.me = found
                self.choices = []
                self.write(
                    f"现在您是 {found.name}（{ROLES.get(found.role, found.role)}，ID {found.telegram_id}）"
                )
            return True
        if line.isdigit() and self.choices and 1 <= int(line) <= len(self.choices):
            msg, data = self.choices[int(line) - 1]
            uid = await self.chat.api.push_callback(self.user, msg.message_id, data)
        elif line.startswith("/file ") or line.startswith("/photo "):
            uid = await self._send_files(line)
            if uid is None:
                return True
        else:
            uid = await self.chat.api.push_text(self.user, line)
        await self.chat.tracker.wait(uid, 120)
        if self.wait_for_reads:
            await self._pending_reads()
        await asyncio.sleep(0.05)  # let the printer catch up
        return True

    async def _send_files(self, line: str) -> int | None:
        command, _, rest = line.partition(" ")
        paths = [Path(p).expanduser() for p in rest.split()]
        missing = [str(p) for p in paths if not p.is_file()]
        if not paths or missing:
            self.write(f"找不到文件：{'、'.join(missing) or '（没有给出路径）'}")
            return None
        if command == "/photo":
            return await self.chat.api.push_photo(self.user, paths[0].read_bytes())
        group = f"album{next(self._groups)}" if len(paths) > 1 else None
        uid = None
        for p in paths:
            mime = mimetypes.guess_type(p.name)[0] or "application/octet-stream"
            uid = await self.chat.api.push_document(
                self.user, p.read_bytes(), p.name, mime, media_group_id=group
            )
        return uid

    async def _pending_reads(self, timeout: float = 180.0) -> None:
        """At the end of piped input: wait for invoices still being read."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if not any("正在识别" in m.body for m in self.chat.api.messages.values()):
                return
            await asyncio.sleep(0.2)

    async def run(self) -> int:
        await self.chat.start()
        printer = asyncio.create_task(self._printer())
        loop = asyncio.get_running_loop()
        self.write(
            f"账房控制台 — 您是 {self.me.name}（{ROLES.get(self.me.role, self.me.role)}，ID {self.me.telegram_id}）。\n{HELP}"
        )
        try:
            while True:
                try:
                    line = await loop.run_in_executor(None, self.read, "\n> ")
                except EOFError:
                    await self._pending_reads()
                    break
                if not await self.handle(line):
                    break
        except KeyboardInterrupt:
            pass
        finally:
            await asyncio.sleep(0.1)
            printer.cancel()
            await self.chat.stop()
        return 0


def run_console(ctx: AppContext, telegram_id: int | None = None) -> int:
    me = choose_staff(ctx, telegram_id)
    if me is None:
        print(
            "找不到可用的员工账号"
            + (f"（ID {telegram_id}）" if telegram_id else "")
            + "。用 `python main.py staff add` 添加，或 `python main.py demo` 生成示例公司。",
            file=sys.stderr,
        )
        return 2
    return asyncio.run(Console(ctx, me, wait_for_reads=not sys.stdin.isatty()).run())
