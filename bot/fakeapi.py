"""A local stand-in of the Telegram Bot API (aiohttp on 127.0.0.1) speaking the real JSON.

The console chat and the tests run the real PTB ``Application`` against it through
``base_url``/``base_file_url``, so every reply goes through the same handler code and
the same HTTP requests a real bot makes. It keeps what a chat needs: updates for
``getUpdates`` (long polling), the messages the bot sent and edited, files users
"uploaded" (``getFile`` + download), answered callback queries and the command menu.

It also enforces the limits that bite in production: 4096 characters per message,
64 bytes of callback data, "message is not modified" on an identical edit.

User side (tests, console): ``push_text``, ``push_document``, ``push_photo``,
``push_callback``, ``replay``; then ``wait_for`` a message matching a predicate.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from values import clock

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
TEXT_FIELDS = {
    "text",
    "caption",
    "callback_query_id",
    "file_id",
    "parse_mode",
    "secret_token",
    "url",
    "action",
    "language_code",
    "title",
    "description",
    "short_description",
    "name",
    "emoji",
}
BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "账房",
    "username": "zhangfang_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


class ApiError(Exception):
    def __init__(self, description: str, code: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.code = code


@dataclass
class SentMessage:
    """A message as the bot left it (after any edits)."""

    message_id: int
    chat_id: int
    text: str | None = None
    caption: str | None = None
    reply_markup: dict | None = None
    photo: bytes | None = None
    document: bytes | None = None
    document_name: str | None = None
    edits: int = 0
    sent_at: float = field(default_factory=time.monotonic)

    @property
    def body(self) -> str:
        return self.text if self.text is not None else (self.caption or "")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of every inline button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [(b.get("text", ""), b.get("callback_data", "")) for row in rows for b in row]

    def button(self, contains: str) -> str:
        """The callback data of the first button whose label contains ``contains``."""
        for label, data in self.buttons:
            if contains in label:
                return data
        raise KeyError(f"no button {contains!r} in {self.buttons}")

    def to_json(self) -> dict:
        msg: dict[str, Any] = {
            "message_id": self.message_id,
            "date": int(clock.now().timestamp()),
            "chat": {"id": self.chat_id, "type": "private"},
            "from": BOT_USER,
        }
        if self.text is not None:
            msg["text"] = self.text
        if self.caption is not None:
            msg["caption"] = self.caption
        if self.reply_markup:
            msg["reply_markup"] = self.reply_markup
        if self.photo is not None:
            msg["photo"] = [
                {"file_id": f"out-photo-{self.message_id}", "file_unique_id": f"op{self.message_id}",
                 "width": 800, "height": 600, "file_size": len(self.photo)}
            ]  # fmt: skip
        if self.document is not None:
            msg["document"] = {
                "file_id": f"out-doc-{self.message_id}",
                "file_unique_id": f"od{self.message_id}",
                "file_name": self.document_name or "file",
                "file_size": len(self.document),
            }
        return msg


@dataclass
class Event:
    """One thing the bot did that a user would see: a new message or an edit."""

    kind: str  # send | edit
    message: SentMessage
    seq: int


class FakeBotApi:
    def __init__(self, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._next_update_id = 1
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._pending: list[dict] = []  # updates not yet confirmed by an offset
        self._replays: list[dict] = []  # delivered once more, whatever the offset says
        self._delivered: dict[int, dict] = {}
        self._updates_changed = asyncio.Condition()
        self._events_changed = asyncio.Condition()
        self.messages: dict[int, SentMessage] = {}
        self.events: list[Event] = []
        self.files: dict[str, tuple[bytes, str]] = {}  # file_id -> (content, file_path)
        self.answered: dict[str, dict] = {}  # callback_query_id -> answer params
        self.commands: list[dict] = []
        self.calls: list[str] = []  # method names, in order
        self.user_messages: dict[int, dict] = {}  # what users sent, by message_id
        self.webhook: dict | None = None  # what setWebhook was told
        self.polling_paused = False  # while set, getUpdates answers at once (a bot shutting down)

    # --- server ------------------------------------------------------------

    async def start(self, port: int = 0) -> FakeBotApi:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def pause_polling(self, paused: bool = True) -> None:
        """Let a long-polling ``getUpdates`` return now, so a bot can stop without waiting out its timeout."""
        async with self._updates_changed:
            self.polling_paused = paused
            self._updates_changed.notify_all()

    def continue_update_ids_after(self, last_id: int) -> None:
        """Telegram's update ids only grow; a stand-in started again for the same bot must go on
        from the last id that bot has seen (it remembers handled ids and drops repeats)."""
        self._next_update_id = max(self._next_update_id, last_id + 1)

    async def stop(self) -> None:
        async with self._updates_changed:
            self._updates_changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, tuple[bytes, str]]]:
        params: dict[str, Any] = dict(request.query)
        uploads: dict[str, tuple[bytes, str]] = {}
        if request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                params.update(await request.json())
                return params, uploads
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    uploads[key] = (value.file.read(), value.filename or key)
                else:
                    params[key] = value
        for key, value in list(params.items()):
            if key not in TEXT_FIELDS and isinstance(value, str):
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    pass
        return params, uploads

    async def _handle_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, uploads = await self._params(request)
        self.calls.append(method)
        handler = getattr(self, f"api_{method}", None)
        if handler is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"})
        try:
            result = await handler(params, uploads)
        except ApiError as exc:
            return web.json_response({"ok": False, "error_code": exc.code, "description": exc.description})
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        for content, file_path in self.files.values():
            if file_path == path:
                return web.Response(body=content)
        raise web.HTTPNotFound()

    # --- Bot API methods ---------------------------------------------------

    async def api_getMe(self, params: dict, uploads: dict) -> dict:
        return BOT_USER

    async def api_deleteWebhook(self, params: dict, uploads: dict) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def api_setWebhook(self, params: dict, uploads: dict) -> bool:
        self.webhook = {"url": params.get("url"), "secret_token": params.get("secret_token")}
        return True

    async def api_setMyCommands(self, params: dict, uploads: dict) -> bool:
        self.commands = list(params.get("commands") or [])
        return True

    async def api_getMyCommands(self, params: dict, uploads: dict) -> list:
        return self.commands

    async def api_getUpdates(self, params: dict, uploads: dict) -> list:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + timeout
        async with self._updates_changed:
            while True:
                if offset:
                    self._pending = [u for u in self._pending if u["update_id"] >= offset]
                if self._pending or self._replays or self._runner is None or self.polling_paused:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(self._updates_changed.wait(), remaining)
                except TimeoutError:
                    break
            if self.polling_paused:
                return []
            out = (self._replays + self._pending)[:limit]
            self._replays = []
        for u in out:
            self._delivered[u["update_id"]] = u
        return out

    def _check_markup(self, markup: Any) -> dict | None:
        if not markup:
            return None
        for row in markup.get("inline_keyboard") or []:
            for b in row:
                data = b.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                    raise ApiError("Bad Request: BUTTON_DATA_INVALID")
        return markup

    async def _new_message(self, chat_id: int, **kw: Any) -> SentMessage:
        msg = SentMessage(message_id=next(self._message_ids), chat_id=int(chat_id), **kw)
        self.messages[msg.message_id] = msg
        await self._emit("send", msg)
        return msg

    async def _emit(self, kind: str, msg: SentMessage) -> None:
        async with self._events_changed:
            self.events.append(Event(kind, msg, len(self.events)))
            self._events_changed.notify_all()

    def _text(self, params: dict, key: str = "text", limit: int = MAX_TEXT) -> str:
        text = params.get(key)
        if text is None or (key == "text" and not str(text).strip()):
            raise ApiError("Bad Request: message text is empty")
        if len(str(text)) > limit:
            raise ApiError(f"Bad Request: message is too long ({len(str(text))} > {limit})")
        return str(text)

    async def api_sendMessage(self, params: dict, uploads: dict) -> dict:
        msg = await self._new_message(
            params["chat_id"],
            text=self._text(params),
            reply_markup=self._check_markup(params.get("reply_markup")),
        )
        return msg.to_json()

    async def api_sendPhoto(self, params: dict, uploads: dict) -> dict:
        content = uploads.get("photo", (b"", ""))[0]
        if not content:
            raise ApiError("Bad Request: photo is empty")
        caption = self._text(params, "caption", MAX_CAPTION) if params.get("caption") else None
        msg = await self._new_message(
            params["chat_id"],
            photo=content,
            caption=caption,
            reply_markup=self._check_markup(params.get("reply_markup")),
        )
        return msg.to_json()

    async def api_sendDocument(self, params: dict, uploads: dict) -> dict:
        content, name = uploads.get("document", (b"", ""))
        if not content:
            raise ApiError("Bad Request: document is empty")
        caption = self._text(params, "caption", MAX_CAPTION) if params.get("caption") else None
        msg = await self._new_message(
            params["chat_id"], document=content, document_name=name, caption=caption,
            reply_markup=self._check_markup(params.get("reply_markup")),
        )  # fmt: skip
        return msg.to_json()

    async def api_sendChatAction(self, params: dict, uploads: dict) -> bool:
        return True

    def _existing(self, params: dict) -> SentMessage:
        msg = self.messages.get(int(params.get("message_id") or 0))
        if msg is None or msg.chat_id != int(params.get("chat_id") or 0):
            raise ApiError("Bad Request: message to edit not found")
        return msg

    async def api_editMessageText(self, params: dict, uploads: dict) -> dict:
        msg = self._existing(params)
        if msg.text is None:
            raise ApiError("Bad Request: there is no text in the message to edit")
        text = self._text(params)
        markup = self._check_markup(params.get("reply_markup"))
        if text == msg.text and markup == msg.reply_markup:
            raise ApiError(
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message"
            )
        msg.text, msg.reply_markup = text, markup
        msg.edits += 1
        await self._emit("edit", msg)
        return msg.to_json()

    async def api_editMessageCaption(self, params: dict, uploads: dict) -> dict:
        msg = self._existing(params)
        msg.caption = self._text(params, "caption", MAX_CAPTION) if params.get("caption") else None
        msg.reply_markup = self._check_markup(params.get("reply_markup"))
        msg.edits += 1
        await self._emit("edit", msg)
        return msg.to_json()

    async def api_editMessageReplyMarkup(self, params: dict, uploads: dict) -> dict:
        msg = self._existing(params)
        markup = self._check_markup(params.get("reply_markup"))
        if markup == msg.reply_markup:
            raise ApiError("Bad Request: message is not modified")
        msg.reply_markup = markup
        msg.edits += 1
        await self._emit("edit", msg)
        return msg.to_json()

    async def api_deleteMessage(self, params: dict, uploads: dict) -> bool:
        self._existing(params)
        del self.messages[int(params["message_id"])]
        return True

    async def api_answerCallbackQuery(self, params: dict, uploads: dict) -> bool:
        qid = str(params.get("callback_query_id"))
        if qid in self.answered:
            raise ApiError(
                "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        self.answered[qid] = params
        return True

    async def api_getFile(self, params: dict, uploads: dict) -> dict:
        file_id = str(params.get("file_id"))
        if file_id not in self.files:
            raise ApiError("Bad Request: invalid file_id")
        content, path = self.files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": "u" + file_id,
            "file_size": len(content),
            "file_path": path,
        }

    # --- the user's side ---------------------------------------------------

    @staticmethod
    def user(telegram_id: int, first_name: str = "用户", username: str | None = None) -> dict:
        u = {"id": telegram_id, "is_bot": False, "first_name": first_name, "language_code": "zh-hans"}
        if username:
            u["username"] = username
        return u

    async def _push(self, update: dict) -> int:
        async with self._updates_changed:
            update["update_id"] = self._next_update_id
            self._next_update_id += 1
            self._pending.append(update)
            self._updates_changed.notify_all()
        return update["update_id"]

    def _message(self, user: dict, **kw: Any) -> dict:
        msg = {
            "message_id": next(self._message_ids),
            "date": int(clock.now().timestamp()),
            "chat": {"id": user["id"], "type": "private", "first_name": user.get("first_name", "")},
            "from": user,
            **kw,
        }
        self.user_messages[msg["message_id"]] = msg
        return msg

    async def push_text(self, user: dict, text: str) -> int:
        kw: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split()[0]) if text.split() else 1
            kw["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return await self._push({"message": self._message(user, **kw)})

    def add_file(self, content: bytes, file_path: str) -> str:
        file_id = f"file-{next(self._file_ids)}"
        self.files[file_id] = (
            content,
            f"{file_path.rsplit('.', 1)[0]}_{file_id}.{file_path.rsplit('.', 1)[-1]}",
        )
        return file_id

    async def push_document(
        self,
        user: dict,
        content: bytes,
        file_name: str,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        media_group_id: str | None = None,
    ) -> int:
        file_id = self.add_file(content, f"documents/{file_name.replace('/', '_')}")
        doc = {
            "file_id": file_id,
            "file_unique_id": "u" + file_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        kw: dict[str, Any] = {"document": doc}
        if caption:
            kw["caption"] = caption
        if media_group_id:
            kw["media_group_id"] = media_group_id
        return await self._push({"message": self._message(user, **kw)})

    async def push_photo(self, user: dict, content: bytes, width: int = 1280, height: int = 960) -> int:
        """A compressed photo: Telegram offers several sizes; here a thumbnail and the full one."""
        file_id = self.add_file(content, "photos/photo.jpg")
        sizes = [
            {"file_id": file_id, "file_unique_id": "t" + file_id, "width": 90, "height": 68,
             "file_size": len(content)},
            {"file_id": file_id, "file_unique_id": "u" + file_id, "width": width, "height": height,
             "file_size": len(content)},
        ]  # fmt: skip
        return await self._push({"message": self._message(user, photo=sizes)})

    async def push_callback(self, user: dict, message_id: int, data: str) -> int:
        msg = self.messages[message_id]
        query = {
            "id": f"q{next(self._query_ids)}",
            "from": user,
            "message": msg.to_json(),
            "chat_instance": f"ci{msg.chat_id}",
            "data": data,
        }
        return await self._push({"callback_query": query})

    async def replay(self, update_id: int) -> None:
        """Deliver an already delivered update again (Telegram does, e.g. after a lost offset)."""
        async with self._updates_changed:
            self._replays.append(self._delivered[update_id])
            self._updates_changed.notify_all()

    # --- waiting for the bot ----------------------------------------------

    def mark(self) -> int:
        """A position in the event log; ``wait_for(after=mark)`` looks only at what came later."""
        return len(self.events)

    async def wait_for(
        self,
        predicate: Callable[[SentMessage], bool] | str,
        *,
        chat_id: int | None = None,
        after: int = 0,
        timeout: float = 10.0,
    ) -> SentMessage:
        """The first message sent or edited after ``after`` that matches (a text to contain, or a predicate)."""
        if isinstance(predicate, str):
            needle = predicate
            predicate = lambda m: needle in m.body  # noqa: E731
        deadline = time.monotonic() + timeout
        seen = after
        async with self._events_changed:
            while True:
                for ev in self.events[seen:]:
                    if (chat_id is None or ev.message.chat_id == chat_id) and predicate(ev.message):
                        return ev.message
                seen = len(self.events)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    recent = [e.message.body[:200] for e in self.events[after:]][-5:]
                    raise TimeoutError(f"no matching message within {timeout}s; recent: {recent}")
                try:
                    await asyncio.wait_for(self._events_changed.wait(), remaining)
                except TimeoutError:
                    pass

    def since(self, mark: int, chat_id: int | None = None) -> list[SentMessage]:
        """Messages sent or edited after ``mark`` (each message once, as it is now)."""
        out: list[SentMessage] = []
        for ev in self.events[mark:]:
            if (chat_id is None or ev.message.chat_id == chat_id) and ev.message not in out:
                out.append(ev.message)
        return out
