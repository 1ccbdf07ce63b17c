"""Realtime: after commit, tell an incident's group that its timeline grew.

Every event carries its sequence number and kind, and its war-room frame
rendered once per language (incidents.warroom), so a client that sees a gap
can fetch what it missed."""

from __future__ import annotations

import logging

from django.db import transaction

from tscc.realtime import broadcast, notify_user

logger = logging.getLogger(__name__)


def incident_group(incident_id: int) -> str:
    return f"incident.{incident_id}"


def _send(incident_id: int, seq: int, kind: str) -> None:
    """Render the event's war-room frame once per language and send it to the
    room. An empty room gets the bare sequence (no rendering on the paths
    that page people when nobody watches); so does a failed render.
    Consumers fill a bare sequence from the database."""
    from incidents.warroom import event_payload, presence_payload, room_is_watched

    watched = False
    try:
        watched = room_is_watched(incident_id)
        payload = event_payload(incident_id, seq) if watched else {}
    except Exception:
        logger.exception("war room: could not render event %s of incident %s", seq, incident_id)
        payload = {}
    group = incident_group(incident_id)
    broadcast(group, "incident.timeline_appended", seq=seq, kind=kind, **payload)
    if watched and kind == "page":
        # Someone was paged, acknowledged or stood down: the presence panel
        # lists who was paged and has not joined.
        broadcast(group, "room.presence", **presence_payload(incident_id))


def on_commit_broadcast(*, incident_id: int, seq: int, kind: str) -> None:
    # robust: a realtime push that fails (Redis down) must not fail the
    # committed write; clients catch up from the database on reconnect.
    transaction.on_commit(lambda: _send(incident_id, seq, kind), robust=True)


def on_commit_notify(user_ids, *, text: str, level: str = "info") -> None:
    text = str(text)
    for user_id in sorted(set(user_ids)):
        transaction.on_commit(
            lambda user_id=user_id: notify_user(user_id, text=text, level=level), robust=True
        )
