"""Who may do what with vendors (django-rules; autodiscovered).

- vendors.view_vendor: ops managers, responders, admins and executives see
  every vendor; anyone else (a BPO lead) only vendors they belong to.
- vendors.report (post snapshots, change a site's status): ops managers and
  admins for any vendor; BPO leads for vendors they lead.
- vendors.manage (vendors, sites, queues, tokens, memberships, incident
  links): ops managers and admins.

Selectors apply the same split as row filters (vendors.selectors)."""

from __future__ import annotations

import rules

from tscc.rules import is_admin, is_bpo_lead, is_executive, is_operations, is_ops_manager


def _vendor_id(vendor) -> int | None:
    return getattr(vendor, "pk", vendor)


@rules.predicate
def is_vendor_member(user, vendor) -> bool:
    """Belongs to the vendor (lead or agent)."""
    vendor_id = _vendor_id(vendor)
    if vendor_id is None or not user.is_authenticated:
        return False
    from vendors.selectors import is_member_of

    return is_member_of(user, vendor_id)


@rules.predicate
def is_vendor_lead(user, vendor) -> bool:
    vendor_id = _vendor_id(vendor)
    if vendor_id is None or not user.is_authenticated:
        return False
    from vendors.selectors import is_member_of

    return is_member_of(user, vendor_id, leads_only=True)


manages = is_ops_manager | is_admin
sees_every_vendor = is_operations | is_executive

rules.add_perm("vendors.view_vendor", sees_every_vendor | is_vendor_member)
rules.add_perm("vendors.report", manages | (is_bpo_lead & is_vendor_lead))
rules.add_perm("vendors.manage", manages)
