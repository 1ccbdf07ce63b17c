"""A site's status: operational, degraded, down, or on its
business-continuity plan. Every change is kept (SiteStatusChange)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tscc.exceptions import InvalidInput
from vendors.domain.health import SiteStatus
from vendors.models import Site, SiteStatusChange
from vendors.realtime import board_changed_on_commit
from vendors.services.common import Actor, ensure_can_report, get_visible, is_token

REASON_MAX = 2000


@transaction.atomic
def site_status_change(
    *,
    actor: Actor,
    site_id: int,
    status: str,
    reason: str = "",
    source: str = SiteStatusChange.Source.PORTAL,
) -> SiteStatusChange:
    """Set a site's status and record the change. Anything but operational
    needs a reason. `actor` is a lead of the site's vendor, an ops
    manager or admin, or a VendorToken of the vendor (source api).

    NotFound for a site the actor may not see, NotAllowed when they may
    not report, InvalidInput for an unknown status, a missing reason or no
    change. After commit a site that went down opens (or updates) an
    incident; one back up notes it (vendors.services.trouble)."""
    site = get_visible(actor, Site, site_id, lock=True)
    ensure_can_report(actor, site.vendor)
    if is_token(actor):
        source = SiteStatusChange.Source.API
    if source not in SiteStatusChange.Source.values:
        raise InvalidInput(_("Unknown source."), fields={"source": _("Unknown source.")})
    if status not in SiteStatus.__members__.values():
        raise InvalidInput(_("Check the status."), fields={"status": _("Unknown status.")})
    reason = (reason or "").strip()
    if status != SiteStatus.OPERATIONAL and not reason:
        raise InvalidInput(
            _("Say what is wrong at the site."),
            fields={"reason": _("A reason is required unless the site is operational.")},
        )
    if len(reason) > REASON_MAX:
        raise InvalidInput(
            _("Check the reason."), fields={"reason": _("At most 2,000 characters.")}
        )
    if status == site.status and reason == site.status_reason:
        raise InvalidInput(
            _("The site already has this status."), fields={"status": _("No change.")}
        )
    now = timezone.now()
    user = None if is_token(actor) else actor
    change = SiteStatusChange.objects.create(
        site=site,
        previous=site.status,
        current=status,
        reason=reason,
        changed_by=user,
        source=source,
        at=now,
    )
    site.status = status
    site.status_reason = reason
    site.status_changed_at = now
    site.status_changed_by = user
    site.save(update_fields=["status", "status_reason", "status_changed_at", "status_changed_by"])

    def evaluate(site_id: int = site.id) -> None:
        from vendors.services.trouble import site_trouble_evaluate

        site_trouble_evaluate(site_id=site_id)

    transaction.on_commit(evaluate, robust=True)
    board_changed_on_commit()
    return change
