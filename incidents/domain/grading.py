"""The official Chinese grade (国家网络安全事件报告管理办法, annex 分级指南).

Kept apart from the internal severity. The criteria themselves are data
(GradingCriterion rows an admin corrects); this module only orders grades and
combines the criteria a grader marked as met.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Grade(StrEnum):
    UNASSESSED = "unassessed"
    NOT_APPLICABLE = "not_applicable"  # not a cybersecurity incident under the Measures
    GENERAL = "general"  # 一般
    RELATIVELY_MAJOR = "relatively_major"  # 较大
    MAJOR = "major"  # 重大
    ESPECIALLY_MAJOR = "especially_major"  # 特别重大

    @property
    def level(self) -> int:
        return GRADE_ORDER.index(self)


GRADE_ORDER = (
    Grade.UNASSESSED,
    Grade.NOT_APPLICABLE,
    Grade.GENERAL,
    Grade.RELATIVELY_MAJOR,
    Grade.MAJOR,
    Grade.ESPECIALLY_MAJOR,
)
# Grades a criterion can name (the annex's four).
CRITERION_GRADES = (Grade.GENERAL, Grade.RELATIVELY_MAJOR, Grade.MAJOR, Grade.ESPECIALLY_MAJOR)


def grade_from_criteria(*, in_scope: bool, met: Iterable[Grade]) -> Grade:
    """The worksheet's grade: the highest grade among the criteria met; an
    in-scope incident that meets none is 一般; out of scope is not applicable.
    ("以上" includes the stated number, so thresholds are checked by the
    grader against the criterion's text, not here.)"""
    if not in_scope:
        return Grade.NOT_APPLICABLE
    met = [g for g in met if g in CRITERION_GRADES]
    return max(met, key=lambda g: g.level) if met else Grade.GENERAL


def meets(grade: Grade, minimum: Grade) -> bool:
    """Whether `grade` is at least `minimum` (both annex grades)."""
    return grade in CRITERION_GRADES and grade.level >= minimum.level
