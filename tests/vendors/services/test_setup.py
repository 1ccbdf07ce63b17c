"""Vendors, sites, queues, memberships and tokens: validation and rights."""

from __future__ import annotations

import pytest

from tscc.exceptions import InvalidInput, NotAllowed
from tscc.roles import Role
from vendors.exceptions import NotFound
from vendors.models import VendorMembership, VendorToken
from vendors.services import (
    membership_remove,
    membership_set,
    queue_create,
    queue_update,
    site_create,
    token_authenticate,
    token_create,
    token_revoke,
    vendor_create,
    vendor_update,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.RESPONDER, Role.EXECUTIVE, Role.BPO_LEAD])
def test_only_managers_and_admins_set_up_vendors(make_user, role):
    with pytest.raises(NotAllowed):
        vendor_create(actor=make_user(role), code="x", name="X")


def test_admin_creates_vendor(make_user):
    vendor = vendor_create(
        actor=make_user(Role.ADMIN), code="acme", name="Acme", languages=["zh", "en"]
    )
    assert vendor.languages == ["zh", "en"] and vendor.is_active


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"code": "no spaces", "name": "X"}, "code"),
        ({"code": "x", "name": ""}, "name"),
        ({"code": "x", "name": "X", "languages": "zh"}, "languages"),
        ({"code": "x", "name": "X", "bogus": 1}, "bogus"),
    ],
)
def test_vendor_validation(manager, fields, field):
    with pytest.raises(InvalidInput) as error:
        vendor_create(actor=manager, **fields)
    assert field in error.value.fields


def test_contract_dates_in_order(manager, vendor):
    import datetime

    with pytest.raises(InvalidInput) as error:
        vendor_update(
            actor=manager,
            vendor_id=vendor.id,
            contract_start=datetime.date(2026, 1, 1),
            contract_end=datetime.date(2025, 1, 1),
        )
    assert "contract_end" in error.value.fields


def test_owner_must_be_an_ops_person(manager, make_user):
    with pytest.raises(InvalidInput) as error:
        vendor_create(actor=manager, code="x", name="X", owner=make_user(Role.BPO_LEAD))
    assert "owner" in error.value.fields


def test_site_time_zone_is_checked(manager, vendor):
    with pytest.raises(InvalidInput) as error:
        site_create(
            actor=manager,
            vendor_id=vendor.id,
            name="Mars",
            city="Olympus",
            country="XX",
            time_zone="Mars/Olympus",
        )
    assert "time_zone" in error.value.fields


def test_queue_site_must_be_the_vendors(manager, vendor, other_site):
    with pytest.raises(InvalidInput) as error:
        queue_create(actor=manager, vendor_id=vendor.id, site=other_site, code="q", name="Q")
    assert "site" in error.value.fields


def test_queue_code_is_unique_per_vendor(manager, vendor, queue, other_vendor):
    with pytest.raises(InvalidInput) as error:
        queue_create(actor=manager, vendor_id=vendor.id, code="en-video", name="Again")
    assert "code" in error.value.fields
    assert queue_create(actor=manager, vendor_id=other_vendor.id, code="en-video", name="Ok")


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"sla_percent": 0}, "sla_percent"),
        ({"sla_percent": 101}, "sla_percent"),
        ({"sla_minutes": 0}, "sla_minutes"),
        ({"staffed_days": [0, 8]}, "staffed_days"),
        ({"staffed_days": []}, "staffed_days"),
        ({"warn_attainment": 120}, "warn_attainment"),
        ({"stale_after_minutes": 1}, "stale_after_minutes"),
    ],
)
def test_queue_validation(manager, queue, fields, field):
    with pytest.raises(InvalidInput) as error:
        queue_update(actor=manager, queue_id=queue.id, **fields)
    assert field in error.value.fields


def test_memberships(manager, vendor, make_user):
    lead = make_user(Role.BPO_LEAD)
    membership = membership_set(actor=manager, vendor_id=vendor.id, user_id=lead.id)
    assert membership.role == "lead"
    again = membership_set(actor=manager, vendor_id=vendor.id, user_id=lead.id, role="agent")
    assert again.id == membership.id and again.role == "agent"
    with pytest.raises(InvalidInput):
        membership_set(actor=manager, vendor_id=vendor.id, user_id=make_user(Role.RESPONDER).id)
    membership_remove(actor=manager, membership_id=membership.id)
    assert not VendorMembership.objects.exists()
    with pytest.raises(NotFound):
        membership_remove(actor=manager, membership_id=membership.id)


def test_lead_cannot_manage_memberships(lead, vendor):
    with pytest.raises(NotAllowed):
        membership_set(actor=lead, vendor_id=vendor.id, user_id=lead.id)


def test_tokens_create_authenticate_revoke(manager, vendor):
    token, secret = token_create(actor=manager, vendor_id=vendor.id, name="WFM feed")
    assert secret.startswith("vnd_") and len(secret) > 40
    assert token.prefix == secret[:8] and token.key_hash != secret
    assert secret not in str(VendorToken.objects.filter(id=token.id).values().get())

    found = token_authenticate(secret)
    assert found == token and found.vendor == vendor and found.last_used_at is not None
    assert token_authenticate(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert token_authenticate("") is None
    assert token_authenticate("Bearer " + secret) is None

    revoked = token_revoke(actor=manager, token_id=token.id)
    assert revoked.revoked_at is not None
    assert token_authenticate(secret) is None
    assert token_revoke(actor=manager, token_id=token.id).revoked_at == revoked.revoked_at


def test_a_closed_vendors_token_stops_working(manager, vendor):
    _token, secret = token_create(actor=manager, vendor_id=vendor.id, name="feed")
    vendor_update(actor=manager, vendor_id=vendor.id, is_active=False)
    assert token_authenticate(secret) is None


def test_lead_cannot_create_tokens(lead, vendor):
    with pytest.raises(NotAllowed):
        token_create(actor=lead, vendor_id=vendor.id, name="mine")
