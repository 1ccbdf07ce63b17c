"""The war room's fragments, rendered once per language, and its presence.

For the page (view at /incidents/<id>/room/, built elsewhere):

- ``room_context(incident, viewer)``: a dict for the page template: ``incident``,
  ``ws_path``, ``last_seq``, ``max_frame_bytes``, ``max_message``, ``can`` (``act``,
  ``command``), ``header_html``, ``presence_html``, ``events_html`` (the latest
  ``ROOM_PAGE`` events, oldest first, each an ``<article>``) and for the brief-me
  panel ``key_facts``, ``decisions``, ``open_tasks``, ``summary``. HTML values are
  safe strings in the viewer's language.
- ``render_event(event, lang)``: one ``<article class="room-event" id="ev-N" data-seq="N">``
  (``templates/incidents/warroom/_event.html``; context variable ``ev`` from
  ``event_context(event)``). Message actions are ``ws-send`` buttons marked
  ``data-requires="act"``: the fragment is the same for everyone, so the page hides
  them for read-only viewers (the server refuses them anyway).
- ``render_header(incident, lang)``: ``<header id="room-header" hx-swap-oob="true"
  data-seq="N">`` (``_header.html``, context ``room`` from ``header_context``).
- ``render_presence(incident_id, lang)``: ``<aside id="room-presence"
  hx-swap-oob="true">`` (``_presence.html``, context ``presence``).
- Times are ``<time datetime="…Z" data-local="datetime">YYYY-MM-DD HH:MM UTC</time>``;
  the page's JS localizes them. Countdowns carry ``data-due`` (the ``countdown`` tag).

Wire format, server -> client (text frames of HTML; htmx's ws extension swaps by id):

- event: ``<div id="room-timeline" hx-swap-oob="beforeend"><article …></article></div>``
  then, in the same frame, the header with ``data-seq="N"`` (not for chat, notes,
  decisions, key facts and tasks: ``HEADERLESS_KINDS``).
- presence: ``<aside id="room-presence" hx-swap-oob="true">…</aside>``
- error: ``<div id="room-error" hx-swap-oob="true" data-code="CODE" role="alert">…</div>``
  (frame_too_large, malformed, unknown_type, rate_limited, read_only, forbidden, invalid)
- resume answer: the missed events, one frame each, in order (the header only in the
  last of them), then ``<div id="room-sync" hx-swap-oob="true" data-seq="LAST"></div>``;
  ``data-more="true"`` when more than ``RESUME_LIMIT`` were missed: resume again.
- pong: ``<div id="room-pong" hx-swap-oob="true"></div>``

Client -> server (JSON text frames, at most 8 KiB; extra keys such as ``HEADERS``
are ignored; numbers may be strings): ``{"type":"resume","last_seq":N}`` first after
every (re)connect, ``{"type":"chat","text":"…","reply_to":N|null}``,
``{"type":"pin","seq":N}``, ``{"type":"decision","seq":N}``, ``{"type":"ping"}``
(at least every ``PRESENCE_TTL / 3`` seconds: it keeps the viewer present).

Every timeline append is broadcast after commit (incidents.events) to the group
``incident.<id>`` as ``{"type": "incident.timeline_appended", "seq", "kind",
"html": {lang: frame}}``; the consumer sends the viewer's language. A consumer that
sees a sequence gap (a dropped group message) fills it from the database itself.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import redis
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from incidents import selectors
from incidents.clocks import incident_clocks
from incidents.models import (
    Incident,
    IncidentRole,
    IncidentTask,
    TimelineEvent,
)
from incidents.services.chat import MAX_MESSAGE, MENTION
from tscc.redisclient import redis_client

logger = logging.getLogger(__name__)

LANGUAGES = [code for code, _name in settings.LANGUAGES]
MAX_FRAME_BYTES = 8 * 1024  # client -> server; the page checks it before sending
ROOM_PAGE = 200
RESUME_LIMIT = 500
PRESENCE_TTL = 90  # seconds without a frame before a connection stops counting


def language_of(user) -> str:
    lang = getattr(user, "language", None) or settings.LANGUAGE_CODE
    return lang if lang in LANGUAGES else settings.LANGUAGE_CODE


def _utc(dt: datetime | None) -> tuple[str, str]:
    if dt is None:
        return "", ""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ"), dt.strftime("%Y-%m-%d %H:%M UTC")


# --- Events ---------------------------------------------------------------


def _parts(text: str, names: dict[str, int]) -> list[dict]:
    """Split message text into plain runs and the @mentions that named a user."""
    parts, at = [], 0
    for match in MENTION.finditer(text):
        user_id = names.get(match[1].lower())
        if user_id is None:
            continue
        if match.start() > at:
            parts.append({"text": text[at : match.start()], "user": None})
        parts.append({"text": match[0], "user": user_id})
        at = match.end()
    if at < len(text):
        parts.append({"text": text[at:], "user": None})
    return parts


def event_context(event: TimelineEvent) -> dict:
    """What `_event.html` needs, independent of the language."""
    iso, text = _utc(event.occurred_at)
    reply = None
    source = event.refers_to if event.refers_to_id else None
    if source is not None and event.kind in (
        TimelineEvent.Kind.MESSAGE,
        TimelineEvent.Kind.DECISION,
    ):
        reply = {
            "seq": source.seq,
            "author": str(source.actor) if source.actor_id else None,
            "excerpt": Truncator(source.text).chars(140),
        }
    is_message = event.kind == TimelineEvent.Kind.MESSAGE
    return {
        "event": event,
        "seq": event.seq,
        "kind": event.kind,
        "actor_id": event.actor_id,
        "author": str(event.actor) if event.actor_id else None,
        "time_iso": iso,
        "time_text": text,
        "is_message": is_message,
        "parts": _parts(event.text, event.data.get("mention_names") or {}) if is_message else [],
        "mentions": event.data.get("mentions") or [] if is_message else [],
        "reply": reply,
    }


def render_event(event: TimelineEvent, lang: str) -> str:
    with translation.override(lang):
        return render_to_string("incidents/warroom/_event.html", {"ev": event_context(event)})


# --- Header ---------------------------------------------------------------


def header_context(incident: Incident) -> dict:
    """What `_header.html` needs: badges, roles, clocks, overdue reports."""
    from django.utils import timezone

    now = timezone.now()
    roles = selectors.incident_roles(incident)
    first_commander = selectors.incident_first_commander(incident=incident)
    clocks = incident_clocks(
        incident,
        selectors.severity_policy(severity=incident.severity),
        first_commander.assigned_at if first_commander else None,
        now,
    )
    overdue = selectors.incident_overdue_report_count(incident=incident, now=now)
    return {
        "incident": incident,
        "seq": incident.last_seq,
        "role_rows": [
            (value, label, roles[value].user if value in roles else None)
            for value, label in IncidentRole.choices
        ],
        "commander": roles[IncidentRole.COMMANDER].user
        if IncidentRole.COMMANDER in roles
        else None,
        "clocks": clocks,
        "next_update_due_at": incident.next_update_due_at if incident.is_open else None,
        "next_update_iso": _utc(incident.next_update_due_at)[0] if incident.is_open else "",
        "overdue_reports": overdue,
    }


def _render_header(context: dict, lang: str) -> str:
    with translation.override(lang):
        return render_to_string("incidents/warroom/_header.html", {"room": context})


def render_header(incident: Incident, lang: str) -> str:
    return _render_header(header_context(incident), lang)


# --- Presence -------------------------------------------------------------


def _redis() -> redis.Redis:
    return redis_client()


def _presence_key(incident_id: int) -> str:
    return f"{settings.REDIS_PREFIX}:warroom:presence:{incident_id}"


def presence_touch(incident_id: int, user_id: int, channel_name: str) -> None:
    """Count this connection as present for PRESENCE_TTL more seconds (join or ping).
    One entry per connection, so a user with two tabs stays while one is open;
    entries of a crashed process expire."""
    key = _presence_key(incident_id)
    pipe = _redis().pipeline()
    pipe.zadd(key, {f"{user_id}:{channel_name}": time.time() + PRESENCE_TTL})
    pipe.expire(key, PRESENCE_TTL * 2)
    pipe.execute()


def presence_leave(incident_id: int, user_id: int, channel_name: str) -> None:
    _redis().zrem(_presence_key(incident_id), f"{user_id}:{channel_name}")


def _presence_claim_key(incident_id: int) -> str:
    return f"{settings.REDIS_PREFIX}:warroom:presence-claim:{incident_id}"


def presence_claim(incident_id: int, window: float) -> bool:
    """Whether the caller should schedule the room's next presence broadcast
    (nobody else has in the last `window` seconds). The claim outlives the
    window so a crashed claimer holds it up for a few seconds only."""
    return bool(
        _redis().set(_presence_claim_key(incident_id), 1, nx=True, px=int(window * 1000) + 2000)
    )


def presence_release_and_render(incident_id: int) -> dict:
    _redis().delete(_presence_claim_key(incident_id))
    return presence_payload(incident_id)


def room_is_watched(incident_id: int) -> bool:
    """Whether any connection is live in the room (one Redis call)."""
    return _redis().zcount(_presence_key(incident_id), time.time(), "+inf") > 0


def present_user_ids(incident_id: int) -> list[int]:
    """Users with at least one live connection, in order of arrival."""
    key = _presence_key(incident_id)
    client = _redis()
    client.zremrangebyscore(key, "-inf", time.time())
    seen: dict[int, None] = {}
    for member in client.zrange(key, 0, -1):
        seen.setdefault(int(member.decode().split(":", 1)[0]))
    return list(seen)


PRESENCE_SHOWN = 60  # names listed per group; the rest are counted


def paged_people(incident_id: int) -> dict[int, dict]:
    """Who was paged for the incident (answered by the app that pages)."""
    from incidents.signals import room_paged_people

    paged: dict[int, dict] = {}
    for _receiver, answer in room_paged_people.send(sender="incidents", incident_id=incident_id):
        paged.update(answer or {})
    return paged


def presence_context(incident_id: int) -> dict:
    present_ids = present_user_ids(incident_id)
    paged = paged_people(incident_id)
    roles, member_ids, users = selectors.room_members(
        incident_id=incident_id, extra_ids=set(present_ids) | set(paged)
    )
    role_names = dict(IncidentRole.choices)

    def row(user_id: int) -> dict:
        user = users[user_id]
        held = roles.get(user_id)
        return {
            "id": user_id,
            "name": str(user),
            "roles": [role_names[r] for r in held] if held else [user.get_role_display()],
        }

    here = set(present_ids)
    present = [row(uid) for uid in present_ids if uid in users]
    waiting = sorted(
        (
            {**row(uid), "page": paged[uid], "page_iso": _utc(paged[uid]["at"])[0]}
            for uid in set(paged) - here
            if uid in users
        ),
        key=lambda r: r["page"]["at"],
    )
    absent = sorted(
        (row(uid) for uid in member_ids - here - set(paged) if uid in users),
        key=lambda r: r["name"].lower(),
    )
    return {
        "incident_id": incident_id,
        "count": len(present),
        "present": present[:PRESENCE_SHOWN],
        "present_more": max(0, len(present) - PRESENCE_SHOWN),
        "paged": waiting[:PRESENCE_SHOWN],
        "paged_more": max(0, len(waiting) - PRESENCE_SHOWN),
        "absent": absent[:PRESENCE_SHOWN],
        "absent_more": max(0, len(absent) - PRESENCE_SHOWN),
    }


def _render_presence(context: dict, lang: str) -> str:
    with translation.override(lang):
        return render_to_string("incidents/warroom/_presence.html", {"presence": context})


def render_presence(incident_id: int, lang: str) -> str:
    return _render_presence(presence_context(incident_id), lang)


# --- Frames ---------------------------------------------------------------


def event_frame(article: str, header: str = "") -> str:
    return f'<div id="room-timeline" hx-swap-oob="beforeend">{article}</div>{header}'


def sync_frame(seq: int, *, more: bool = False) -> str:
    return format_html(
        '<div id="room-sync" hx-swap-oob="true" data-seq="{}"{}></div>',
        seq,
        mark_safe(' data-more="true"') if more else "",  # noqa: S308 - a constant  # nosec B308
    )


def error_frame(code: str, message: str) -> str:
    return format_html(
        '<div id="room-error" hx-swap-oob="true" data-code="{}" role="alert">{}</div>',
        code,
        message,
    )


PONG_FRAME = '<div id="room-pong" hx-swap-oob="true"></div>'


# Events that change nothing the header shows (severity, state, roles, clocks,
# overdue reports): their frames carry no header. Chat is most of a busy
# room's traffic, and the header was two thirds of each of its frames, sent
# (and compressed) once per member.
HEADERLESS_KINDS = frozenset(
    {
        TimelineEvent.Kind.MESSAGE,
        TimelineEvent.Kind.NOTE,
        TimelineEvent.Kind.DECISION,
        TimelineEvent.Kind.FACT_PINNED,
        TimelineEvent.Kind.FACT_UNPINNED,
        TimelineEvent.Kind.TASK_CREATED,
        TimelineEvent.Kind.TASK_CHANGED,
    }
)


def event_payload(incident_id: int, seq: int) -> dict:
    """The group message for one appended event: its frame once per language."""
    [event] = selectors.room_events(incident_id=incident_id, after_seq=seq - 1, limit=1)
    header = None
    if event.kind not in HEADERLESS_KINDS:
        header = header_context(selectors.room_incident(incident_id=incident_id))
        header["seq"] = seq
    return {
        "html": {
            lang: event_frame(
                render_event(event, lang), _render_header(header, lang) if header else ""
            )
            for lang in LANGUAGES
        }
    }


def catch_up_frames(incident_id: int, after_seq: int, lang: str) -> tuple[list[str], int, bool]:
    """Events after `after_seq` from the database, one frame each, in order, the
    header in the last; (frames, last seq sent, whether more remain)."""
    events = selectors.room_events(
        incident_id=incident_id, after_seq=after_seq, limit=RESUME_LIMIT + 1
    )
    more = len(events) > RESUME_LIMIT
    events = events[:RESUME_LIMIT]
    if not events:
        # A client ahead of the database (a stale tab, a bogus number) is put
        # back to the truth, or it would skip the next live events.
        last = Incident.objects.filter(id=incident_id).values_list("last_seq", flat=True).first()
        return [], min(after_seq, last or 0), False
    frames = [event_frame(render_event(e, lang)) for e in events[:-1]]
    header = header_context(selectors.room_incident(incident_id=incident_id))
    header["seq"] = events[-1].seq
    frames.append(event_frame(render_event(events[-1], lang), _render_header(header, lang)))
    return frames, events[-1].seq, more


def presence_payload(incident_id: int) -> dict:
    context = presence_context(incident_id)
    return {"html": {lang: _render_presence(context, lang) for lang in LANGUAGES}}


# --- The page -------------------------------------------------------------


def room_context(incident: Incident, viewer) -> dict:
    """Everything the room page needs, in the viewer's (active) language."""
    lang = translation.get_language() or language_of(viewer)
    events = selectors.room_events(
        incident_id=incident.id, after_seq=max(0, incident.last_seq - ROOM_PAGE)
    )
    return {
        "incident": incident,
        "ws_path": f"/ws/incidents/{incident.id}/",
        "max_frame_bytes": MAX_FRAME_BYTES,
        "max_message": MAX_MESSAGE,
        "last_seq": events[-1].seq if events else incident.last_seq,
        "can": {
            "act": viewer.has_perm("incidents.act", incident),
            "command": viewer.has_perm("incidents.command", incident),
        },
        "header_html": mark_safe(render_header(incident, lang)),  # noqa: S308 - rendered escaped  # nosec B308 B703
        "presence_html": mark_safe(render_presence(incident.id, lang)),  # noqa: S308 - rendered escaped  # nosec B308 B703
        "events_html": [mark_safe(render_event(e, lang)) for e in events],  # noqa: S308 - escaped  # nosec B308 B703
        "summary": incident.summary,
        "key_facts": selectors.incident_key_facts(incident=incident),
        "decisions": list(selectors.incident_decisions(incident=incident).order_by("seq")),
        "open_tasks": list(
            selectors.incident_tasks(incident=incident).filter(state=IncidentTask.State.OPEN)
        ),
    }


# --- Channel-layer drops ----------------------------------------------------

_drops = {"group": 0, "direct": 0}


def drops() -> dict[str, int]:
    """Messages this process saw the channel layer drop (full queues)."""
    return dict(_drops)


def count_direct_drop(channel: str) -> None:
    _drops["direct"] += 1
    logger.warning("channel layer full: dropped a message to %s", channel)


class _GroupDropCounter(logging.Filter):
    """channels-redis drops group messages to full channels and says so only at
    INFO ("%s of %s channels over capacity in group %s"): count them and warn."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "over capacity" in str(record.msg) and record.args:
            try:
                dropped = int(record.args[0])
            except (TypeError, ValueError, IndexError):
                dropped = 1
            _drops["group"] += dropped
            logger.warning(
                "channel layer dropped %s message(s) (full queues): %s; clients resync by seq",
                dropped,
                record.getMessage(),
            )
        return True


_counter = _GroupDropCounter()
if _counter not in logging.getLogger("channels_redis.core").filters:
    logging.getLogger("channels_redis.core").addFilter(_counter)
