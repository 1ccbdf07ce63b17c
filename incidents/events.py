"""Realtime: after commit, tell an incident's group that its timeline grew.

The war room (issue 6) renders fragments; for now every event carries its
sequence number and kind so a client can fetch what it missed."""

from __future__ import annotations

from django.db import transaction

from tscc.realtime import broadcast, notify_user


def incident_group(incident_id: int) -> str:
    return f"incident.{incident_id}"


def _send(incident_id: int, seq: int, kind: str) -> None:
    broadcast(incident_group(incident_id), "incident.timeline_appended", seq=seq, kind=kind)


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
