"""Sustained-drop alerts on each team's weekly wellbeing: a one-sided (downward) EWMA chart whose
limit is calibrated by simulation to a stated false-alarm rate.

Why this shape:

- Team means of a handful of people are noisy; a single bad week is not news. An EWMA with
  lambda = 0.2 accumulates evidence over several weeks, so it reacts to a sustained drop and not to
  one noisy week (NIST Handbook 6.3.2.4; Lucas and Saccucci 1990).
- WHO-5 (and SWEMWBS) ask about the last two weeks, so consecutive weekly answers overlap in what
  they recall and weekly team means are autocorrelated; a team's own drift (workload that builds
  up over weeks) adds longer memory. Textbook EWMA limits assume independence and would raise too
  many false alarms. **Assumption**: deviations of a team's weekly mean from its level follow an
  AR(1) process (correlation decaying geometrically with the lag) with lag-1 correlation the larger
  of ``lag1_correlation`` (default 0.5: a weekly answer that averages two weeks of independent
  experience has a lag-1 correlation of at most 0.5) and the value estimated from the teams' own
  baseline weeks (``estimate_from_data``; the bias of short series is removed by simulation).
  MA(1) (recall overlap only) and independence can be chosen to show what they would do.
- The baseline level of a team is estimated from its first ``baseline_weeks`` weeks; the
  simulation estimates it the same way, so the uncertainty of the baseline is in the calibration.
- The week-to-week spread is pooled across teams (one scale per respondent, divided by the square
  root of the week's respondents), because eight weeks of one small team cannot estimate it.
- By default a team is compared with all teams in the same week (``relative_to_all``): a dip the
  whole organisation shares (seasonality, a holiday week) is not a team's sustained drop.

The limit ``h`` is chosen so that a team with no change raises at least one alarm within the
monitored weeks with probability ``false_alarm_rate`` (default 10%: about 0.15 false alarms per
team-year on the demo council, against an aim of at most 0.5; 5% caught a quarter of the mild,
slow declines the alert is for, 10% about half; docs/STRAIN.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

MAX_AR1 = 0.9

ALERT_COLUMNS = [
    "team",
    "alarm",
    "in_alarm_now",
    "first_alarm_week",
    "baseline",
    "latest_level",
    "drop",
    "weeks_monitored",
    "limit",
    "lag1",
]


@dataclass(frozen=True)
class AlertRules:
    """The detector's settings, with the false-alarm rate it is calibrated to."""

    lam: float = 0.2
    false_alarm_rate: float = 0.10
    baseline_weeks: int = 8
    lag1_correlation: float = 0.5
    process: str = "ar1"
    estimate_from_data: bool = True
    relative_to_all: bool = True
    min_drop: float = 0.0
    simulations: int = 20_000
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.lam <= 1:
            raise ValueError("lam must be in (0, 1]")
        if not 0 < self.false_alarm_rate < 1:
            raise ValueError("false_alarm_rate must be in (0, 1)")
        if self.baseline_weeks < 2:
            raise ValueError("baseline_weeks must be at least 2")
        if self.process not in {"ma1", "ar1", "independent"}:
            raise ValueError("process must be 'ma1', 'ar1' or 'independent'")
        if self.process == "ma1" and not 0 <= self.lag1_correlation <= 0.5:
            raise ValueError("an MA(1) process has a lag-1 correlation between 0 and 0.5")
        if self.process == "ar1" and not 0 <= self.lag1_correlation <= MAX_AR1:
            raise ValueError(f"an AR(1) process needs a lag-1 correlation in [0, {MAX_AR1}]")


def simulate_null(
    *, process: str, lag1_correlation: float, weeks: int, simulations: int, rng: np.random.Generator
) -> np.ndarray:
    """Standardised weekly deviations (variance 1) of teams with no change, (simulations, weeks)."""
    shocks = rng.standard_normal((simulations, weeks + 1))
    if process == "independent" or lag1_correlation == 0:
        return shocks[:, 1:]
    if process == "ma1":
        # rho = theta / (1 + theta^2), the root with |theta| <= 1.
        rho = lag1_correlation
        theta = 1.0 if rho >= 0.5 else (1 - math.sqrt(1 - 4 * rho * rho)) / (2 * rho)
        return (shocks[:, 1:] + theta * shocks[:, :-1]) / math.sqrt(1 + theta * theta)
    phi = lag1_correlation
    series = np.empty((simulations, weeks))
    series[:, 0] = shocks[:, 0]
    innovation = math.sqrt(1 - phi * phi)
    for week in range(1, weeks):
        series[:, week] = phi * series[:, week - 1] + innovation * shocks[:, week]
    return series


