"""The vendor pages: the ops board, the vendor portal, a vendor's detail
page, its sites-and-queues setup page and the incident page's
impacted-vendors panel."""

from vendors.views.board import board
from vendors.views.detail import (
    contacts_save,
    token_create,
    token_revoke,
    vendor_detail,
    vendor_link_incident,
)
from vendors.views.impacts import incident_impact_link, incident_impact_unlink, incident_impacts
from vendors.views.portal import (
    portal,
    portal_as_vendor,
    site_status,
    snapshot_create,
    template_download,
    upload,
)
from vendors.views.setup import (
    setup_queue,
    setup_queue_create,
    setup_queue_edit,
    setup_site,
    setup_site_create,
    setup_site_edit,
    vendor_setup,
)

__all__ = [
    "board",
    "incident_impact_link",
    "incident_impact_unlink",
    "incident_impacts",
    "portal",
    "portal_as_vendor",
    "setup_queue",
    "setup_queue_create",
    "setup_queue_edit",
    "setup_site",
    "setup_site_create",
    "setup_site_edit",
    "site_status",
    "snapshot_create",
    "template_download",
    "contacts_save",
    "token_create",
    "token_revoke",
    "upload",
    "vendor_detail",
    "vendor_link_incident",
    "vendor_setup",
]
