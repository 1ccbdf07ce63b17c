"""Who may do what with schedules (django-rules; autodiscovered)."""

from __future__ import annotations

import rules

from tscc.rules import is_admin, is_operations, is_ops_manager, is_responder


@rules.predicate
def in_schedule_team(user, schedule) -> bool:
    if schedule is None or schedule.team_id is None or not user.is_authenticated:
        return False
    return user.teams.filter(id=schedule.team_id).exists()


rules.add_perm("oncall.view_schedule", is_operations)
rules.add_perm("oncall.create_schedule", is_ops_manager | is_admin)
rules.add_perm(
    "oncall.manage_schedule", is_ops_manager | is_admin | (is_responder & in_schedule_team)
)
rules.add_perm("oncall.override", is_ops_manager | is_admin | (is_responder & in_schedule_team))
