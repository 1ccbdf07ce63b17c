"""The vendors REST API under /api/v1/vendors/: vendors, sites, queues and
snapshots (one, or many at once), for people (session or API token) and for
a vendor's own systems (a per-vendor token: `Authorization: Vendor <secret>`)."""
