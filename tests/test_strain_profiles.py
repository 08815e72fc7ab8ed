"""Strain profiles that move two domains at once, and one share for all strain components: a
council has about one strained team per profile, and each must be found on its own evidence."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.strain import detect_strain
from analytics.strain_mixture import strain_mixture

DOMAINS = (("wellbeing",), ("demands",), ("support",), ("response",))
PROFILES = (("wellbeing", "demands"), ("wellbeing", "support"), ("wellbeing", "response"))
COLUMNS = ["wellbeing", "demands", "support", "response"]


def test_a_lone_team_per_component_is_not_dropped_when_shares_are_tied() -> None:
    """Four teams clearly strained, each on a different statistic, and a fifth at 2.6 SD on its
    own: fitted a share each, EM drops the fifth's component (a lone team needs t above
    sqrt(2 ln 60) = 2.9), tied it is as likely strained as its four peers suggest."""
    rng = np.random.default_rng(4)
    t = rng.normal(size=(60, 5))
    for k in range(4):
        t[k] = 0.0
        t[k, k] = 3.4
    t[4] = 0.0
    t[4, 4] = 2.6
    own, _, own_share = strain_mixture(t, min_shift=2.0)
    tied, _, tied_share = strain_mixture(t, min_shift=2.0, tied=True)
    assert own[4] < 0.5 <= tied[4]
    assert np.allclose(tied_share[1:], tied_share[1])
    assert tied[:4].min() >= 0.8  # the four clear ones stay clear


def test_tied_shares_leave_pure_noise_alone() -> None:
    rng = np.random.default_rng(11)
    _, _, share = strain_mixture(rng.normal(size=(60, 5)), min_shift=2.0, tied=True)
    assert share[0] > 0.99


def _council(seed: int, joint: float) -> pd.DataFrame:
    """Sixty teams on four declared domains (higher is better); T0 is `joint` SD bad on both
    wellbeing and demands, and three more teams are clearly bad on one domain each."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(rng.normal(size=(60, 4)), columns=COLUMNS, index=[f"T{i}" for i in range(60)])
    table.iloc[0] = [-joint, -joint, 0.0, 0.0]
    table.iloc[1] = [-3.5, 0.0, 0.0, 0.0]
    table.iloc[2] = [0.0, -3.5, 0.0, 0.0]
    table.iloc[3] = [0.0, 0.0, -3.5, 0.0]
    return table


def _t0_flagged(table: pd.DataFrame, profiles: tuple[tuple[str, ...], ...]) -> bool:
    result = detect_strain(
        table, [], constructs=DOMAINS, profiles=profiles, tie_shares=True, min_declared_shift=2.0
    )
    return next(r for r in result.teams if r.team == "T0").flagged


def test_a_team_bad_on_two_domains_at_once_is_found_as_a_profile() -> None:
    """2.5 SD on wellbeing and on demands is below either domain's own bar, but together it is
    the overloaded pattern: found on most councils with the profile, on few without it."""
    with_profile = sum(_t0_flagged(_council(seed, 2.5), PROFILES) for seed in range(10))
    without = sum(_t0_flagged(_council(seed, 2.5), ()) for seed in range(10))
    assert with_profile >= 7
    assert without <= 3


def test_profiles_and_tied_shares_flag_little_on_noise() -> None:
    flagged = assessed = 0
    for seed in range(30):
        rng = np.random.default_rng(100 + seed)
        table = pd.DataFrame(rng.normal(size=(60, 4)), columns=COLUMNS)
        result = detect_strain(
            table, [], constructs=DOMAINS, profiles=PROFILES, tie_shares=True, min_declared_shift=2.0
        )
        flagged += len(result.flagged)
        assessed += len(result.teams)
    assert flagged <= 0.01 * assessed


def test_a_profile_names_only_declared_constructs() -> None:
    """A profile naming a measure the table lacks is left out rather than failing."""
    table = _council(3, 3.0).drop(columns=["response"])
    result = detect_strain(
        table,
        [],
        constructs=DOMAINS,
        profiles=(*PROFILES, ("wellbeing", "absent")),
        tie_shares=True,
        min_declared_shift=2.0,
    )
    assert next(r for r in result.teams if r.team == "T0").flagged


def test_falling_answers_with_falling_wellbeing_are_named_disengaged() -> None:
    table = _council(5, 0.0)
    table.iloc[0] = [-3.0, 0.0, 0.0, -3.0]
    result = detect_strain(
        table, [], constructs=DOMAINS, profiles=PROFILES, tie_shares=True, min_declared_shift=2.0
    )
    team = next(r for r in result.teams if r.team == "T0")
    assert team.flagged and team.cluster == "disengaged"


def test_a_profile_holds_when_one_of_its_measures_is_left_out() -> None:
    """A domain's level with no spread between teams is left out; the profile names the whole
    domain, so it still reads the domain's change (it was silently dropped when it named the
    level alone)."""
    domains = (("wellbeing_level", "wellbeing"), ("demands",), ("support",), ("response",))
    profiles = (("wellbeing_level", "wellbeing", "demands"),)
    found = 0
    for seed in range(10):
        table = _council(seed, 2.5).assign(wellbeing_level=50.0)
        result = detect_strain(
            table, [], constructs=domains, profiles=profiles, tie_shares=True, min_declared_shift=2.0
        )
        found += next(r for r in result.teams if r.team == "T0").flagged
    assert found >= 7


def test_a_team_is_named_by_the_profile_that_carries_it_not_a_chance_dip() -> None:
    """Wellbeing far down and demands a little worse than usual: the wellbeing component carries
    the team, so it is 'low wellbeing', not 'overloaded' (which any demands dip used to win)."""
    table = _council(2, 0.0)
    table.iloc[1] = [-4.0, -1.3, 0.0, 0.0]
    result = detect_strain(
        table, [], constructs=DOMAINS, profiles=PROFILES, tie_shares=True, min_declared_shift=2.0
    )
    team = next(r for r in result.teams if r.team == "T1")
    assert team.flagged and team.cluster == "low wellbeing"
