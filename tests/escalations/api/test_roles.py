"""Who may use the escalations API at all: BPO leads and executives get a
403 on every endpoint (they are not paged and have no paging settings),
before any input is read or any id looked up; anonymous callers get 403 too.
An API token works like the session."""

from __future__ import annotations

import pytest
from django.test import Client

from escalations.models import ContactMethod, EscalationPolicy, RoutingRule
from tests.escalations.api.conftest import Api
from tscc.roles import Role
from tscc.services import api_token_create

pytestmark = pytest.mark.django_db


def endpoints(ids) -> list[tuple[str, str, dict]]:
    policy, rule, method, page, incident = ids
    return [
        ("get", "/escalation-policies/", {}),
        ("post", "/escalation-policies/", {"name": "x"}),
        ("get", f"/escalation-policies/{policy}/", {}),
        ("put", f"/escalation-policies/{policy}/", {"name": "x"}),
        ("delete", f"/escalation-policies/{policy}/", {}),
        ("get", "/routing-rules/", {}),
        ("post", "/routing-rules/", {"policy": policy}),
        ("get", f"/routing-rules/{rule}/", {}),
        ("put", f"/routing-rules/{rule}/", {"policy": policy}),
        ("delete", f"/routing-rules/{rule}/", {}),
        ("post", f"/routing-rules/{rule}/move/", {"by": 1}),
        ("get", "/me/contact-methods/", {}),
        ("post", "/me/contact-methods/", {"channel": "email", "address": "a@example.test"}),
        ("put", f"/me/contact-methods/{method}/", {"channel": "email", "address": "a@b.test"}),
        ("delete", f"/me/contact-methods/{method}/", {}),
        ("post", f"/me/contact-methods/{method}/test/", {}),
        ("get", "/me/notification-rules/", {}),
        ("post", "/me/notification-rules/", {"channel": "app", "urgency": "high"}),
        ("put", "/me/notification-rules/1/", {"channel": "app", "urgency": "high"}),
        ("delete", "/me/notification-rules/1/", {}),
        ("get", "/me/quiet-hours/", {}),
        ("put", "/me/quiet-hours/", {"start": "22:00", "end": "07:00"}),
        ("get", "/pages/", {}),
        ("post", f"/pages/{page}/ack/", {}),
        ("get", f"/incidents/{incident}/escalations/", {}),
        ("post", f"/incidents/{incident}/escalations/switch/", {"policy": policy}),
        ("post", f"/incidents/{incident}/page/", {"user_ids": [1]}),
    ]


ENDPOINT_COUNT = len(endpoints((1, 1, 1, 1, 1)))


def _call(api, method: str, path: str, data: dict):
    return (
        getattr(api, method)(path, data)
        if method in ("post", "put")
        else getattr(api, method)(path)
    )


@pytest.fixture
def ids(paging, cast):
    method = ContactMethod.objects.filter(user=cast.ben).first()
    return (
        paging.escalation.policy_id,
        RoutingRule.objects.get().id,
        method.id,
        paging.ben_page.id,
        paging.incident.id,
    )


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.BPO_LEAD])
@pytest.mark.parametrize("n", range(ENDPOINT_COUNT))
def test_executives_and_bpo_leads_are_refused_everywhere(api_as, make_user, ids, role, n):
    method, path, data = endpoints(ids)[n]
    response = _call(api_as(make_user(role)), method, path, data)
    assert response.status_code == 403, (method, path, response.content)
    assert response.json()["code"] == "not_allowed"


@pytest.mark.parametrize("n", range(ENDPOINT_COUNT))
def test_anonymous_callers_are_refused_everywhere(ids, n):
    method, path, data = endpoints(ids)[n]
    assert _call(Api(Client()), method, path, data).status_code == 403


def test_nothing_changed_for_the_refused(api_as, make_user, ids, cast):
    for role in (Role.EXECUTIVE, Role.BPO_LEAD):
        api = api_as(make_user(role))
        for method, path, data in endpoints(ids):
            _call(api, method, path, data)
    assert EscalationPolicy.objects.count() == 1 and RoutingRule.objects.count() == 1
    assert ContactMethod.objects.filter(user=cast.ben).count() == 1


def test_an_api_token_works_like_the_session(cast, paging):
    _token, secret = api_token_create(actor=cast.ana, user=cast.ana, name="phone")
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    response = client.get("/api/v1/pages/")
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["results"]] == [paging.ana_page.id]
    response = client.post(f"/api/v1/pages/{paging.ana_page.id}/ack/")
    assert response.status_code == 200 and response.json()["state"] == "acknowledged"
