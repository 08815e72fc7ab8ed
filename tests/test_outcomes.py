"""The outcome rules on worked vectors: progress, expected progress, the status rule's boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from analytics.outcomes import (
    OutcomeError,
    action_effect,
    apply_override,
    due_update,
    expected_progress,
    key_result_progress,
    losing_confidence,
    objective_progress,
    quadrant,
    quadrant_point,
    status,
    validate_key_result,
    weighted_confidence,
)


@pytest.mark.parametrize(
    ("baseline", "target", "direction", "value", "expected"),
    [
        # increasing: satisfaction 60 -> 80
        (60, 80, "increase", 60, 0.0),
        (60, 80, "increase", 65, 0.25),
        (60, 80, "increase", 70, 0.5),
        (60, 80, "increase", 80, 1.0),
        (60, 80, "increase", 95, 1.0),  # overshoot is done, not 175%
        (60, 80, "increase", 50, 0.0),  # moved the wrong way
        # decreasing: backlog 120 -> 80
        (120, 80, "decrease", 120, 0.0),
        (120, 80, "decrease", 110, 0.25),
        (120, 80, "decrease", 100, 0.5),
        (120, 80, "decrease", 80, 1.0),
        (120, 80, "decrease", 40, 1.0),  # overshoot
        (120, 80, "decrease", 130, 0.0),  # got worse
        # negative numbers and fractions
        (-10, 10, "increase", 0, 0.5),
        (0.5, 0.1, "decrease", 0.3, 0.5),
    ],
)
def test_key_result_progress_worked_vectors(
    baseline: float, target: float, direction: str, value: float, expected: float
) -> None:
    assert key_result_progress(baseline, target, direction, value) == pytest.approx(expected)


def test_no_check_in_yet_means_no_progress() -> None:
    assert key_result_progress(60, 80, "increase", None) == 0.0
    assert key_result_progress(120, 80, "decrease", None) == 0.0


def test_baseline_equal_to_target_is_a_clear_error_not_a_division_by_zero() -> None:
    with pytest.raises(OutcomeError, match="Baseline and target are the same"):
        key_result_progress(50, 50, "increase", 50)
    with pytest.raises(OutcomeError, match="Baseline and target are the same"):
        validate_key_result(baseline=3, target=3, direction="decrease")


@pytest.mark.parametrize(
    ("baseline", "target", "direction", "message"),
    [
        (80, 60, "increase", "below the baseline"),
        (60, 80, "decrease", "above the baseline"),
        (60, 80, "sideways", "Direction must be"),
        (float("nan"), 80, "increase", "Baseline must be a number"),
        (60, float("inf"), "increase", "Target must be a number"),
    ],
)
def test_key_results_that_cannot_be_measured_are_refused(
    baseline: float, target: float, direction: str, message: str
) -> None:
    with pytest.raises(OutcomeError, match=message):
        validate_key_result(baseline=baseline, target=target, direction=direction)


def test_weight_must_be_positive() -> None:
    with pytest.raises(OutcomeError, match="Weight must be more than 0"):
        validate_key_result(baseline=0, target=1, direction="increase", weight=0)


def test_objective_progress_is_the_weighted_mean_of_its_key_results() -> None:
    assert objective_progress([(0.5, 1.0), (1.0, 1.0)]) == pytest.approx(0.75)
    assert objective_progress([(0.0, 3.0), (1.0, 1.0)]) == pytest.approx(0.25)
    assert objective_progress([]) is None


def test_weighted_confidence_ignores_key_results_without_check_ins() -> None:
    assert weighted_confidence([(8, 1.0), (None, 5.0), (4, 3.0)]) == pytest.approx(5.0)
    assert weighted_confidence([(None, 1.0)]) is None


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 1, 1), 0.0),
        (date(2025, 12, 1), 0.0),  # before the period
        (date(2026, 1, 11), 0.25),
        (date(2026, 1, 21), 0.5),
        (date(2026, 2, 10), 1.0),
        (date(2026, 6, 1), 1.0),  # after the period
    ],
)
def test_expected_progress_is_the_share_of_the_period_elapsed(today: date, expected: float) -> None:
    assert expected_progress(date(2026, 1, 1), date(2026, 2, 10), today) == pytest.approx(expected)


def test_expected_progress_refuses_an_empty_period() -> None:
    with pytest.raises(OutcomeError, match="end date must be after"):
        expected_progress(date(2026, 1, 1), date(2026, 1, 1), date(2026, 1, 1))


@pytest.mark.parametrize(
    ("progress", "expected", "confidence", "name"),
    [
        # gap boundaries (confidence high so that only the gap counts)
        (0.5, 0.5, 9, "on_track"),
        (0.4, 0.5, 9, "on_track"),  # exactly 10 points behind is still on track
        (0.39, 0.5, 9, "at_risk"),  # just over 10 points behind
        (0.25, 0.5, 9, "at_risk"),  # exactly 25 points behind is at risk
        (0.24, 0.5, 9, "off_track"),
        (1.0, 0.3, 9, "on_track"),  # ahead
        # confidence boundaries (progress on pace so that only confidence counts)
        (0.5, 0.5, 7, "on_track"),
        (0.5, 0.5, 6, "at_risk"),
        (0.5, 0.5, 4, "at_risk"),
        (0.5, 0.5, 3, "off_track"),
        (0.5, 0.5, 0, "off_track"),
        # no confidence recorded yet: progress alone decides
        (0.0, 0.05, None, "on_track"),
        (0.0, 0.2, None, "at_risk"),
        (0.0, 0.6, None, "off_track"),
        # the worse of the two wins
        (0.2, 0.5, 9, "off_track"),
        (0.45, 0.5, 2, "off_track"),
        (0.3, 0.5, 8, "at_risk"),
    ],
)
def test_status_rule_boundaries(
    progress: float, expected: float, confidence: int | None, name: str
) -> None:
    assert status(progress, expected, confidence).name == name


def test_status_explains_itself() -> None:
    result = status(0.2, 0.5, 8)
    assert result.label == "Off track"
    assert "20%" in result.explanation and "50%" in result.explanation
    assert "more than 25% behind" in result.explanation
    low = status(0.5, 0.5, 2)
    assert "confidence 3 or lower" in low.explanation
    assert "no confidence recorded yet" in status(0.0, 0.0, None).explanation


def test_override_replaces_the_status_and_keeps_the_reason() -> None:
    computed = status(0.1, 0.6, 8)
    shown = apply_override(computed, "on_track", "Contract signed; numbers land next week")
    assert shown.name == "on_track" and shown.overridden
    assert "Contract signed" in shown.explanation and "computed: Off track" in shown.explanation
    assert apply_override(computed, None, None) == computed
    with pytest.raises(OutcomeError):
        apply_override(computed, "great", "why not")


def test_losing_confidence_needs_a_drop_of_two_points() -> None:
    assert losing_confidence([8, 6])
    assert not losing_confidence([8, 7])
    assert not losing_confidence([5, 9])
    assert not losing_confidence([4])


def test_due_update_after_seven_days_without_a_check_in() -> None:
    today = date(2026, 3, 10)
    assert due_update(None, today)
    assert due_update(date(2026, 3, 3), today)
    assert not due_update(date(2026, 3, 4), today)


@pytest.mark.parametrize(
    ("delivery", "wellbeing", "name"),
    [
        (0.0, 60.0, "thriving"),
        (-0.1, 50.0, "thriving"),  # both boundaries count as delivering and well
        (0.05, 40.0, "delivering at a cost"),
        (-0.3, 70.0, "coasting"),
        (-0.3, 30.0, "struggling"),
    ],
)
def test_quadrant(delivery: float, wellbeing: float, name: str) -> None:
    assert quadrant(delivery, wellbeing) == name


def _row(week: str, mean: float | None, basis: str = "team", suppressed: bool = False) -> dict:
    return {"week": week, "mean": mean, "basis": basis, "suppressed": suppressed}


def test_quadrant_point_uses_the_latest_figure_released_for_the_team_itself() -> None:
    rows = [
        _row("2026-W01", 40.0),
        _row("2026-W02", 62.0, "pooled over 4 weeks"),
        _row("2026-W03", None, suppressed=True),
    ]
    point = quadrant_point("Repairs", 0.0, rows)
    assert (
        point.wellbeing == 62.0 and point.quadrant == "thriving" and point.note == "pooled over 4 weeks"
    )


def test_quadrant_point_does_not_plot_a_suppressed_or_rolled_up_team() -> None:
    suppressed = quadrant_point("Tiny", 0.0, [_row("2026-W01", None, suppressed=True)])
    assert suppressed.wellbeing is None and suppressed.quadrant is None
    assert "suppressed" in suppressed.note
    rolled = quadrant_point("Tiny", 0.0, [_row("2026-W01", 55.0, "rolled up into Housing")])
    assert rolled.wellbeing is None and rolled.quadrant is None
    assert "rolled up into Housing" in rolled.note
    no_delivery = quadrant_point("New", None, [_row("2026-W01", 55.0)])
    assert no_delivery.quadrant is None and "no live objectives" in no_delivery.note


def test_action_effect_compares_released_wellbeing_and_delivery_before_and_after() -> None:
    released = [
        _row("2026-W08", 50.0),
        _row("2026-W09", 52.0),
        _row("2026-W10", 48.0, "rolled up into Housing"),  # the parent's figure: left out
        _row("2026-W11", None, suppressed=True),
        _row("2026-W12", 62.0),
        _row("2026-W13", 64.0, "pooled over 4 weeks"),
    ]
    history = [
        {"week_ending": date(2026, 3, 15), "kind": "objective", "progress": 0.2, "expected": 0.4},
        {"week_ending": date(2026, 3, 15), "kind": "key result", "progress": 0.9, "expected": 0.4},
        {"week_ending": date(2026, 3, 29), "kind": "objective", "progress": 0.6, "expected": 0.6},
    ]
    effect = action_effect("2026-W12", released, history)  # W12 starts Monday 16 March 2026
    assert effect.wellbeing_before == pytest.approx(51.0) and effect.wellbeing_after == pytest.approx(
        63.0
    )
    assert effect.wellbeing_change == pytest.approx(12.0)
    assert effect.delivery_before == pytest.approx(-0.2) and effect.delivery_after == pytest.approx(0.0)
    assert "a meaningful change" in effect.describe() and "+20 points" in effect.describe()


def test_action_effect_without_figures_after_says_so() -> None:
    effect = action_effect("2026-W20", [_row("2026-W19", 55.0)], [])
    assert effect.wellbeing_change is None and effect.delivery_change is None
    assert "not enough released figures" in effect.describe()
