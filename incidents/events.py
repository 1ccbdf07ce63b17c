"""Realtime: after commit, tell an incident's group that its timeline grew.

The war room (issue 6) renders fragments; for now every event carries its
sequence number and kind so a client can fetch what it missed."""

from __future__ import annotations

from functools import partial

from django.db import transaction

from tscc.realtime import broadcast, notify_user


def incident_group(incident_id: int) -> str:
    return f"incident.{incident_id}"


def _send(incident_id: int, seq: int, kind: str) -> None:
    broadcast(incident_group(incident_id), "incident.timeline_appended", seq=seq, kind=kind)


def on_commit_broadcast(*, incident_id: int, seq: int, kind: str) -> None:
    transaction.on_commit(partial(_send, incident_id, seq, kind))


def on_commit_notify(user_ids, *, text: str, level: str = "info") -> None:
    for user_id in sorted(set(user_ids)):
        transaction.on_commit(partial(notify_user, user_id, text=str(text), level=level))
