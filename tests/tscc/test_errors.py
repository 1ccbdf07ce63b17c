"""The API's unmatched URLs answer JSON, and a database that cannot be
reached answers 503 with Retry-After, on pages and the API alike, through the
real connection: the test points Django at a database that is not there
(a closed port on PostgreSQL, a missing directory on SQLite)."""

from __future__ import annotations

import contextlib

import pytest
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connections
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from tests.processes import free_port
from tscc.errors import RETRY_AFTER_SECONDS, database_unreachable
from tscc.roles import Role


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/api/v1/vendors/-1/", "/api/v1/nothing-here/", "/api/v1/incidents/abc/"],
)
def test_an_unmatched_api_url_answers_json(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "detail": "Not found."}


@pytest.mark.django_db
def test_an_unmatched_page_url_is_still_the_html_page(client):
    response = client.get("/incidents/-1/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_only_a_lost_connection_counts_as_the_database_being_unreachable():
    assert database_unreachable(OperationalError("could not connect to server"))
    assert database_unreachable(InterfaceError("connection already closed"))
    try:
        try:
            raise OperationalError("server closed the connection unexpectedly")
        except OperationalError as lost:
            raise RuntimeError("while saving") from lost
    except RuntimeError as wrapped:
        assert database_unreachable(wrapped)
    assert database_unreachable(RedisConnectionError("Connection refused"))
    assert database_unreachable(RedisTimeoutError("Timeout reading from socket"))
    assert not database_unreachable(IntegrityError("duplicate key"))
    assert not database_unreachable(DatabaseError("value too long"))
    assert not database_unreachable(None)


@contextlib.contextmanager
def database_gone():
    """The default connection points at a database that cannot be reached
    (a closed port on PostgreSQL, a missing directory on SQLite), then back."""
    conn = connections["default"]
    saved = dict(conn.settings_dict)
    conn.close()
    if conn.vendor == "postgresql":
        conn.settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))  # nothing listens
    else:
        conn.settings_dict["NAME"] = "/nonexistent-tscc-dir/gone.sqlite3"
    try:
        yield
    finally:
        conn.close()
        conn.settings_dict.clear()
        conn.settings_dict.update(saved)


@pytest.mark.django_db(transaction=True)
def test_database_unreachable_answers_503_with_retry_after(make_user):
    manager = make_user(Role.OPS_MANAGER)
    browser = Client(raise_request_exception=False)
    browser.force_login(manager)  # a session the database holds, before it goes
    api = Client(raise_request_exception=False)
    assert browser.get("/incidents/").status_code == 200

    with database_gone():
        answer = api.get("/api/v1/incidents/", HTTP_AUTHORIZATION="Bearer tscc_not-checked")
        assert answer.status_code == 503
        assert answer["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert answer.json()["code"] == "unavailable"

        page = browser.get("/incidents/")
        assert page.status_code == 503
        assert page["Retry-After"] == str(RETRY_AFTER_SECONDS)
        text = page.content.decode()
        assert "Temporarily unavailable" in text and "暂时无法访问" in text

    # Back: the same session and requests work again, no restart.
    assert browser.get("/incidents/").status_code == 200
