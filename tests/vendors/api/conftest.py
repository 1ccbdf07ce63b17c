"""Fixtures for the vendors API: JSON clients for people (session) and for
vendor tokens, vendor A (`vendor`, with `site`, `queue`, a snapshot and a
linked incident) and vendor B (`other_vendor`, `other_site`, `other_queue`),
each with a BPO lead and a token, plus a revoked token of A."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import Client

from tests.api_client import Api as BaseApi
from tests.incidents.factories import declare
from tscc.roles import Role
from vendors import services

PREFIX = "/api/v1/vendors"


class Api(BaseApi):
    prefix = PREFIX

    def post_json(self, path: str, data):
        """POST any JSON (a list for the bulk endpoint)."""
        return self.client.post(self.prefix + path, data, content_type="application/json")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api_as(db):
    def make(user) -> Api:
        client = Client()
        client.force_login(user)
        return Api(client)

    return make


def token_api(secret: str) -> Api:
    return Api(Client(headers={"Authorization": f"Vendor {secret}"}))


@pytest.fixture
def other_lead(make_user, manager, other_vendor):
    user = make_user(Role.BPO_LEAD, username="lead-b")
    services.membership_set(actor=manager, vendor_id=other_vendor.id, user_id=user.id)
    return user


@pytest.fixture
def tokens(manager, vendor, other_vendor):
    token_a, secret_a = services.token_create(actor=manager, vendor_id=vendor.id, name="feed A")
    token_b, secret_b = services.token_create(
        actor=manager, vendor_id=other_vendor.id, name="feed B"
    )
    revoked, secret_revoked = services.token_create(
        actor=manager, vendor_id=vendor.id, name="old feed A"
    )
    services.token_revoke(actor=manager, token_id=revoked.id)
    return SimpleNamespace(
        a=token_a, b=token_b, secret_a=secret_a, secret_b=secret_b, secret_revoked=secret_revoked
    )


@pytest.fixture
def world(
    make_user,
    manager,
    vendor,
    site,
    queue,
    other_vendor,
    other_site,
    other_queue,
    lead,
    other_lead,
    tokens,
    healthy,
):
    """Vendors A and B with everything, and the API as each principal."""
    snapshot = services.snapshot_post(actor=manager, queue_id=queue.id, fields=healthy())
    other_snapshot = services.snapshot_post(
        actor=manager, queue_id=other_queue.id, fields=healthy()
    )
    incident = declare(manager, title="Luzon backlog")
    services.impact_link(actor=manager, incident_id=incident.id, vendor_id=vendor.id)
    people = {
        "manager": manager,
        "responder": make_user(Role.RESPONDER),
        "executive": make_user(Role.EXECUTIVE),
        "lead_a": lead,
        "lead_b": other_lead,
    }

    def api(principal: str) -> Api:
        if principal in people:
            client = Client()
            client.force_login(people[principal])
            return Api(client)
        if principal == "anonymous":
            return Api(Client())
        secret = {
            "token_a": tokens.secret_a,
            "token_b": tokens.secret_b,
            "revoked": tokens.secret_revoked,
        }[principal]
        return token_api(secret)

    return SimpleNamespace(
        vendor=vendor,
        site=site,
        queue=queue,
        snapshot=snapshot,
        other_vendor=other_vendor,
        other_site=other_site,
        other_queue=other_queue,
        other_snapshot=other_snapshot,
        incident=incident,
        tokens=tokens,
        people=people,
        api=api,
    )
