"""A vendor's own escalation policy: up to 5 levels of active operations
people, each waiting at least a minute; refused input names its level and
changes nothing."""

from __future__ import annotations

import pytest

from tscc.exceptions import InvalidInput, NotAllowed
from tscc.roles import Role
from vendors.services import vendor_set_escalation_levels, vendor_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return (
        make_user(Role.RESPONDER, username="lvl-a"),
        make_user(Role.OPS_MANAGER, username="lvl-b"),
    )


def levels_of(vendor):
    return [
        (level.position, level.wait_minutes, sorted(u.id for u in level.users.all()))
        for level in vendor.escalation_levels.order_by("position")
    ]


def test_levels_are_set_in_order_and_replaced(manager, vendor, people):
    a, b = people
    vendor_set_escalation_levels(
        actor=manager,
        vendor_id=vendor.id,
        levels=[
            {"wait_minutes": 5, "user_ids": [a.id]},
            {"wait_minutes": 15, "user_ids": [a.id, b.id]},
        ],
    )
    assert levels_of(vendor) == [(1, 5, [a.id]), (2, 15, sorted([a.id, b.id]))]
    vendor_set_escalation_levels(
        actor=manager, vendor_id=vendor.id, levels=[{"wait_minutes": 3, "user_ids": [b.id]}]
    )
    assert levels_of(vendor) == [(1, 3, [b.id])]
    vendor_set_escalation_levels(actor=manager, vendor_id=vendor.id, levels=[])
    assert levels_of(vendor) == []


@pytest.mark.parametrize(
    ("levels", "field"),
    [
        ([{"wait_minutes": 0, "user_ids": ["A"]}], "levels.1.wait_minutes"),
        (
            [{"wait_minutes": 10, "user_ids": ["A"]}, {"wait_minutes": 10, "user_ids": []}],
            "levels.2.user_ids",
        ),
        ([{"wait_minutes": 10, "user_ids": ["LEAD"]}], "levels.1.user_ids"),
        ([{"wait_minutes": 10, "user_ids": ["INACTIVE"]}], "levels.1.user_ids"),
        ([{"wait_minutes": 10, "user_ids": ["x"]}], "levels.1.user_ids"),
        ([{"wait_minutes": 10, "user_ids": ["A"]}] * 6, "levels"),
        ("not a list", "levels"),
    ],
)
def test_refused_levels_name_the_level_and_keep_the_old_policy(
    manager, vendor, people, lead, make_user, levels, field
):
    a, _b = people
    inactive = make_user(Role.RESPONDER, username="lvl-gone", is_active=False)
    ids = {"A": a.id, "LEAD": lead.id, "INACTIVE": inactive.id}
    vendor_set_escalation_levels(
        actor=manager, vendor_id=vendor.id, levels=[{"wait_minutes": 7, "user_ids": [a.id]}]
    )
    if isinstance(levels, list):
        levels = [{**lvl, "user_ids": [ids.get(u, u) for u in lvl["user_ids"]]} for lvl in levels]
    with pytest.raises(InvalidInput) as refused:
        vendor_set_escalation_levels(actor=manager, vendor_id=vendor.id, levels=levels)
    assert field in refused.value.fields, refused.value.fields
    assert levels_of(vendor) == [(1, 7, [a.id])]


def test_only_managers_set_levels(vendor, people, lead):
    a, _b = people
    for actor in (a, lead):
        with pytest.raises(NotAllowed):
            vendor_set_escalation_levels(
                actor=actor, vendor_id=vendor.id, levels=[{"wait_minutes": 5, "user_ids": [a.id]}]
            )


def test_vendor_update_names_errors_after_its_field_and_changes_nothing(manager, vendor, lead):
    with pytest.raises(InvalidInput) as refused:
        vendor_update(
            actor=manager,
            vendor_id=vendor.id,
            name="Renamed",
            escalation_levels=[{"wait_minutes": 5, "user_ids": [lead.id]}],
        )
    assert "escalation_levels.1.user_ids" in refused.value.fields
    vendor.refresh_from_db()
    assert vendor.name != "Renamed"
