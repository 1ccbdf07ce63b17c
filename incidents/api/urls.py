"""The incidents API under /api/v1/ (included by tscc.urls by dotted path)."""

from django.urls import path

from incidents.api import metrics
from incidents.api.views import actions, incidents, reports, work

INCIDENT = "incidents/<int:incident_id>/"

urlpatterns = [
    path("incidents/", incidents.IncidentListApi.as_view(), name="api-incident-list"),
    path(INCIDENT, incidents.IncidentDetailApi.as_view(), name="api-incident-detail"),
    path(
        "grading-criteria/",
        incidents.GradingCriterionListApi.as_view(),
        name="api-grading-criteria",
    ),
    # Lifecycle, severity, grade, people, links.
    path(
        f"{INCIDENT}transition/",
        actions.IncidentTransitionApi.as_view(),
        name="api-incident-transition",
    ),
    path(
        f"{INCIDENT}severity/", actions.IncidentSeverityApi.as_view(), name="api-incident-severity"
    ),
    path(
        f"{INCIDENT}severity/confirm/",
        actions.IncidentSeverityConfirmApi.as_view(),
        name="api-incident-severity-confirm",
    ),
    path(f"{INCIDENT}grade/", actions.IncidentGradeApi.as_view(), name="api-incident-grade"),
    path(f"{INCIDENT}roles/", actions.IncidentRoleAssignApi.as_view(), name="api-incident-roles"),
    path(
        f"{INCIDENT}handover/", actions.IncidentHandoverApi.as_view(), name="api-incident-handover"
    ),
    path(f"{INCIDENT}join/", actions.IncidentJoinApi.as_view(), name="api-incident-join"),
    path(
        f"{INCIDENT}acknowledge/",
        actions.IncidentAcknowledgeApi.as_view(),
        name="api-incident-acknowledge",
    ),
    path(f"{INCIDENT}merge/", actions.IncidentMergeApi.as_view(), name="api-incident-merge"),
    path(f"{INCIDENT}links/", actions.IncidentLinkApi.as_view(), name="api-incident-links"),
    # Timeline, decisions, key facts, tasks, status updates.
    path(f"{INCIDENT}timeline/", work.IncidentTimelineApi.as_view(), name="api-incident-timeline"),
    path(
        f"{INCIDENT}decisions/", work.IncidentDecisionApi.as_view(), name="api-incident-decisions"
    ),
    path(f"{INCIDENT}facts/", work.IncidentFactListApi.as_view(), name="api-incident-facts"),
    path(
        f"{INCIDENT}facts/<int:event_id>/",
        work.IncidentFactDetailApi.as_view(),
        name="api-incident-fact",
    ),
    path(f"{INCIDENT}tasks/", work.IncidentTaskListApi.as_view(), name="api-incident-tasks"),
    path("tasks/<int:task_id>/", work.TaskDetailApi.as_view(), name="api-task-detail"),
    path("tasks/<int:task_id>/claim/", work.TaskClaimApi.as_view(), name="api-task-claim"),
    path(
        f"{INCIDENT}status-updates/",
        work.IncidentStatusUpdateListApi.as_view(),
        name="api-incident-status-updates",
    ),
    # Regulatory reports and the review.
    path(
        f"{INCIDENT}reports/", reports.IncidentReportListApi.as_view(), name="api-incident-reports"
    ),
    path("reports/<int:report_id>/", reports.ReportDetailApi.as_view(), name="api-report-detail"),
    path(
        "reports/<int:report_id>/submit/",
        reports.ReportSubmitApi.as_view(),
        name="api-report-submit",
    ),
    path(
        "reports/<int:report_id>/receipt/",
        reports.ReportReceiptApi.as_view(),
        name="api-report-receipt",
    ),
    path(
        "reports/<int:report_id>/not-required/",
        reports.ReportNotRequiredApi.as_view(),
        name="api-report-not-required",
    ),
    path(
        "reports/<int:report_id>/supplement/",
        reports.ReportSupplementApi.as_view(),
        name="api-report-supplement",
    ),
    path(f"{INCIDENT}review/", reports.IncidentReviewApi.as_view(), name="api-incident-review"),
    path(
        f"{INCIDENT}review/state/",
        reports.IncidentReviewStateApi.as_view(),
        name="api-incident-review-state",
    ),
    # Metrics over a period (the trends page's numbers).
    path("metrics/", metrics.MetricsApi.as_view(), name="api-metrics"),
]