def _ewma_min(deviations: np.ndarray, lam: float) -> np.ndarray:
    """The lowest EWMA value of each row (EWMA starts at 0, the baseline)."""
    level = np.zeros(deviations.shape[0])
    lowest = np.full(deviations.shape[0], np.inf)
    for week in range(deviations.shape[1]):
        level = lam * deviations[:, week] + (1 - lam) * level
        lowest = np.minimum(lowest, level)
    return lowest


@lru_cache(maxsize=64)
def calibrated_limit(
    *,
    lam: float,
    weeks_monitored: int,
    baseline_weeks: int,
    false_alarm_rate: float,
    process: str,
    lag1_correlation: float,
    simulations: int,
    seed: int,
) -> float:
    """The limit h (in standard units) such that a team with no change has its EWMA fall below -h
    at least once in ``weeks_monitored`` weeks with probability ``false_alarm_rate``, when its
    baseline is estimated from ``baseline_weeks`` earlier weeks of the same autocorrelated series."""
    rng = np.random.default_rng(seed)
    series = simulate_null(
        process=process,
        lag1_correlation=lag1_correlation,
        weeks=baseline_weeks + weeks_monitored,
        simulations=simulations,
        rng=rng,
    )
    baseline = series[:, :baseline_weeks].mean(axis=1, keepdims=True)
    deviations = series[:, baseline_weeks:] - baseline
    lowest = _ewma_min(deviations, lam)
    return float(-np.quantile(lowest, false_alarm_rate))


def _ma_correction(process: str, rho: float, weeks: int) -> float:
    """E[sum of squared deviations about the sample mean] / (sigma^2 (weeks - 1)) for the assumed
    process: needed to turn the pooled baseline spread into the per-week sigma."""
    rho = 0.0 if process == "independent" else rho
    if process == "ar1":
        variance_of_mean = (1 + 2 * sum((1 - lag / weeks) * rho**lag for lag in range(1, weeks))) / weeks
    else:
        variance_of_mean = (1 + 2 * rho * (weeks - 1) / weeks) / weeks
    return (weeks - weeks * variance_of_mean) / (weeks - 1)


def _pooled_r1(series: np.ndarray) -> float:
    """Pooled lag-1 autocorrelation of rows demeaned by their own mean (ratio of sums)."""
    centred = series - series.mean(axis=1, keepdims=True)
    denominator = float((centred**2).sum())
    return float((centred[:, 1:] * centred[:, :-1]).sum()) / denominator if denominator > 0 else 0.0


