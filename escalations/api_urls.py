"""The escalations API under /api/v1/ (included by tscc.urls by dotted path)."""

from django.urls import path

from escalations.api import AlertReceiveApi

urlpatterns = [
    path(
        "integrations/<int:integration_id>/alerts/",
        AlertReceiveApi.as_view(),
        name="api-integration-alerts",
    ),
]
