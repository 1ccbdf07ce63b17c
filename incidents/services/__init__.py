"""Every write that matters to an incident. Views, the API, consumers and
tasks call these; each runs in one transaction, appends to the timeline and
sends its side effects after commit."""

from incidents.services.chat import (
    incident_chat_post,
    incident_message_decide,
    incident_message_pin,
)
from incidents.services.declare import Declaration, incident_declare
from incidents.services.lifecycle import (
    incident_acknowledge,
    incident_link,
    incident_merge,
    incident_transition,
)
from incidents.services.people import (
    incident_assign_role,
    incident_hand_over_command,
    incident_join,
    incident_release_role,
)
from incidents.services.reports import (
    report_add_supplement,
    report_mark_not_required,
    report_record_receipt,
    report_save_draft,
    report_submit,
    reports_sync,
)
from incidents.services.severity import (
    incident_assess_severity,
    incident_confirm_severity,
    incident_grade,
)
from incidents.services.timers import timer_fire, timers_sweep
from incidents.services.weekly import (
    weekly_report_context,
    weekly_report_render,
    weekly_report_send_now,
    weekly_reports_send_due,
)
from incidents.services.work import (
    incident_add_note,
    incident_log_page,
    incident_pin_fact,
    incident_record_decision,
    incident_task_claim,
    incident_task_create,
    incident_task_update,
    incident_unpin_fact,
    incident_update_details,
    review_save,
    review_set_state,
    status_update_publish,
)

__all__ = [
    "Declaration",
    "incident_acknowledge",
    "incident_add_note",
    "incident_assess_severity",
    "incident_assign_role",
    "incident_chat_post",
    "incident_confirm_severity",
    "incident_declare",
    "incident_grade",
    "incident_hand_over_command",
    "incident_join",
    "incident_link",
    "incident_log_page",
    "incident_merge",
    "incident_message_decide",
    "incident_message_pin",
    "incident_pin_fact",
    "incident_record_decision",
    "incident_release_role",
    "incident_task_claim",
    "incident_task_create",
    "incident_task_update",
    "incident_transition",
    "incident_unpin_fact",
    "incident_update_details",
    "report_add_supplement",
    "report_mark_not_required",
    "report_record_receipt",
    "report_save_draft",
    "report_submit",
    "reports_sync",
    "review_save",
    "review_set_state",
    "status_update_publish",
    "timer_fire",
    "timers_sweep",
    "weekly_report_context",
    "weekly_report_render",
    "weekly_report_send_now",
    "weekly_reports_send_due",
]
