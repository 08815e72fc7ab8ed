"""Simulated councils with a known action effect: how often the interval holds the truth.

Used by the tests and by ``docs/INSIGHT.md``'s coverage table, so both report the same thing.
Each council has teams of 5 to 25 people; monthly team means are drawn as the gate would release
them (a team level, a slow team-specific drift, a month effect shared by every team, sampling
noise that shrinks with the people answering, whole numbers, people banded below 10, months with
fewer than 5 people suppressed). One team takes an action with a known true effect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics.action_effects import Effect, MonthCell, did_effect
from analytics.privacy.rules import band

MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07"]
ACTION_MONTH = "2026-04"


@dataclass(frozen=True)
class Scenario:
    true_effect: float = 0.0
    comparison_teams: int = 30
    seasonal_dip: float = 0.0  # points lost by every team in the months after the action
    after_a_dip: bool = False  # the acting team is the one with the worst month just before
    person_sd: float = 14.0  # noise of one person's monthly answer around their team's level
    drift_sd: float = 1.5  # team-specific month-to-month drift


def simulate(scenario: Scenario, rng: np.random.Generator) -> Effect:
    """One council, one action: the effect the comparison reports."""
    teams = scenario.comparison_teams + 1
    sizes = rng.integers(5, 26, size=teams)
    level = rng.normal(62, 8, size=teams)
    drift = np.cumsum(rng.normal(0, scenario.drift_sd, size=(teams, len(MONTHS))), axis=1)
    season = np.zeros(len(MONTHS))
    after = [i for i, m in enumerate(MONTHS) if m > ACTION_MONTH]
    season[after] -= scenario.seasonal_dip
    answering = rng.binomial(sizes[:, None], 0.75, size=(teams, len(MONTHS)))
    noise = (
        rng.normal(0, 1, size=(teams, len(MONTHS)))
        * scenario.person_sd
        / np.sqrt(np.maximum(answering, 1))
    )
    means = level[:, None] + drift + season[None, :] + noise
    last_pre = MONTHS.index(ACTION_MONTH) - 1
    treated = int(np.argmin(means[:, last_pre])) if scenario.after_a_dip else 0
    means[treated, after] += scenario.true_effect
    cells: dict[int, list[MonthCell]] = {}
    for team in range(teams):
        cells[team] = [
            MonthCell(team, month, float(round(means[team, i])), band(int(answering[team, i])))
            for i, month in enumerate(MONTHS)
            if answering[team, i] >= 5
        ]
    comparison = {t: c for t, c in cells.items() if t != treated}
    return did_effect(cells[treated], comparison, month=ACTION_MONTH, released_months=MONTHS)


@dataclass(frozen=True)
class Coverage:
    runs: int
    measured: int
    covered: float  # share of measured runs whose interval holds the true effect
    improved: float
    worse: float
    mean_estimate: float


def coverage(scenario: Scenario, runs: int, seed: int = 0) -> Coverage:
    rng = np.random.default_rng(seed)
    effects = [simulate(scenario, rng) for _ in range(runs)]
    measured = [e for e in effects if e.estimate is not None]
    held = [e.low <= scenario.true_effect <= e.high for e in measured]  # type: ignore[operator]
    return Coverage(
        runs=runs,
        measured=len(measured),
        covered=float(np.mean(held)),
        improved=float(np.mean([e.verdict == "improved" for e in measured])),
        worse=float(np.mean([e.verdict == "worse" for e in measured])),
        mean_estimate=float(np.mean([e.estimate for e in measured])),
    )


SCENARIOS: dict[str, Scenario] = {
    "no effect, 30 comparison teams": Scenario(),
    "+10 points, 30 comparison teams": Scenario(true_effect=10.0),
    "no effect, seasonal dip of 8 for every team": Scenario(seasonal_dip=8.0),
    "+10 points and the dip, 19 comparison teams": Scenario(
        true_effect=10.0, seasonal_dip=8.0, comparison_teams=19
    ),
    "no effect, 8 comparison teams": Scenario(comparison_teams=8),
    "no effect, team acted after its worst month": Scenario(after_a_dip=True),
    "+5 points, 30 comparison teams": Scenario(true_effect=5.0),
}


def main(runs: int = 1000, seed: int = 0) -> None:
    """Print the coverage table in docs/INSIGHT.md (``python -m analytics.effect_simulation``)."""
    print("| scenario | measured | interval holds the truth | 'improved' | 'worse' | mean estimate |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, scenario in SCENARIOS.items():
        found = coverage(scenario, runs, seed=seed)
        print(
            f"| {name} | {found.measured} of {found.runs} | {found.covered:.1%} | "
            f"{found.improved:.1%} | {found.worse:.1%} | {found.mean_estimate:+.1f} |"
        )


if __name__ == "__main__":
    import sys

    main(*(int(arg) for arg in sys.argv[1:3]))
