"""The vendors API under /api/v1/vendors/ (included by tscc.urls by dotted path)."""

from django.urls import path

from vendors.api import views

VENDOR = "<int:vendor_id>/"

urlpatterns = [
    path("", views.VendorListApi.as_view(), name="api-vendors"),
    path(VENDOR, views.VendorDetailApi.as_view(), name="api-vendor"),
    path(f"{VENDOR}incidents/", views.VendorIncidentListApi.as_view(), name="api-vendor-incidents"),
    path("sites/", views.SiteListApi.as_view(), name="api-vendor-sites"),
    path("sites/<int:site_id>/", views.SiteDetailApi.as_view(), name="api-vendor-site"),
    path(
        "sites/<int:site_id>/status/",
        views.SiteStatusApi.as_view(),
        name="api-vendor-site-status",
    ),
    path("queues/", views.QueueListApi.as_view(), name="api-vendor-queues"),
    path("queues/<int:queue_id>/", views.QueueDetailApi.as_view(), name="api-vendor-queue"),
    path("snapshots/", views.SnapshotListApi.as_view(), name="api-vendor-snapshots"),
    path("snapshots/bulk/", views.SnapshotBulkApi.as_view(), name="api-vendor-snapshots-bulk"),
]