@lru_cache(maxsize=16)
def _r1_curve(weeks: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """What the pooled demeaned lag-1 statistic averages to for AR(1) series of ``weeks`` weeks,
    by simulation over a grid of phi: short demeaned series bias it down a lot, so we invert this."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(0.0, MAX_AR1, 19)
    expected = np.array(
        [
            _pooled_r1(
                simulate_null(
                    process="ar1", lag1_correlation=float(phi), weeks=weeks, simulations=4000, rng=rng
                )
            )
            for phi in grid
        ]
    )
    return grid, expected


def estimate_lag1(data: pd.DataFrame, baseline_weeks: int) -> float:
    """The AR(1) coefficient of the teams' weekly deviations, from their baseline weeks only (a
    later drop must not pass for autocorrelation): the pooled lag-1 statistic of each team's
    baseline deviations from its own baseline mean, scaled by the square root of the week's
    answers, turned into phi through the simulated bias curve. 0 with fewer than three teams."""
    base = data[data["in_baseline"]]
    sizes = base.groupby("team")["order"].transform("size")
    base = base[sizes == baseline_weeks].sort_values(["team", "order"])
    teams = base["team"].nunique()
    if teams < 3:
        return 0.0
    values = (base["value"] * np.sqrt(base["n"])).to_numpy().reshape(teams, baseline_weeks)
    observed = _pooled_r1(values)
    grid, expected = _r1_curve(baseline_weeks)
    return float(np.interp(observed, expected, grid, left=0.0, right=MAX_AR1))


def sustained_drop_alerts(weekly: pd.DataFrame, rules: AlertRules | None = None) -> pd.DataFrame:
    """Alerts for each team from its weekly means.

    ``weekly`` has one row per team and week: ``team``, ``week`` (labels that sort in time order),
    ``mean`` and optionally ``n`` (respondents; 1 if absent). Teams with fewer than
    ``baseline_weeks + 1`` weeks are not monitored (``weeks_monitored`` 0, no alarm).
    Returns one row per team with ``ALERT_COLUMNS``; ``latest_level`` and ``drop`` are on the
    scale of the input (e.g. WHO-5 points), ``limit`` in standard units.
    """
    rules = rules or AlertRules()
    if weekly.empty:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    data = weekly[["team", "week", "mean"]].copy()
    data["n"] = weekly["n"].astype(float) if "n" in weekly.columns else 1.0
    data = data[data["n"] > 0].dropna(subset=["mean"]).sort_values(["team", "week"])
    if rules.relative_to_all:
        weighted = data["mean"] * data["n"]
        week_mean = weighted.groupby(data["week"]).sum() / data.groupby("week")["n"].sum()
        data["value"] = data["mean"] - data["week"].map(week_mean)
    else:
        data["value"] = data["mean"]
    data["order"] = data.groupby("team").cumcount()
    data["in_baseline"] = data["order"] < rules.baseline_weeks
    base = data[data["in_baseline"]]
    base_level = (base["value"] * base["n"]).groupby(base["team"]).sum() / base.groupby("team")[
        "n"
    ].sum()
    data["deviation"] = data["value"] - data["team"].map(base_level)

    # Pooled per-respondent scale from baseline weeks of teams with a full baseline.
    counts = base.groupby("team").size()
    full = counts[counts == rules.baseline_weeks].index
    base_full = data[data["in_baseline"] & data["team"].isin(full)]
    squares = float((base_full["deviation"] ** 2 * base_full["n"]).sum())
    rho = rules.lag1_correlation
    if rules.process == "ar1" and rules.estimate_from_data:
        rho = max(rho, estimate_lag1(data, rules.baseline_weeks))
    rho = round(rho, 2)
    dof = (
        len(full) * (rules.baseline_weeks - 1) * _ma_correction(rules.process, rho, rules.baseline_weeks)
    )
    scale = math.sqrt(squares / dof) if dof > 0 and squares > 0 else math.nan

    teams = pd.Index(data["team"].unique())
    team_base_raw = (base["mean"] * base["n"]).groupby(base["team"]).sum() / base.groupby("team")[
        "n"
    ].sum()
    out = pd.DataFrame(
        {
            "team": teams,
            "alarm": False,
            "in_alarm_now": False,
            "first_alarm_week": None,
            "baseline": team_base_raw.reindex(teams).to_numpy(),
            "latest_level": math.nan,
            "drop": math.nan,
            "weeks_monitored": 0,
            "limit": math.nan,
            "lag1": rho,
        }
    )
    monitored = data[~data["in_baseline"] & data["team"].isin(full)].copy()
    if monitored.empty or not math.isfinite(scale):
        return out[ALERT_COLUMNS]
    # Teams x monitored weeks (their own observed weeks in order; shorter series padded with NaN).
    monitored["column"] = monitored["order"] - rules.baseline_weeks
    monitored["standard"] = monitored["deviation"] * np.sqrt(monitored["n"]) / scale
    standard = monitored.pivot(index="team", columns="column", values="standard")
    raw = monitored.pivot(index="team", columns="column", values="deviation").reindex_like(standard)
    labels = monitored.pivot(index="team", columns="column", values="week").reindex_like(standard)
    lengths = standard.notna().sum(axis=1).to_numpy()
    limits = np.array(
        [
            calibrated_limit(
                lam=rules.lam,
                weeks_monitored=int(length),
                baseline_weeks=rules.baseline_weeks,
                false_alarm_rate=rules.false_alarm_rate,
                process=rules.process,
                lag1_correlation=rho,
                simulations=rules.simulations,
                seed=rules.seed,
            )
            for length in lengths
        ]
    )
    values, deviations = standard.to_numpy(), raw.to_numpy()
    level_std = np.zeros(len(standard))
    level_raw = np.zeros(len(standard))
    first_alarm = np.full(len(standard), -1)
    below_now = np.zeros(len(standard), dtype=bool)
    for column in range(values.shape[1]):
        present = ~np.isnan(values[:, column])
        level_std = np.where(
            present, rules.lam * values[:, column] + (1 - rules.lam) * level_std, level_std
        )
        level_raw = np.where(
            present, rules.lam * deviations[:, column] + (1 - rules.lam) * level_raw, level_raw
        )
        below = present & (level_std < -limits) & (-level_raw >= rules.min_drop)
        below_now = np.where(present, below, below_now)
        first_alarm = np.where((first_alarm < 0) & below, column, first_alarm)
    week_labels = labels.to_numpy()
    result = pd.DataFrame(
        {
            "alarm": first_alarm >= 0,
            "in_alarm_now": below_now,
            "first_alarm_week": [
                week_labels[row, column] if column >= 0 else None
                for row, column in enumerate(first_alarm)
            ],
            "latest_level": team_base_raw.reindex(standard.index).to_numpy() + level_raw,
            "drop": -level_raw,
            "weeks_monitored": lengths,
            "limit": limits,
        },
        index=standard.index,
    )
    out = out.set_index("team")
    out.update(result)
    out = out.reset_index()
    out["alarm"] = out["alarm"].astype(bool)
    out["in_alarm_now"] = out["in_alarm_now"].astype(bool)
    out["weeks_monitored"] = out["weeks_monitored"].astype(int)
    return out[ALERT_COLUMNS]
