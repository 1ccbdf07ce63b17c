"""The shell's live socket: one per open tab, joined to the user's own group.

It carries per-user notices (and shows the 'live' dot). Incident war rooms
have their own consumer in incidents/.
"""

from __future__ import annotations

import json
import logging

from asgiref.sync import async_to_sync
from channels.generic.websocket import WebsocketConsumer

from tscc.realtime import user_group

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 4096
CLOSE_FORBIDDEN = 4403


class LiveConsumer(WebsocketConsumer):
    def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            self.close()  # before accept: the handshake is refused
            return
        self.user_id = user.id
        self.group = user_group(user.id)
        async_to_sync(self.channel_layer.group_add)(self.group, self.channel_name)
        self.accept()

    def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            async_to_sync(self.channel_layer.group_discard)(self.group, self.channel_name)

    def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None or len(text_data.encode()) > MAX_FRAME_BYTES:
            self._error("frame_too_large_or_binary")
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            self._error("malformed_json")
            return
        if not isinstance(frame, dict) or frame.get("type") != "ping":
            self._error("unknown_type")
            return
        self.send(text_data=json.dumps({"type": "pong", "id": str(frame.get("id", ""))[:64]}))

    def user_notice(self, event: dict) -> None:
        self.send(
            text_data=json.dumps({"type": "notice", "text": event["text"], "level": event["level"]})
        )

    def _error(self, code: str) -> None:
        self.send(text_data=json.dumps({"type": "error", "code": code}))
