"""site_status_change: reasons, history, who may change which site."""

from __future__ import annotations

import pytest

from tscc.exceptions import InvalidInput, NotAllowed
from tscc.roles import Role
from vendors.exceptions import NotFound
from vendors.models import SiteStatusChange
from vendors.services import site_status_change, token_create

pytestmark = pytest.mark.django_db


def test_change_is_recorded_with_history(lead, site):
    change = site_status_change(
        actor=lead, site_id=site.id, status="degraded", reason="Network flapping"
    )
    site.refresh_from_db()
    assert (site.status, site.status_reason, site.status_changed_by) == (
        "degraded",
        "Network flapping",
        lead,
    )
    assert (change.previous, change.current, change.source) == ("operational", "degraded", "portal")
    site_status_change(actor=lead, site_id=site.id, status="operational")
    assert list(SiteStatusChange.objects.values_list("current", flat=True)) == [
        "operational",
        "degraded",
    ]


@pytest.mark.parametrize(
    "status,reason,field",
    [
        ("down", "", "reason"),
        ("bcp_active", "   ", "reason"),
        ("on_fire", "smoke", "status"),
        ("operational", "", "status"),  # no change
    ],
)
def test_bad_changes_are_refused(lead, site, status, reason, field):
    with pytest.raises(InvalidInput) as error:
        site_status_change(actor=lead, site_id=site.id, status=status, reason=reason)
    assert field in error.value.fields
    assert not SiteStatusChange.objects.exists()


def test_lead_cannot_change_another_vendors_site(lead, other_site):
    with pytest.raises(NotFound):
        site_status_change(actor=lead, site_id=other_site.id, status="down", reason="x")


def test_executive_sees_but_cannot_change(make_user, site):
    with pytest.raises(NotAllowed):
        site_status_change(
            actor=make_user(Role.EXECUTIVE), site_id=site.id, status="down", reason="x"
        )


def test_token_changes_its_vendors_site_as_api(manager, vendor, site, other_site):
    token, _secret = token_create(actor=manager, vendor_id=vendor.id, name="NOC")
    change = site_status_change(actor=token, site_id=site.id, status="down", reason="UPS")
    assert change.source == "api" and change.changed_by is None
    with pytest.raises(NotFound):
        site_status_change(actor=token, site_id=other_site.id, status="down", reason="UPS")


def test_history_is_append_only(lead, site):
    change = site_status_change(actor=lead, site_id=site.id, status="down", reason="x")
    change.reason = "edited"
    with pytest.raises(Exception, match="append-only"):
        change.save()
