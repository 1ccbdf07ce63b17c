"""Building a vendor with a site and a queue through the services, for tests
outside tests/vendors that need one (the authorization matrix, the hostile
input probes, the schema fuzzing)."""

from __future__ import annotations


def vendor_with_site_and_queue(manager, team, *, code: str, name: str = "Vendor A"):
    """(vendor, site in Manila, queue `<code>-q` at 95 % within 30 minutes)."""
    from vendors import services

    vendor = services.vendor_create(actor=manager, code=code, name=name, team=team, owner=manager)
    site = services.site_create(
        actor=manager,
        vendor_id=vendor.id,
        name="Manila",
        city="Manila",
        country="PH",
        time_zone="Asia/Manila",
    )
    queue = services.queue_create(
        actor=manager,
        vendor_id=vendor.id,
        site=site,
        code=f"{code}-q",
        name="Queue A",
        sla_percent=95,
        sla_minutes=30,
        planned_headcount=10,
    )
    return vendor, site, queue
