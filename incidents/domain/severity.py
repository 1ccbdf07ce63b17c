"""Severity from the declarer's impact answers.

The rubric is the product default of ../shared/domain §1.5 [P]: each of five
dimensions is answered on a 0-4 scale and the highest answer sets the
severity (4 -> SEV0 ... 0 -> SEV4). A statutory grade sets a floor: a CAC
较大 incident is at least SEV1, 重大 and above are SEV0. The function returns
the reasons, so the page can say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from incidents.domain.errors import SeverityOverrideInvalid


class Severity(StrEnum):
    SEV0 = "sev0"
    SEV1 = "sev1"
    SEV2 = "sev2"
    SEV3 = "sev3"
    SEV4 = "sev4"

    @property
    def rank(self) -> int:
        """0 for the most severe."""
        return int(self.value[-1])

    def is_higher_than(self, other: Severity) -> bool:
        return self.rank < other.rank


# The two highest severities: both languages are owed in status updates,
# a published review before closing.
HIGH_SEVERITIES = frozenset({Severity.SEV0, Severity.SEV1})


class Dimension(StrEnum):
    USER_HARM = "user_harm"
    REACH = "reach"
    LEGAL = "legal"
    PRESS = "press"
    OPERATIONS = "operations"


MAX_SCORE = 4
SEVERITY_BY_SCORE = {
    4: Severity.SEV0,
    3: Severity.SEV1,
    2: Severity.SEV2,
    1: Severity.SEV3,
    0: Severity.SEV4,
}

# Reach thresholds [P]: ../shared/domain §1.3 and §1.5. Views or reposts,
# whichever is higher, suggests a reach score; the declarer may still answer.
REACH_THRESHOLDS: tuple[tuple[int, int, int], ...] = (
    # (score, views at least, reposts at least)
    (4, 1_000_000, 100_000),  # CAC annex 特别重大 spread numbers [V]
    (3, 100_000, 10_000),  # older 大范围传播 guide [S]
    (2, 5_000, 500),  # SPC/SPP 2013 情节严重 [V numbers, P use]
    (1, 1, 1),
)


@dataclass(frozen=True)
class ImpactAnswers:
    user_harm: int = 0
    reach: int = 0
    legal: int = 0
    press: int = 0
    operations: int = 0

    def __post_init__(self) -> None:
        for dimension in Dimension:
            score = getattr(self, dimension.value)
            if not isinstance(score, int) or not 0 <= score <= MAX_SCORE:
                raise ValueError(
                    f"{dimension.value} must be an integer 0-{MAX_SCORE}, not {score!r}"
                )

    def score(self, dimension: Dimension) -> int:
        return getattr(self, dimension.value)

    def as_dict(self) -> dict[str, int]:
        return {d.value: self.score(d) for d in Dimension}


@dataclass(frozen=True)
class Reason:
    code: str  # "dimension" or "statutory_floor"
    dimension: Dimension | None = None
    score: int | None = None
    grade: str | None = None


@dataclass(frozen=True)
class Classification:
    severity: Severity
    reasons: tuple[Reason, ...]


def reach_score_from_counts(*, views: int | None = None, reposts: int | None = None) -> int:
    """The reach score the counts suggest (0 when neither is known or both are 0)."""
    views, reposts = views or 0, reposts or 0
    for score, min_views, min_reposts in REACH_THRESHOLDS:
        if views >= min_views or reposts >= min_reposts:
            return score
    return 0


# Statutory grade floors. Grades are the codes of domain.grading.Grade.
STATUTORY_FLOOR = {
    "especially_major": Severity.SEV0,
    "major": Severity.SEV0,
    "relatively_major": Severity.SEV1,
}


def classify_severity(
    answers: ImpactAnswers, *, statutory_grade: str | None = None
) -> Classification:
    """Propose a severity: the highest-scoring dimensions decide, and a
    statutory grade may raise it. Reasons list every dimension at the top score
    (or none when all answers are 0) and the floor when it applied."""
    top = max(answers.score(d) for d in Dimension)
    severity = SEVERITY_BY_SCORE[top]
    reasons: list[Reason] = [
        Reason("dimension", dimension=d, score=top)
        for d in Dimension
        if top and answers.score(d) == top
    ]
    floor = STATUTORY_FLOOR.get(statutory_grade or "")
    if floor is not None and floor.is_higher_than(severity):
        severity = floor
        reasons.insert(0, Reason("statutory_floor", grade=statutory_grade))
    if not reasons:
        reasons.append(Reason("no_impact"))
    return Classification(severity=severity, reasons=tuple(reasons))


def check_override(*, proposed: Severity, chosen: Severity, reason: str) -> None:
    """A severity other than the proposed one needs a reason."""
    if chosen != proposed and not reason.strip():
        raise SeverityOverrideInvalid("override_needs_reason", proposed=proposed, chosen=chosen)
