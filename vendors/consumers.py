"""The ops board's socket: one per open board, told when figures change."""

from __future__ import annotations

import logging

from channels.generic.websocket import AsyncWebsocketConsumer

from tscc.asyncdb import consumer_db
from vendors.realtime import BOARD_GROUP, CHANGED_FRAME

logger = logging.getLogger(__name__)


class BoardConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close()  # before accept: the handshake is refused
            return
        if not await consumer_db(user.has_perm)("tscc.view_vendor_board"):
            await self.close()
            return
        self.joined = True
        await self.channel_layer.group_add(BOARD_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "joined", False):
            try:
                await self.channel_layer.group_discard(BOARD_GROUP, self.channel_name)
            except Exception:  # Redis down: the membership expires
                logger.warning("vendor board: could not leave the group", exc_info=True)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """The board only listens; whatever a client sends is ignored."""

    async def vendors_board_changed(self, event: dict) -> None:
        await self.send(text_data=CHANGED_FRAME)
