"""The ops board hears of new figures as they commit.

A post, an import or a site change tells the group ``vendors.board`` after
commit; open boards then fetch themselves again over HTTP (the frame carries
no data, so the socket leaks nothing a viewer could not already read).
Changes within ``COALESCE_SECONDS`` share one notice per deployment (a Redis
key every process sees); boards wait ``BOARD_REFRESH_DELAY`` (longer) before
fetching, so the changes a skipped notice would have announced are in it.
A process that itself sent the notice less than ``COALESCE_SECONDS`` ago
skips even the Redis call: its notice covers the change exactly as the
shared key would (a hot path: every snapshot post ends here).
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.db import transaction

from tscc.realtime import broadcast

BOARD_GROUP = "vendors.board"
COALESCE_SECONDS = 1
BOARD_REFRESH_DELAY_MS = 1500  # the page waits this long after a notice
CHANGED_FRAME = '<div id="vboard-changed" hx-swap-oob="true"></div>'


_last_sent = 0.0  # time.monotonic() of this process's last notice


def _notify() -> None:
    global _last_sent
    if time.monotonic() - _last_sent < COALESCE_SECONDS:
        return
    if cache.add("vendors:board-changed", 1, timeout=COALESCE_SECONDS):
        _last_sent = time.monotonic()
        broadcast(BOARD_GROUP, "vendors.board_changed")


def board_changed_on_commit() -> None:
    # robust: a board that misses a notice still refreshes every 30 s.
    transaction.on_commit(_notify, robust=True)
