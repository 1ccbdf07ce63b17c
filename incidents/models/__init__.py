from incidents.models.incident import (
    AppendOnlyError,
    Incident,
    IncidentCounter,
    IncidentRole,
    Participant,
    RoleAssignment,
    SeverityAssessment,
    TimelineEvent,
)
from incidents.models.metrics_cache import IncidentMetricsFacts
from incidents.models.reference import (
    Category,
    Confidence,
    GradingCriterion,
    Market,
    NudgeRule,
    ReportingObligation,
    Runbook,
    RunbookItem,
    SeverityPolicy,
    Surface,
)
from incidents.models.regulatory import GradingWorksheet, RegulatoryReport
from incidents.models.reports_weekly import WeeklyReportList, WeeklyReportRun
from incidents.models.work import IncidentRunbook, IncidentTask, IncidentTimer, Review, StatusUpdate

__all__ = [
    "AppendOnlyError",
    "Category",
    "Confidence",
    "GradingCriterion",
    "GradingWorksheet",
    "Incident",
    "IncidentCounter",
    "IncidentMetricsFacts",
    "IncidentRole",
    "IncidentRunbook",
    "IncidentTask",
    "IncidentTimer",
    "Market",
    "NudgeRule",
    "Participant",
    "RegulatoryReport",
    "ReportingObligation",
    "Review",
    "RoleAssignment",
    "Runbook",
    "RunbookItem",
    "SeverityAssessment",
    "SeverityPolicy",
    "StatusUpdate",
    "Surface",
    "TimelineEvent",
    "WeeklyReportList",
    "WeeklyReportRun",
]
