"""The sustained-drop alert: its simulated limit keeps its stated false-alarm rate on autocorrelated
series, it catches sustained drops, and it ignores single bad weeks and organisation-wide dips."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.alerts import AlertRules, calibrated_limit, simulate_null, sustained_drop_alerts

WEEKS = 26


def _weekly(
    *,
    teams: int,
    seed: int,
    drop: float = 0.0,
    dropped: int = 0,
    drop_from: int = 16,
    lag1: float = 0.5,
    process: str = "ar1",
    sd_per_person: float = 18.0,
) -> pd.DataFrame:
    """Weekly WHO-5-like team means: a level per team, autocorrelated noise, optional planted drop."""
    rng = np.random.default_rng(seed)
    noise = simulate_null(
        process=process, lag1_correlation=lag1, weeks=WEEKS, simulations=teams, rng=rng
    )
    level = rng.normal(60, 6, teams)
    size = rng.integers(5, 16, teams)
    rows = []
    for team in range(teams):
        for week in range(WEEKS):
            shift = drop if team < dropped and week >= drop_from else 0.0
            mean = level[team] + noise[team, week] * sd_per_person / np.sqrt(size[team]) - shift
            rows.append(
                {"team": f"T{team:03d}", "week": f"2026-W{week + 1:02d}", "mean": mean, "n": size[team]}
            )
    return pd.DataFrame(rows)


def test_simulated_null_has_the_stated_lag1_correlation() -> None:
    rng = np.random.default_rng(0)
    for process, rho in [("ma1", 0.5), ("ma1", 0.3), ("ar1", 0.6)]:
        series = simulate_null(
            process=process, lag1_correlation=rho, weeks=40, simulations=4000, rng=rng
        )
        observed = np.corrcoef(series[:, 10], series[:, 11])[0, 1]
        assert observed == pytest.approx(rho, abs=0.05)
        assert series[:, 10].std() == pytest.approx(1.0, abs=0.05)


def test_autocorrelation_widens_the_limit() -> None:
    common = {"lam": 0.2, "weeks_monitored": 18, "baseline_weeks": 8, "false_alarm_rate": 0.05}
    common |= {"simulations": 20_000, "seed": 0}
    independent = calibrated_limit(process="independent", lag1_correlation=0.0, **common)
    overlapping = calibrated_limit(process="ma1", lag1_correlation=0.5, **common)
    assert overlapping > independent * 1.15


@pytest.mark.parametrize(
    ("process", "lag1", "rules"),
    [
        ("ar1", 0.5, AlertRules()),
        ("ar1", 0.75, AlertRules()),  # longer memory than the floor: estimated from the data
        ("ar1", 0.5, AlertRules(false_alarm_rate=0.05)),
        ("ma1", 0.5, AlertRules(process="ma1", estimate_from_data=False)),
    ],
)
def test_false_alarm_rate_on_unchanged_autocorrelated_teams_matches_the_stated_rate(
    process: str, lag1: float, rules: AlertRules
) -> None:
    """400 teams x 5 organisations with no change: the share with any alarm is near the stated
    rate: never clearly above it (the alert must not cry wolf more than it says), and not so far
    below it that detection is given away (the limit errs a little on the safe side)."""
    shares = [
        sustained_drop_alerts(_weekly(teams=400, seed=seed, process=process, lag1=lag1), rules)[
            "alarm"
        ].mean()
        for seed in range(5)
    ]
    assert rules.false_alarm_rate / 2 <= np.mean(shares) <= rules.false_alarm_rate + 0.02


def test_the_lag1_correlation_is_estimated_from_the_weekly_series() -> None:
    alerts = sustained_drop_alerts(_weekly(teams=400, seed=21, lag1=0.7))
    assert alerts["lag1"].iloc[0] == pytest.approx(0.7, abs=0.07)
    floor = sustained_drop_alerts(_weekly(teams=400, seed=22, lag1=0.0, process="independent"))
    assert floor["lag1"].iloc[0] == pytest.approx(0.5), "the two-week recall floor applies"


def test_ignoring_autocorrelation_cries_wolf() -> None:
    """Why the recall overlap and drift matter: textbook (independent) limits, or the recall floor
    alone on teams with longer memory, alarm far above their stated rate."""
    independent = AlertRules(process="independent", estimate_from_data=False)
    floor_only = AlertRules(estimate_from_data=False)
    shares = [
        sustained_drop_alerts(_weekly(teams=400, seed=seed), independent)["alarm"].mean()
        for seed in range(3)
    ]
    assert np.mean(shares) > 0.10
    long_memory = [
        sustained_drop_alerts(_weekly(teams=400, seed=seed, lag1=0.8), floor_only)["alarm"].mean()
        for seed in range(3)
    ]
    assert np.mean(long_memory) > 0.08


def test_a_sustained_drop_is_detected_and_dated_after_it_starts() -> None:
    weekly = _weekly(teams=200, seed=11, drop=15.0, dropped=40)
    alerts = sustained_drop_alerts(weekly).set_index("team")
    planted = alerts.index[:40]
    unchanged = alerts.index[40:]
    assert alerts.loc[planted, "alarm"].mean() >= 0.7
    assert alerts.loc[unchanged, "alarm"].mean() <= 0.08
    dated = alerts.loc[planted][alerts.loc[planted, "alarm"]]
    assert (dated["first_alarm_week"] >= "2026-W17").mean() >= 0.9
    assert (alerts.loc[planted, "drop"] > 4).mean() >= 0.8


def test_one_bad_week_is_not_a_sustained_drop() -> None:
    weekly = _weekly(teams=100, seed=12, lag1=0.0, process="independent", sd_per_person=1.0)
    spike = (weekly["team"] == "T000") & (weekly["week"] == "2026-W20")
    weekly.loc[spike, "mean"] -= 1.2  # about 4 standard errors, one week only
    alerts = sustained_drop_alerts(weekly).set_index("team")
    assert not alerts.at["T000", "alarm"]


def test_an_organisation_wide_dip_is_not_a_team_alarm() -> None:
    weekly = _weekly(teams=100, seed=13)
    weekly.loc[weekly["week"] >= "2026-W18", "mean"] -= 15.0  # winter: everyone dips
    relative = sustained_drop_alerts(weekly)
    absolute = sustained_drop_alerts(weekly, AlertRules(relative_to_all=False))
    assert relative["alarm"].mean() <= 0.1
    assert absolute["alarm"].mean() >= 0.5


def test_short_series_are_not_monitored() -> None:
    weekly = _weekly(teams=20, seed=14)
    weekly = weekly[~((weekly["team"] == "T000") & (weekly["week"] > "2026-W06"))]
    alerts = sustained_drop_alerts(weekly).set_index("team")
    assert alerts.at["T000", "weeks_monitored"] == 0 and not alerts.at["T000", "alarm"]
    assert (alerts.drop(index="T000")["weeks_monitored"] == WEEKS - 8).all()


def test_min_drop_requires_a_meaningful_size() -> None:
    weekly = _weekly(teams=200, seed=15, drop=12.0, dropped=40)
    plain = sustained_drop_alerts(weekly)
    strict = sustained_drop_alerts(weekly, AlertRules(min_drop=50.0))
    assert plain["alarm"].sum() > 0 and strict["alarm"].sum() == 0


def test_bad_rules_are_refused() -> None:
    with pytest.raises(ValueError):
        AlertRules(process="ma1", lag1_correlation=0.7)
    with pytest.raises(ValueError):
        AlertRules(false_alarm_rate=0.0)
