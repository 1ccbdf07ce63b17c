"""Fixtures for the escalations API: a JSON client per user that fails any
answer carrying a contact-method secret, a cast of roles, a policy with a
routing rule made through the config services, and an incident paging two
responders (one with a private robot URL) through the real engine."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from escalations import config, services
from escalations.models import Escalation, Page, Timer
from tests.api_client import Api as BaseApi
from tests.factories import TeamFactory
from tests.incidents.factories import declare
from tscc.roles import Role

# Stored secrets and private destinations: no answer may ever contain them.
SECRET = "sig-Secret-never-shown-7f3a"
BEN_HOOK = "https://hooks.example.test/robot/send?access_token=ben-private-4b1d"
NEVER_SHOWN = (SECRET, BEN_HOOK)


class Api(BaseApi):
    """A signed-in (session) client that speaks JSON, with PUT, and checks
    that no answer leaks a secret or someone's private destination."""

    prefix = "/api/v1"

    def __init__(self, client: Client, user=None):
        super().__init__(client)
        self.user = user

    @staticmethod
    def _checked(response):
        body = response.content.decode()
        for value in NEVER_SHOWN:
            assert value not in body, f"{response.request['PATH_INFO']} leaked {value!r}"
        return response

    def get(self, path: str, params: dict | None = None):
        return self._checked(super().get(path, params))

    def post(self, path: str, data=None):
        return self._checked(
            self.client.post(self.prefix + path, data or {}, content_type="application/json")
        )

    def put(self, path: str, data=None):
        return self._checked(
            self.client.put(self.prefix + path, data or {}, content_type="application/json")
        )

    def delete(self, path: str):
        return self._checked(super().delete(path))


def error_fields(response) -> set[str]:
    """Field names of a 400, whether from a serializer or InvalidInput."""
    body = response.json()
    return set(body.get("fields", {})) if "code" in body else set(body)


def queries_for(api: Api, path: str, params: dict | None = None) -> tuple[int, dict | list]:
    """How many queries one GET costs, and its body."""
    with CaptureQueriesContext(connection) as queries:
        response = api.get(path, params)
    assert response.status_code == 200, response.content
    return len(queries), response.json()


@pytest.fixture
def api_as(db):
    def make(user) -> Api:
        client = Client()
        client.force_login(user)
        return Api(client, user)

    return make


@pytest.fixture
def cast(make_user):
    """An ops manager; responders ana (the incident's commander) and ben,
    both in the team; an outsider responder; an executive; a BPO lead."""
    team = TeamFactory(name="T&S Ops CN", slug="ts-ops-cn")
    people = SimpleNamespace(
        team=team,
        manager=make_user(Role.OPS_MANAGER, display_name="Manager"),
        ana=make_user(Role.RESPONDER, display_name="Ana"),
        ben=make_user(Role.RESPONDER, display_name="Ben"),
        outsider=make_user(Role.RESPONDER, display_name="Outsider"),
        executive=make_user(Role.EXECUTIVE, display_name="Executive"),
        bpo=make_user(Role.BPO_LEAD, display_name="BPO lead"),
    )
    for user in (people.ana, people.ben):
        user.teams.add(team)
    return people


def policy_data(*levels, name: str = "T&S default", **fields) -> dict:
    """A policy's input; each level a list of (kind, id) targets."""
    return {
        "name": name,
        "levels": [
            {"wait_minutes": 5 + i, "targets": [{"kind": k, "id": t} for k, t in targets]}
            for i, targets in enumerate(levels)
        ],
        **fields,
    }


@pytest.fixture
def policy(cast):
    """Ana and Ben first, then the whole team; the manager finally."""
    data = policy_data(
        [("user", cast.ana.id), ("user", cast.ben.id)],
        [("team", cast.team.id)],
        final_user=cast.manager.id,
    )
    return config.policy_save(actor=cast.manager, data=data)


@pytest.fixture
def other_policy(cast):
    data = policy_data([("user", cast.outsider.id)], name="Night shift")
    return config.policy_save(actor=cast.manager, data=data)


@pytest.fixture
def rule(cast, policy):
    return config.routing_rule_save(actor=cast.manager, data={"policy": policy.id})


@pytest.fixture
def reachable(cast):
    """Ana and Ben are reached in the app and by a signed robot webhook."""
    for user, hook in ((cast.ana, "https://hooks.example.test/robot/ana"), (cast.ben, BEN_HOOK)):
        data = {"channel": "webhook", "address": hook, "secret": SECRET}
        config.contact_method_save(actor=user, user_id=user.id, data=data)
        for urgency in ("high", "low"):
            for channel in ("app", "webhook"):
                config.notification_rule_save(
                    actor=user,
                    user_id=user.id,
                    data={"channel": channel, "urgency": urgency, "delay_minutes": 0},
                )


def page_incident(manager, commander, **fields):
    """Declare an incident and fire its first step: its routing rule's
    first level is paged (through the engine, not the on-commit hooks)."""
    incident = declare(manager, commander=commander, **fields)
    escalation = services.escalation_start(incident_id=incident.id)
    services.timer_fire(timer_id=Timer.objects.get(escalation=escalation, step=0).id)
    return incident, Escalation.objects.get(id=escalation.id)


@pytest.fixture
def paging(cast, policy, rule, reachable):
    """An incident commanded by Ana, paging Ana and Ben."""
    incident, escalation = page_incident(cast.manager, cast.ana)
    pages = {p.user_id: p for p in Page.objects.filter(escalation=escalation)}
    return SimpleNamespace(
        incident=incident,
        escalation=escalation,
        ana_page=pages[cast.ana.id],
        ben_page=pages[cast.ben.id],
    )
