"""The war-room socket: one per open room tab, joined to `incident.<id>`.

State lives in Redis and the database only (several ASGI processes serve one
room): the channel layer carries the fan-out, presence is a Redis sorted set,
the rate limit a Redis counter. Frames and wire format: incidents/warroom.py.
Access is checked on connect and on every client frame; events and presence
forwarded from the group re-check it at most every ACCESS_RECHECK seconds, so
a quiet tab whose viewer lost access is closed with 4403 too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from channels.consumer import get_handler_name
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from incidents import selectors, warroom
from incidents.events import incident_group
from incidents.exceptions import InvalidInput, NotAllowed
from incidents.services import incident_chat_post, incident_message_decide, incident_message_pin
from tscc.asyncdb import consumer_db
from tscc.exceptions import ApplicationError

logger = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403
CHAT_LIMIT = 10  # writes (messages, pins, decisions) per user per incident per window
CHAT_WINDOW = 10  # seconds
# Events forwarded from the group re-check the viewer's access at most this
# often (a client's own frames re-check every time).
ACCESS_RECHECK = 30  # seconds
# Joins and departures within this window share one presence broadcast per
# room (a thousand people joining at once would otherwise send each of them
# a thousand presence frames).
PRESENCE_COALESCE = 0.3  # seconds
# Broadcasts scheduled by this process and not yet sent (kept so the event
# loop does not drop them; tests wait for them).
PENDING_PRESENCE: set[asyncio.Task] = set()
RECHECKS: set[asyncio.Task] = set()  # background access re-checks under way

ERRORS = {
    "frame_too_large": _("That message is too large for the room (at most 8 KiB)."),
    "malformed": _("The room could not read that message."),
    "unknown_type": _("The room does not know that kind of message."),
    "rate_limited": _("You are sending messages too fast. Wait a few seconds."),
    "read_only": _("You can watch this room but not write in it."),
    "forbidden": _("You no longer have access to this incident."),
    "invalid": _("That could not be done."),
}


def _int(value, *, optional: bool = False) -> int | None:
    """A non-negative int from JSON (htmx sends form values as strings)."""
    if optional and value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ValueError(value)


@consumer_db
def _room_viewer(user_id: int, incident_id: int):
    return selectors.room_viewer(user_id=user_id, incident_id=incident_id)


class _AccessBatches:
    """Re-checks of access for one room in this process, answered together:
    a thousand members whose 30 s re-check falls due around one broadcast
    cost two queries, not two thousand on the process's one database thread."""

    WINDOW = 0.05  # seconds a batch waits for more members

    def __init__(self) -> None:
        self.waiting: dict[int, dict[int, list[asyncio.Future]]] = {}

    async def allowed(self, incident_id: int, user_id: int) -> bool:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        room = self.waiting.setdefault(incident_id, {})
        if not room:
            loop.call_later(self.WINDOW, lambda: loop.create_task(self._answer(incident_id)))
        room.setdefault(user_id, []).append(future)
        return await future

    async def _answer(self, incident_id: int) -> None:
        room = self.waiting.pop(incident_id, {})
        try:
            allowed = await consumer_db(selectors.room_viewer_ids)(
                user_ids=set(room), incident_id=incident_id
            )
        except Exception as exc:
            for futures in room.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        for user_id, futures in room.items():
            for future in futures:
                if not future.done():
                    future.set_result(user_id in allowed)


ACCESS = _AccessBatches()


def _rate_limited(user_id: int, incident_id: int) -> bool:
    """A fixed window in the shared cache (Redis): the same for every process."""
    key = f"warroom:rate:{incident_id}:{user_id}"
    cache.add(key, 0, timeout=CHAT_WINDOW)
    try:
        return cache.incr(key) > CHAT_LIMIT
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=CHAT_WINDOW)
        return False


