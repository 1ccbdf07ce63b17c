"""A room: an incident commanded by alice, joined by bob, watched by others."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from incidents.services import incident_join
from tests.incidents.factories import declare
from tscc.roles import Role


@pytest.fixture
def room(make_user):
    manager = make_user(Role.OPS_MANAGER, username="wr-manager")
    alice = make_user(Role.RESPONDER, username="alice", display_name="Alice")
    bob = make_user(Role.RESPONDER, username="bob", display_name="Bob")
    incident = declare(manager, commander=alice)
    incident_join(actor=bob, incident_id=incident.id)
    return SimpleNamespace(
        incident=incident,
        manager=manager,
        alice=alice,
        bob=bob,
        outsider=make_user(Role.RESPONDER, username="outsider", display_name="Otto"),
        executive=make_user(Role.EXECUTIVE, username="exec", display_name="Erin"),
        bpo_lead=make_user(Role.BPO_LEAD, username="bpo", display_name="Bea"),
    )
