from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.incident_declare_view, name="declare"),
    path("new/preview/", views.severity_preview, name="severity-preview"),
    path("<int:incident_id>/", views.incident_detail, name="detail"),
    path("<int:incident_id>/room/", views.incident_room, name="room"),
    path("<int:object_id>/transition/", views.transition, name="transition"),
    path("<int:object_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<int:object_id>/join/", views.join, name="join"),
    path("<int:object_id>/severity/", views.assess_severity, name="severity"),
    path("<int:object_id>/severity/confirm/", views.confirm_severity, name="severity-confirm"),
    path("<int:object_id>/roles/", views.assign_role, name="roles"),
    path("<int:object_id>/handover/", views.hand_over, name="handover"),
    path("<int:object_id>/notes/", views.add_note, name="notes"),
    path(
        "<int:object_id>/facts/<int:event_id>/pin/",
        views.fact_pin_toggle,
        {"pin": True},
        name="fact-pin",
    ),
    path(
        "<int:object_id>/facts/<int:event_id>/unpin/",
        views.fact_pin_toggle,
        {"pin": False},
        name="fact-unpin",
    ),
    path("<int:object_id>/tasks/", views.add_task, name="tasks"),
    path("tasks/<int:object_id>/state/", views.task_state, name="task-state"),
    path("tasks/<int:object_id>/claim/", views.task_claim, name="task-claim"),
    path("<int:object_id>/updates/", views.publish_update, name="updates"),
    path("<int:object_id>/grade/", views.grade, name="grade"),
    path("reports/<int:object_id>/draft/", views.report_draft, name="report-draft"),
    path("reports/<int:object_id>/submit/", views.report_submit, name="report-submit"),
    path(
        "reports/<int:object_id>/not-required/",
        views.report_not_required,
        name="report-not-required",
    ),
    path("reports/<int:object_id>/receipt/", views.report_receipt, name="report-receipt"),
    path("reports/<int:object_id>/supplement/", views.report_supplement, name="report-supplement"),
    path("<int:incident_id>/postmortem/", views.review_page, name="review-page"),
    path("<int:object_id>/review/", views.save_review, name="review"),
    path("<int:object_id>/review/state/", views.review_state, name="review-state"),
    path("<int:object_id>/links/", views.link, name="links"),
    path("<int:object_id>/merge/", views.merge, name="merge"),
    path("<int:object_id>/details/", views.edit_details, name="details"),
]
