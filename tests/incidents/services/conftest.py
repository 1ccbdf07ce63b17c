"""Fixtures for the incident service tests: a cast of people and a recorder
for what leaves after commit (the realtime pushes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from incidents.models import IncidentRole
from incidents.services import incident_assign_role, incident_join
from tests.incidents.factories import declare
from tests.incidents.services.support import fresh
from tscc.roles import Role


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The cast logs in nowhere; a slow hasher only slows every test down."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Pushes:
    """What incidents.events sent after commit: group broadcasts and user notices."""

    broadcasts: list[tuple[str, str, dict]] = field(default_factory=list)
    notices: list[tuple[int, str, str]] = field(default_factory=list)

    def seqs(self, incident_id: int) -> list[int]:
        return [p["seq"] for g, _t, p in self.broadcasts if g == f"incident.{incident_id}"]

    def noticed(self) -> list[int]:
        return [user_id for user_id, _text, _level in self.notices]


@pytest.fixture
def pushes(monkeypatch) -> Pushes:
    """Record the channel-layer sends instead of making them (they happen only
    inside on-commit callbacks; capture those with execute=True)."""
    recorded = Pushes()

    def broadcast(group, type_, **payload):
        recorded.broadcasts.append((group, type_, payload))

    def notify_user(user_id, *, text, level="info"):
        recorded.notices.append((user_id, text, level))

    monkeypatch.setattr("incidents.events.broadcast", broadcast)
    monkeypatch.setattr("incidents.events.notify_user", notify_user)
    return recorded


@pytest.fixture
def cast(make_user):
    """The people most tests need. Only `member` and `commander` take part
    once an incident is declared with `commander=cast.commander` and joined."""
    return SimpleNamespace(
        manager=make_user(Role.OPS_MANAGER, username="manager"),
        commander=make_user(Role.RESPONDER, username="commander"),
        deputy=make_user(Role.RESPONDER, username="deputy"),
        member=make_user(Role.RESPONDER, username="member"),
        liaison=make_user(Role.RESPONDER, username="liaison"),
        outsider=make_user(Role.RESPONDER, username="outsider"),
        executive=make_user(Role.EXECUTIVE, username="executive"),
        bpo_lead=make_user(Role.BPO_LEAD, username="bpo"),
        admin=make_user(Role.ADMIN, username="admin"),
    )


@pytest.fixture
def staffed(cast):
    """Declare an incident run by `cast.commander`, with `cast.deputy` as
    deputy, `cast.liaison` as regulatory liaison and `cast.member` joined."""

    def make(**overrides):
        incident = declare(cast.manager, commander=cast.commander, **overrides)
        incident_join(actor=cast.member, incident_id=incident.id)
        for role, user in (
            (IncidentRole.DEPUTY, cast.deputy),
            (IncidentRole.REGULATORY_LIAISON, cast.liaison),
        ):
            incident_assign_role(
                actor=cast.commander, incident_id=incident.id, role=role, user=user
            )
        return fresh(incident)

    return make
