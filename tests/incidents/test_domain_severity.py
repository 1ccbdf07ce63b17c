import pytest

from incidents.domain.errors import SeverityOverrideInvalid
from incidents.domain.severity import (
    Dimension,
    ImpactAnswers,
    Severity,
    check_override,
    classify_severity,
    reach_score_from_counts,
)


@pytest.mark.parametrize(
    ("answers", "severity", "dimensions"),
    [
        (ImpactAnswers(), Severity.SEV4, []),
        (ImpactAnswers(reach=1), Severity.SEV3, [Dimension.REACH]),
        (ImpactAnswers(press=2, operations=1), Severity.SEV2, [Dimension.PRESS]),
        (
            ImpactAnswers(legal=3, reach=3, press=1),
            Severity.SEV1,
            [Dimension.REACH, Dimension.LEGAL],
        ),
        (ImpactAnswers(user_harm=4), Severity.SEV0, [Dimension.USER_HARM]),
        (ImpactAnswers(4, 4, 4, 4, 4), Severity.SEV0, list(Dimension)),
        (ImpactAnswers(operations=3), Severity.SEV1, [Dimension.OPERATIONS]),
    ],
)
def test_the_highest_answer_decides_and_is_named(answers, severity, dimensions):
    result = classify_severity(answers)
    assert result.severity is severity
    assert [r.dimension for r in result.reasons if r.code == "dimension"] == dimensions
    if not dimensions:
        assert [r.code for r in result.reasons] == ["no_impact"]


@pytest.mark.parametrize(
    ("grade", "answers", "severity", "floored"),
    [
        ("relatively_major", ImpactAnswers(reach=2), Severity.SEV1, True),
        ("relatively_major", ImpactAnswers(user_harm=4), Severity.SEV0, False),
        ("major", ImpactAnswers(), Severity.SEV0, True),
        ("especially_major", ImpactAnswers(reach=3), Severity.SEV0, True),
        ("general", ImpactAnswers(reach=2), Severity.SEV2, False),
        ("unassessed", ImpactAnswers(reach=2), Severity.SEV2, False),
    ],
)
def test_a_statutory_grade_sets_a_floor(grade, answers, severity, floored):
    result = classify_severity(answers, statutory_grade=grade)
    assert result.severity is severity
    assert (result.reasons[0].code == "statutory_floor") is floored


@pytest.mark.parametrize("bad", [-1, 5, "3", 2.5, None])
def test_answers_out_of_range_are_refused(bad):
    with pytest.raises(ValueError, match="user_harm"):
        ImpactAnswers(user_harm=bad)


@pytest.mark.parametrize(
    ("views", "reposts", "score"),
    [
        (None, None, 0),
        (0, 0, 0),
        (1, None, 1),
        (4_999, 499, 1),
        (5_000, 0, 2),
        (0, 500, 2),
        (99_999, 9_999, 2),
        (100_000, 0, 3),
        (0, 10_000, 3),
        (999_999, 99_999, 3),
        (1_000_000, 0, 4),
        (0, 100_000, 4),
    ],
)
def test_counts_suggest_a_reach_score_at_the_documented_thresholds(views, reposts, score):
    assert reach_score_from_counts(views=views, reposts=reposts) == score


def test_an_override_needs_a_reason_but_agreeing_does_not():
    check_override(proposed=Severity.SEV2, chosen=Severity.SEV2, reason="")
    check_override(proposed=Severity.SEV2, chosen=Severity.SEV1, reason="press is calling")
    with pytest.raises(SeverityOverrideInvalid):
        check_override(proposed=Severity.SEV2, chosen=Severity.SEV1, reason=" ")


def test_rank_orders_severities():
    assert Severity.SEV0.is_higher_than(Severity.SEV1)
    assert not Severity.SEV3.is_higher_than(Severity.SEV3)
    assert sorted(Severity, key=lambda s: s.rank)[0] is Severity.SEV0
