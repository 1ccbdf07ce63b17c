"""Every write that matters to vendors. Pages, the API and tasks call these;
each runs in one transaction, checks the actor, raises tscc/vendors
exceptions (NotFound, NotAllowed, InvalidInput with field errors) and never
half-writes. Trouble checks run after commit."""

from vendors.services.impacts import impact_link, impact_unlink
from vendors.services.setup import (
    membership_remove,
    membership_set,
    queue_create,
    queue_update,
    site_create,
    site_update,
    token_authenticate,
    token_create,
    token_revoke,
    vendor_create,
    vendor_set_escalation_levels,
    vendor_update,
)
from vendors.services.sites import site_status_change
from vendors.services.snapshots import (
    CSV_COLUMNS,
    FileInvalid,
    ImportResult,
    RowError,
    parse_snapshot_file,
    reportable_vendors,
    snapshot_post,
    snapshot_template_csv,
    snapshot_template_xlsx,
    snapshots_import,
)
from vendors.services.trouble import (
    queue_trouble_evaluate,
    queues_trouble_evaluate,
    site_trouble_evaluate,
    stale_reports_check,
    trouble_evaluate,
)

__all__ = [
    "CSV_COLUMNS",
    "FileInvalid",
    "ImportResult",
    "RowError",
    "impact_link",
    "impact_unlink",
    "membership_remove",
    "membership_set",
    "parse_snapshot_file",
    "queue_create",
    "queue_trouble_evaluate",
    "queue_update",
    "queues_trouble_evaluate",
    "reportable_vendors",
    "site_create",
    "site_status_change",
    "site_trouble_evaluate",
    "site_update",
    "snapshot_post",
    "snapshot_template_csv",
    "snapshot_template_xlsx",
    "snapshots_import",
    "stale_reports_check",
    "token_authenticate",
    "token_create",
    "token_revoke",
    "trouble_evaluate",
    "vendor_create",
    "vendor_set_escalation_levels",
    "vendor_update",
]
