"""Response rates read from released figures: weeks withheld to protect a neighbour make a rate
uncertain (complementary suppression hides a team's smaller weeks), and funnel z-scores are not
blown up when other teams' noise is overstated."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sqlmodel import Session

from analytics.strain_measures import (
    FUNNEL_FEATURES,
    _rate_change,
    detect_from_measures,
    strain_measures,
)
from analytics.strain_mixture import feature_z
from analytics.strain_released import StrainInputs, released_answers
from tests.test_strain_assessment import RULES, WEEKS, WINDOW, teams  # noqa: F401  (fixture)


def _inputs(answered: pd.DataFrame, answered_recent: pd.DataFrame | None = None) -> StrainInputs:
    members = pd.Series({1: 12.0, 2: 12.0})
    empty = pd.DataFrame()
    return StrainInputs(
        weeks=[f"2026-W{w:02d}" for w in range(1, 9)],
        eligible=[1, 2],
        suppressed=[],
        window=empty,
        baseline=empty,
        weekly=empty,
        answered=answered,
        members={False: members, True: members},
        delivery=empty,
        answered_recent=empty if answered_recent is None else answered_recent,
    )


def test_weeks_withheld_for_a_neighbour_widen_the_rate_not_move_it() -> None:
    # Both teams answer 8 of 12 a week over the weeks released; team 2 had 4 of 8 weeks withheld
    # for a neighbour on each side, so its rate over the whole span is less certain.
    rows = []
    for team, withheld in ((1, 0), (2, 4)):
        for late in (False, True):
            counted = 8 - withheld
            rows.append((team, late, 8.0 * counted, 0.0, counted, withheld, 5.0))
    answered = pd.DataFrame(
        rows, columns=["team_id", "late", "n", "n_var", "weeks", "withheld", "withheld_low"]
    )
    change, variance = _rate_change(_inputs(answered))
    assert change[1] == change[2] == 0.0
    assert variance[2] > 1.5 * variance[1]


def test_a_late_fall_in_answers_reads_in_full_over_the_latest_weeks() -> None:
    # Both teams answered 9 of 12 a week before the window. Team 1 fell to 3 of 12 in the latest
    # four weeks only, which the whole window halves; team 2 is the same, but one of its latest
    # weeks was withheld to protect a neighbour, so its latest half is too thin to read.
    columns = ["team_id", "late", "n", "n_var", "weeks", "withheld", "withheld_low"]
    window = pd.DataFrame(
        [(t, False, 72.0, 0.0, 8, 0, 5.0) for t in (1, 2)]
        + [(1, True, 48.0, 0.0, 8, 0, 5.0), (2, True, 45.0, 0.0, 7, 1, 5.0)],
        columns=columns,
    )
    latest = pd.DataFrame(
        [(t, False, 72.0, 0.0, 8, 0, 5.0) for t in (1, 2)]
        + [(1, True, 12.0, 0.0, 4, 0, 5.0), (2, True, 9.0, 0.0, 3, 1, 5.0)],
        columns=columns,
    )
    inputs = _inputs(window, latest)
    whole, _ = _rate_change(inputs)
    late, late_variance = _rate_change(inputs, recent=True)
    assert whole[1] == pytest.approx(-25.0)
    assert late[1] == pytest.approx(-50.0)
    assert np.isnan(late[2]) and whole[2] == pytest.approx(100 * (45 / 84 - 0.75))
    # The latest weeks are half the exposure: a noisier change, read by its own funnel z-score.
    assert late_variance[1] > _rate_change(inputs)[1][1]
    sums = pd.DataFrame(
        {"n": 40.0, "total": 2400.0, "total_sq": 150_000.0},
        index=pd.MultiIndex.from_product([[1, 2], ["wellbeing"]], names=["team_id", "construct"]),
    )
    weekly = pd.DataFrame({"team_id": [1, 2], "week": inputs.weeks[-1]})
    delivery = pd.DataFrame(columns=["team_id", "delivery_gap", "confidence_trend"])
    features, _ = strain_measures(
        replace(inputs, window=sums, baseline=sums, weekly=weekly, delivery=delivery)
    )
    assert features.at[1, "response_rate_recent_change"] == pytest.approx(-50.0)
    assert np.isnan(features.at[2, "response_rate_recent_change"])
    assert "response_rate_recent_change" in FUNNEL_FEATURES


def test_released_answers_count_neighbour_withheld_weeks_apart(
    session: Session,
    teams: dict[str, int],  # noqa: F811
) -> None:
    frame = released_answers(
        session,
        before=WEEKS[:4],
        weeks=WINDOW,
        team_ids=[teams["BUFFER"], teams["T3"]],
        min_group_size=RULES.min_group_size,
    ).set_index(["team_id", "late"])
    buffer = frame.loc[(teams["BUFFER"], True)]
    # BUFFER is hidden beside its too-small siblings: those weeks are neither answers nor exposure.
    assert buffer["withheld"] >= 1
    assert buffer["weeks"] + buffer["withheld"] == len(WINDOW)
    assert frame.loc[(teams["T3"], True), "withheld"] == 0
    assert frame.loc[(teams["T3"], True), "weeks"] == len(WINDOW)


def test_a_funnel_z_below_unit_spread_is_not_scaled_up() -> None:
    narrow = pd.Series(np.linspace(-1.0, 1.0, 21))
    wide = narrow * 4
    assert feature_z(narrow, at_least_one=True).abs().max() == 1.0
    assert feature_z(narrow).abs().max() > 1.0
    assert feature_z(wide, at_least_one=True).equals(feature_z(wide))


def test_a_team_with_exact_counts_is_not_flagged_for_others_overstated_noise() -> None:
    # Forty teams whose rate noise is stated four times too large (counts read from wide bands)
    # and one with exact counts whose change is 2.4 of its own SE: ordinary, not disengaged.
    rng = np.random.default_rng(3)
    n = 41
    index = range(n)
    features = pd.DataFrame(
        {
            "n": 60.0,
            "wellbeing_level": rng.normal(60, 2, n),
            "response_rate_change": np.r_[rng.normal(0, 5, n - 1), -12.0],
        },
        index=index,
    )
    variances = pd.DataFrame(
        {"wellbeing_level": 4.0, "response_rate_change": np.r_[np.full(n - 1, 100.0), 25.0]},
        index=index,
    )
    assert "response_rate_change" in FUNNEL_FEATURES
    result = detect_from_measures(features, variances)
    assert not result.for_team(n - 1).flagged


def test_answer_bands_are_cut_at_the_team_size(
    session: Session,
    teams: dict[str, int],  # noqa: F811
) -> None:
    # Before the window BUFFER shows "5-9" every week; a team of six answered 5 or 6, not 7.
    buffer = teams["BUFFER"]

    def answers(size: float | None) -> float:
        members = None if size is None else {k: pd.Series({buffer: size}) for k in (False, True)}
        frame = released_answers(
            session,
            before=WEEKS[:4],
            weeks=WINDOW,
            team_ids=[buffer],
            min_group_size=RULES.min_group_size,
            members=members,
        ).set_index("late")
        assert frame.at[False, "weeks"] == len(WEEKS[:4])
        return float(frame.at[False, "n"] / frame.at[False, "weeks"])

    assert answers(None) == 7.0
    assert answers(6.0) == 5.5
    assert answers(12.0) == 7.0


def test_a_team_far_off_its_own_noise_on_a_flat_change_is_not_erased() -> None:
    # Forty teams whose support changes spread less than their stated noise (as when released
    # means are read back; nothing real between them, so shrinkage would set every team to the
    # mean) and one 5 SE down, its level still ordinary: that team is found, on its change.
    rng = np.random.default_rng(5)
    n = 41
    index = range(n)
    change = np.r_[rng.normal(0, 0.05, n - 1), -0.5]
    features = pd.DataFrame(
        {
            "n": 60.0,
            "wellbeing_level": rng.normal(60, 2, n),
            "support": np.r_[rng.normal(3.8, 0.15, n - 1), 3.7],
            "support_change": change,
        },
        index=index,
    )
    variances = pd.DataFrame(
        {"wellbeing_level": 4.0, "support": 0.01, "support_change": 0.01}, index=index
    )
    result = detect_from_measures(features, variances)
    record = result.for_team(n - 1)
    assert record.flagged
    assert any(reason.feature == "support_change" for reason in record.reasons)
    assert len(result.flagged) <= 2
