"""Consumers' database calls keep one connection on the shared thread."""

from __future__ import annotations

import pytest
from django.db import connection

from tscc import asyncdb
from tscc.asyncdb import consumer_db

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _connection_id() -> int:
    from django.contrib.auth import get_user_model

    get_user_model().objects.exists()  # touch the database
    return connection.close_at  # set on every connect: tells connections apart


async def test_consumer_calls_reuse_one_connection():
    first = await consumer_db(_connection_id)()
    second = await consumer_db(_connection_id)()
    assert first == second


async def test_an_old_connection_is_replaced(monkeypatch):
    first = await consumer_db(_connection_id)()
    monkeypatch.setattr(asyncdb, "CONSUMER_CONN_MAX_AGE", 0)
    second = await consumer_db(_connection_id)()
    assert first != second


async def test_a_connection_left_outside_autocommit_is_not_kept():
    def leave_autocommit_off():
        from django.db import transaction

        _connection_id()
        transaction.set_autocommit(False)  # a bug forgets to turn it back on

    await consumer_db(leave_autocommit_off)()
    assert await consumer_db(lambda: connection.get_autocommit())() is True
