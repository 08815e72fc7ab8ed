"""Response rates read from released figures: weeks withheld to protect a neighbour make a rate
uncertain (complementary suppression hides a team's smaller weeks), and funnel z-scores are not
blown up when other teams' noise is overstated."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlmodel import Session

from analytics.strain_features import (
    FUNNEL_FEATURES,
    StrainInputs,
    _rate_change,
    detect_from_measures,
)
from analytics.strain_mixture import feature_z
from analytics.strain_released import released_answers
from tests.test_strain_assessment import RULES, WEEKS, WINDOW, teams  # noqa: F401  (fixture)


def _inputs(answered: pd.DataFrame) -> StrainInputs:
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
