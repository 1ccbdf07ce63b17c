"""The one way TSCC pushes to browsers: a group send over the channel layer.

Call these only after commit (transaction.on_commit), with ids and rendered
fragments, never model objects. The database stays the source of truth.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def broadcast(group: str, type_: str, **payload: Any) -> None:
    """Send one event to every consumer in `group`. Handlers are named after `type_`."""
    async_to_sync(get_channel_layer().group_send)(group, {"type": type_, **payload})


def notify_user(user_id: int, *, text: str, level: str = "info") -> None:
    """Show a short notice in every open tab of one user."""
    broadcast(user_group(user_id), "user.notice", text=text, level=level)