class WarRoomConsumer(AsyncWebsocketConsumer):
    async def dispatch(self, message: dict) -> None:
        """As channels' own, without its close_old_connections before every
        handler: that hop to the process's one database thread, for every
        member on every broadcast, queued a 1,000-member room's posts behind
        1,000 no-ops. Every database call here goes through consumer_db,
        which looks after the connection itself."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.incident_id = int(self.scope["url_route"]["kwargs"]["incident_id"])
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close()  # before accept: the handshake is refused
            return
        current = await _room_viewer(user.id, self.incident_id)
        if current is None:
            await self.close()
            return
        self.user_id = user.id
        self.checked_at = time.monotonic()
        self.rechecking = False
        self.lang = warroom.language_of(current)
        self.group = incident_group(self.incident_id)
        self.closing = False  # once access is gone: nothing more is sent
        self.synced = False  # until the client's resume
        self.last_sent = 0
        self.pending_max = 0  # highest seq broadcast before the resume
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await consumer_db(warroom.presence_touch)(self.incident_id, self.user_id, self.channel_name)
        await self._broadcast_presence()

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "group"):
            return
        try:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        except Exception:  # Redis down or its pool exhausted: membership expires
            logger.warning("war room: could not leave the group", exc_info=True)
        try:
            await consumer_db(warroom.presence_leave)(
                self.incident_id, self.user_id, self.channel_name
            )
            await self._broadcast_presence()
        except Exception:  # Redis down: the entry expires by itself
            logger.warning("war room: could not record a departure", exc_info=True)

    # --- client -> server -------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self._error("malformed")
            return
        if len(text_data.encode()) > warroom.MAX_FRAME_BYTES:
            await self._error("frame_too_large")
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self._error("malformed")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self._error("malformed")
            return
        handler = {
            "resume": self._resume,
            "chat": self._chat,
            "pin": self._pin,
            "decision": self._decision,
            "ping": self._ping,
        }.get(frame["type"])
        if handler is None:
            await self._error("unknown_type")
            return
        # Writes re-check access every time; pings and resumes (reads) as
        # often as forwarded events do.
        recheck = ACCESS_RECHECK if frame["type"] in ("ping", "resume") else 0
        if not await self._still_allowed(recheck_after=recheck):
            return
        try:
            await handler(frame)
        except (ValueError, TypeError, KeyError):
            await self._error("malformed")

    async def _ping(self, frame: dict) -> None:
        await consumer_db(warroom.presence_touch)(self.incident_id, self.user_id, self.channel_name)
        await self.send(text_data=warroom.PONG_FRAME)

    async def _resume(self, frame: dict) -> None:
        last_seq = _int(frame["last_seq"])
        frames, last, more = await consumer_db(warroom.catch_up_frames)(
            self.incident_id, last_seq, self.lang
        )
        for text in frames:
            await self.send(text_data=text)
        self.last_sent = last
        self.synced = True
        if not more and self.pending_max > self.last_sent:
            # Events committed while the resume was read: fetch them in order.
            await self._fill_gap()
        self.pending_max = 0
        await self.send(text_data=warroom.sync_frame(self.last_sent, more=more))

    async def _act(self, call, **kwargs) -> None:
        """Run a service as the user, in their language; refusals become error frames."""

        def run() -> tuple[str, str | None] | None:
            actor = selectors.room_viewer(user_id=self.user_id, incident_id=self.incident_id)
            if actor is None:  # lost access since the frame's check
                return "forbidden", None
            with translation.override(self.lang):
                try:
                    call(actor=actor, incident_id=self.incident_id, **kwargs)
                except NotAllowed as exc:
                    # Someone who could join is told how; a read-only role is not.
                    joinable = actor.has_perm("incidents.join")
                    return "read_only", str(exc) if joinable else None
                except InvalidInput as exc:
                    return "invalid", str(exc)
                except ApplicationError as exc:
                    return "invalid", str(exc)
            return None

        refused = await consumer_db(run)()
        if refused is not None:
            await self._error(*refused)

    async def _chat(self, frame: dict) -> None:
        text = frame["text"]
        if not isinstance(text, str):
            raise TypeError(text)
        reply_to = _int(frame.get("reply_to"), optional=True)
        if await consumer_db(_rate_limited)(self.user_id, self.incident_id):
            await self._error("rate_limited")
            return
        await self._act(incident_chat_post, text=text, reply_to_seq=reply_to)

    async def _pin(self, frame: dict) -> None:
        seq = _int(frame["seq"])
        if await consumer_db(_rate_limited)(self.user_id, self.incident_id):
            await self._error("rate_limited")
            return
        await self._act(incident_message_pin, seq=seq)

    async def _decision(self, frame: dict) -> None:
        seq = _int(frame["seq"])
        if await consumer_db(_rate_limited)(self.user_id, self.incident_id):
            await self._error("rate_limited")
            return
        await self._act(incident_message_decide, seq=seq)

    # --- group -> client ----------------------------------------------------

    async def incident_timeline_appended(self, event: dict) -> None:
        if not await self._still_allowed(recheck_after=ACCESS_RECHECK):
            return
        seq = event["seq"]
        if not self.synced:
            self.pending_max = max(self.pending_max, seq)
            return
        if seq <= self.last_sent:
            return  # already sent (by a resume or a gap fill)
        html = (event.get("html") or {}).get(self.lang)
        if seq == self.last_sent + 1 and html:
            await self.send(text_data=html)
            self.last_sent = seq
            return
        # A gap: a group message was dropped or arrived late; the database has it.
        await self._fill_gap()

    async def room_presence(self, event: dict) -> None:
        if not await self._still_allowed(recheck_after=ACCESS_RECHECK):
            return
        html = event["html"].get(self.lang) or next(iter(event["html"].values()))
        await self.send(text_data=html)

    # --- helpers ------------------------------------------------------------

    async def _still_allowed(self, *, recheck_after: float) -> bool:
        """Whether the viewer may still see the incident. A write asks the
        database now; otherwise, when the last answer is older than
        `recheck_after` seconds, a re-check is started in the background
        (batched with the room's other members, tolerated while it runs: the
        answer was good a moment ago). Lost access: an error frame and a
        close with 4403 (the page does not reconnect)."""
        if self.closing:
            return False
        if time.monotonic() - self.checked_at < recheck_after:
            return True
        if recheck_after == 0:
            return await self._access_answer(
                await _room_viewer(self.user_id, self.incident_id) is not None
            )
        if not self.rechecking:
            self.rechecking = True
            task = asyncio.get_running_loop().create_task(self._recheck())
            RECHECKS.add(task)
            task.add_done_callback(RECHECKS.discard)
        return True

    async def _recheck(self) -> None:
        try:
            await self._access_answer(await ACCESS.allowed(self.incident_id, self.user_id))
        except Exception:  # database unreachable: keep the last answer for now
            logger.warning("war room: could not re-check access", exc_info=True)
        finally:
            self.rechecking = False

    async def _access_answer(self, allowed: bool) -> bool:
        if self.closing:
            return False
        if not allowed:
            self.closing = True
            await self._error("forbidden")
            await self.close(code=CLOSE_FORBIDDEN)
            return False
        self.checked_at = time.monotonic()
        return True

    async def _fill_gap(self) -> None:
        frames, last, _more = await consumer_db(warroom.catch_up_frames)(
            self.incident_id, self.last_sent, self.lang
        )
        for text in frames:
            await self.send(text_data=text)
        self.last_sent = last

    async def _broadcast_presence(self) -> None:
        """Ask for a presence broadcast: the first asker in a window schedules
        it (a Redis claim shared by every process) and sends the state as it
        is when the window ends; the others' changes ride along."""
        claimed = await consumer_db(warroom.presence_claim)(self.incident_id, PRESENCE_COALESCE)
        if not claimed:
            return
        task = asyncio.get_running_loop().create_task(
            _send_presence(self.channel_layer, self.incident_id, self.group)
        )
        PENDING_PRESENCE.add(task)
        task.add_done_callback(PENDING_PRESENCE.discard)

    async def _error(self, code: str, message: str | None = None) -> None:
        with translation.override(self.lang if hasattr(self, "lang") else None):
            text = message or str(ERRORS[code])
            await self.send(text_data=warroom.error_frame(code, text))


async def _send_presence(layer, incident_id: int, group: str) -> None:
    await asyncio.sleep(PRESENCE_COALESCE)
    try:
        # Released before reading: a change after this point claims anew.
        payload = await consumer_db(warroom.presence_release_and_render)(incident_id)
        await layer.group_send(group, {"type": "room.presence", **payload})
    except ChannelFull:
        warroom.count_direct_drop(group)
    except Exception:  # Redis down: the next join or departure tries again
        logger.warning("war room: could not broadcast presence", exc_info=True)
