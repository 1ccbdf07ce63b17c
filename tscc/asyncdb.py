"""Database calls from websocket consumers, on one kept connection per process.

channels' ``database_sync_to_async`` closes the connection before and after
every call (``close_old_connections`` with ``CONN_MAX_AGE = 0``), so each call
opened a new PostgreSQL connection (~4.5 ms, more than the queries it served):
two per chat message, one per ping, one per access re-check, on a thread that
every consumer of the process shares. ``consumer_db`` runs the call on that
same shared thread (``thread_sensitive``) but keeps its connection for up to
``CONSUMER_CONN_MAX_AGE`` seconds, closing it early when it is broken or was
left outside autocommit. HTTP requests keep theirs on the fixed pool of
request threads (tscc/asgihandler.py) under Django's own rules (CONN_MAX_AGE).
"""

from __future__ import annotations

import time

from asgiref.sync import SyncToAsync
from django.db import connections

CONSUMER_CONN_MAX_AGE = 60  # seconds


def recycle_connections() -> None:
    """Close this thread's connections that are broken, mid-transaction or old."""
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        if conn.connection is None:
            continue
        max_age = conn.settings_dict["CONN_MAX_AGE"]
        if conn.close_at is None:  # CONN_MAX_AGE=None: persistent already
            continue
        if conn.get_autocommit() != conn.settings_dict["AUTOCOMMIT"]:
            conn.close()
            continue
        if conn.errors_occurred:
            if not conn.is_usable():
                conn.close()
                continue
            conn.errors_occurred = False
        opened_at = conn.close_at - max_age
        if now - opened_at >= CONSUMER_CONN_MAX_AGE:
            conn.close()


class ConsumerDatabaseSyncToAsync(SyncToAsync):
    def thread_handler(self, loop, *args, **kwargs):
        recycle_connections()
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            recycle_connections()


# Used like channels' database_sync_to_async: consumer_db(fn)(*args).
consumer_db = ConsumerDatabaseSyncToAsync
