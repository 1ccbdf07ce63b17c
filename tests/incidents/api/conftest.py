"""Fixtures for the incidents API: a JSON client per user, a cast of roles
and one incident declared through the real service."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import Client

from tests.api_client import Api as BaseApi
from tests.incidents.factories import declare
from tscc.roles import Role

API = "/api/v1"


class Api(BaseApi):
    """A signed-in (session) client that speaks JSON."""

    prefix = API


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # Five users a test: the production hasher would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api_as(db):
    def make(user) -> Api:
        client = Client()
        client.force_login(user)
        return Api(client)

    return make


@pytest.fixture
def people(make_user):
    return SimpleNamespace(
        manager=make_user(Role.OPS_MANAGER),
        commander=make_user(Role.RESPONDER),
        # A responder who takes no part in the incident.
        outsider=make_user(Role.RESPONDER),
        executive=make_user(Role.EXECUTIVE),
        bpo=make_user(Role.BPO_LEAD),
    )


@pytest.fixture
def incident(people):
    return declare(people.manager, commander=people.commander)


def error_fields(response) -> set[str]:
    """Field names of a 400, whether from a serializer or InvalidInput."""
    body = response.json()
    return set(body.get("fields", {})) if "code" in body else set(body)
