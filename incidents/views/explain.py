from __future__ import annotations

from incidents.labels import DIMENSION_LABELS, GRADE_LABELS, REASON_TEXT, RUBRIC


def explain(classification) -> list[str]:
    """The proposal's reasons as sentences in the viewer's language."""
    lines = []
    for reason in classification.reasons:
        if reason.code == "dimension":
            answer = RUBRIC[reason.dimension][reason.score]
            lines.append(
                str(
                    REASON_TEXT["dimension"]
                    % {"dimension": DIMENSION_LABELS[reason.dimension], "answer": answer}
                )
            )
        elif reason.code == "statutory_floor":
            lines.append(
                str(
                    REASON_TEXT["statutory_floor"]
                    % {"grade": GRADE_LABELS.get(reason.grade, reason.grade)}
                )
            )
        else:
            lines.append(str(REASON_TEXT[reason.code]))
    return lines
