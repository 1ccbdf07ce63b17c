"""The escalations API under /api/v1/ (included by tscc.urls by dotted path)."""

from django.urls import path

from escalations.api import alerts, pages, personal, policies

POLICY = "escalation-policies/<int:policy_id>/"
RULE = "routing-rules/<int:rule_id>/"
METHOD = "me/contact-methods/<int:method_id>/"
INCIDENT = "incidents/<int:incident_id>/"

urlpatterns = [
    path(
        "integrations/<int:integration_id>/alerts/",
        alerts.AlertReceiveApi.as_view(),
        name="api-integration-alerts",
    ),
    # Policies and routing.
    path("escalation-policies/", policies.PolicyListApi.as_view(), name="api-escalation-policies"),
    path(POLICY, policies.PolicyDetailApi.as_view(), name="api-escalation-policy"),
    path("routing-rules/", policies.RoutingRuleListApi.as_view(), name="api-routing-rules"),
    path(RULE, policies.RoutingRuleDetailApi.as_view(), name="api-routing-rule"),
    path(f"{RULE}move/", policies.RoutingRuleMoveApi.as_view(), name="api-routing-rule-move"),
    # The caller's notification settings.
    path(
        "me/contact-methods/",
        personal.ContactMethodListApi.as_view(),
        name="api-me-contact-methods",
    ),
    path(METHOD, personal.ContactMethodDetailApi.as_view(), name="api-me-contact-method"),
    path(
        f"{METHOD}test/",
        personal.ContactMethodTestApi.as_view(),
        name="api-me-contact-method-test",
    ),
    path(
        "me/notification-rules/",
        personal.NotificationRuleListApi.as_view(),
        name="api-me-notification-rules",
    ),
    path(
        "me/notification-rules/<int:rule_id>/",
        personal.NotificationRuleDetailApi.as_view(),
        name="api-me-notification-rule",
    ),
    path("me/quiet-hours/", personal.QuietHoursApi.as_view(), name="api-me-quiet-hours"),
    # Pages and an incident's paging.
    path("pages/", pages.PageListApi.as_view(), name="api-pages"),
    path("pages/<int:page_id>/ack/", pages.PageAcknowledgeApi.as_view(), name="api-page-ack"),
    path(
        f"{INCIDENT}escalations/",
        pages.IncidentEscalationListApi.as_view(),
        name="api-incident-escalations",
    ),
    path(
        f"{INCIDENT}escalations/switch/",
        pages.IncidentEscalationSwitchApi.as_view(),
        name="api-incident-escalations-switch",
    ),
    path(f"{INCIDENT}page/", pages.IncidentPagePeopleApi.as_view(), name="api-incident-page"),
]
