"""The ops board hears of new figures as they commit.

A post, an import or a site change tells the group ``vendors.board`` after
commit; open boards then fetch themselves again over HTTP (the frame carries
no data, so the socket leaks nothing a viewer could not already read).
Changes within ``COALESCE_SECONDS`` share one notice per deployment (a Redis
key every process sees); boards wait ``BOARD_REFRESH_DELAY`` (longer) before
fetching, so the changes a skipped notice would have announced are in it.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

from tscc.realtime import broadcast

BOARD_GROUP = "vendors.board"
COALESCE_SECONDS = 1
BOARD_REFRESH_DELAY_MS = 1500  # the page waits this long after a notice
CHANGED_FRAME = '<div id="vboard-changed" hx-swap-oob="true"></div>'


def _notify() -> None:
    if cache.add("vendors:board-changed", 1, timeout=COALESCE_SECONDS):
        broadcast(BOARD_GROUP, "vendors.board_changed")


def board_changed_on_commit() -> None:
    # robust: a board that misses a notice still refreshes every 30 s.
    transaction.on_commit(_notify, robust=True)
