"""A cast for the vendor pages: an ops manager, a responder, an executive,
a BPO lead of vendor A (Luzon) and one of vendor B (Straits), with a site
and a queue at each vendor (tests/vendors/conftest.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tscc.roles import Role
from vendors import services

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def cast(make_user, manager, lead, vendor, other_vendor, site, other_site, queue, other_queue):
    other_lead = make_user(Role.BPO_LEAD, username="lead-b")
    services.membership_set(actor=manager, vendor_id=other_vendor.id, user_id=other_lead.id)
    return SimpleNamespace(
        manager=manager,
        responder=make_user(Role.RESPONDER, username="resp"),
        executive=make_user(Role.EXECUTIVE, username="exec"),
        lead=lead,
        other_lead=other_lead,
        vendor=vendor,
        other_vendor=other_vendor,
        site=site,
        other_site=other_site,
        queue=queue,
        other_queue=other_queue,
    )
