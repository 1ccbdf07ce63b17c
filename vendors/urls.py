from django.urls import path, re_path

from vendors import views

app_name = "vendors"

urlpatterns = [
    path("", views.board, name="board"),
    path("portal/", views.portal, name="portal"),
    path("upload/", views.upload, name="upload"),
    re_path(r"^template\.(?P<kind>csv|xlsx)$", views.template_download, name="template"),
    path("queues/<int:queue_id>/snapshot/", views.snapshot_create, name="snapshot"),
    path("sites/<int:site_id>/status/", views.site_status, name="site-status"),
    path("<int:vendor_id>/", views.vendor_detail, name="detail"),
    path("<int:vendor_id>/portal/", views.portal_as_vendor, name="portal-vendor"),
    path("<int:vendor_id>/impacts/", views.vendor_link_incident, name="link-incident"),
    path("<int:vendor_id>/tokens/", views.token_create, name="token-create"),
    path("<int:vendor_id>/contacts/", views.contacts_save, name="contacts"),
    path(
        "<int:vendor_id>/tokens/<int:token_id>/revoke/",
        views.token_revoke,
        name="token-revoke",
    ),
    path("<int:vendor_id>/setup/", views.vendor_setup, name="setup"),
    path("<int:vendor_id>/setup/sites/", views.setup_site_create, name="setup-site-create"),
    path("<int:vendor_id>/setup/sites/<int:site_id>/", views.setup_site, name="setup-site"),
    path(
        "<int:vendor_id>/setup/sites/<int:site_id>/edit/",
        views.setup_site_edit,
        name="setup-site-edit",
    ),
    path("<int:vendor_id>/setup/queues/", views.setup_queue_create, name="setup-queue-create"),
    path("<int:vendor_id>/setup/queues/<int:queue_id>/", views.setup_queue, name="setup-queue"),
    path(
        "<int:vendor_id>/setup/queues/<int:queue_id>/edit/",
        views.setup_queue_edit,
        name="setup-queue-edit",
    ),
    path("incidents/<int:incident_id>/impacts/", views.incident_impacts, name="impacts"),
    path(
        "incidents/<int:incident_id>/impacts/link/",
        views.incident_impact_link,
        name="impact-link",
    ),
    path(
        "incidents/<int:incident_id>/impacts/<int:impact_id>/unlink/",
        views.incident_impact_unlink,
        name="impact-unlink",
    ),
]
