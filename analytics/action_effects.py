"""The effect of a team's action, as a comparison with teams that took no action.

A plain before/after difference reads a seasonal dip for everyone, or the rebound after the bad
spell that prompted the action (regression to the mean), as the action's effect. So:

- **Data**: released monthly team means only (``released_figure``, kind month). A team suppressed in
  a month contributes nothing for that month; the effect never reaches finer than the gate does.
- **Design**: collapsed difference-in-differences (Bertrand, Duflo & Mullainathan 2004). Each team's
  change = mean of its released months after the action month minus mean of those before (the
  action month itself is left out: it is half before, half after). Effect = the team's change
  minus the comparison teams' mean change. Comparison teams are every team of the organisation
  with no action in the window and at least ``MIN_MONTHS_EACH_SIDE`` released months on each side;
  they are *not* matched on their level before (Daw & Hatfield 2018: matching on the pre-level
  builds regression to the mean into the comparison).
- **Interval**: placebo-in-space. Each comparison team in turn is treated as if it had acted; the
  spread of those placebo effects, scaled for team size (a change of a team of 6 is noisier than
  one of 25: variance ``a * h + b`` with ``h`` from the released people counts), gives the
  interval's width. The permutation p-value is the treated team's rank among the placebos, so its
  smallest possible value is 1 / (comparison teams + 1): 0.05 needs 19.
- **Pre-trend**: with three released months before, the team's slope minus the comparison mean,
  ranked among the placebo slopes. A pass proves little (Roth 2022); a fail is worth saying.
- **Power**: the smallest true effect this comparison would detect four times in five.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
from scipy import optimize, stats

from models import calendar
from models.base import iso_week

PRE_MONTHS = 3
POST_MONTHS = 3
MIN_MONTHS_EACH_SIDE = 2
MIN_COMPARISON_TEAMS = 5
PERMUTATION_TEAMS_FOR_005 = 19
INTERVAL = 0.95
POWER = 0.8
# Released counts below 10 are bands; a band stands for its middle when weighting team sizes.
BAND_MIDDLE = {"3-4": 3.5, "5-9": 7.0}

Verdict = Literal["improved", "no clear change", "worse", "not yet measurable"]


@dataclass(frozen=True)
class MonthCell:
    """One team's released figure for one month."""

    team_id: int
    period: str
    mean: float
    n: str  # released people: exact from 10, else a band


@dataclass(frozen=True)
class Effect:
    """The measured effect of one action, in the words and numbers a page shows."""

    verdict: Verdict
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    comparison_teams: int = 0
    p_value: float | None = None
    smallest_p: float | None = None
    detectable: float | None = None  # smallest effect detected with POWER
    pre_months: tuple[str, ...] = ()
    post_months: tuple[str, ...] = ()
    pre_trend: str | None = None
    reason: str = ""

    def describe(self, measure: str = "wellbeing") -> str:
        """One paragraph in plain words (team dashboard, What others can see, HR table)."""
        if self.verdict == "not yet measurable":
            return f"Effect on {measure}: not yet measurable ({self.reason})."
        if self.estimate is None or self.low is None or self.high is None:
            return f"Effect on {measure}: not yet measurable (no estimate)."
        word = {
            "improved": "improved",
            "worse": "got worse",
            "no clear change": "showed no clear change",
        }
        text = [
            f"Compared with {self.comparison_teams} similar teams that took no action, {measure} "
            f"{word[self.verdict]}: {self.estimate:+.0f} points "
            f"(95% interval {self.low:+.0f} to {self.high:+.0f}), "
            f"from {_span(self.pre_months)} before to {_span(self.post_months)} after."
        ]
        if self.comparison_teams < PERMUTATION_TEAMS_FOR_005:
            text.append(
                f"With {self.comparison_teams} comparison teams the smallest p-value possible is "
                f"{self.smallest_p:.2f}, so this comparison cannot reach the usual 0.05."
            )
        elif self.p_value is not None:
            text.append(f"Permutation p = {self.p_value:.2f}.")
        if self.detectable is not None:
            text.append(
                f"Only a change of about {self.detectable:.0f} points or more would usually show; "
                "smaller real effects often read as no clear change."
            )
        if self.pre_trend:
            text.append(self.pre_trend)
        return " ".join(text)

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "estimate": _r(self.estimate),
            "low": _r(self.low),
            "high": _r(self.high),
            "comparison_teams": self.comparison_teams,
            "p_value": _r(self.p_value, 3),
            "smallest_p": _r(self.smallest_p, 3),
            "detectable": _r(self.detectable),
            "pre_months": list(self.pre_months),
            "post_months": list(self.post_months),
            "pre_trend": self.pre_trend,
            "reason": self.reason,
        }


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def _span(months: Sequence[str]) -> str:
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"


def people(label: str) -> float:
    """A released people count as a number for weighting (a band counts as its middle)."""
    return BAND_MIDDLE.get(label, None) or float(label)


def action_month(taken_on: date) -> str:
    """The calendar month an action belongs to (its week's Thursday decides, as for figures)."""
    return calendar.period_of(iso_week(taken_on), "month")


def windows(month: str, released_months: Sequence[str]) -> tuple[list[str], list[str]]:
    """The released months before and after the action month (at most PRE/POST_MONTHS)."""
    before = [m for m in released_months if m < month][-PRE_MONTHS:]
    after = [m for m in released_months if m > month][:POST_MONTHS]
    return before, after


@dataclass(frozen=True)
class _Change:
    change: float
    h: float  # relative sampling variance of the change (sum of 1/people per side, averaged)
    slope: float | None


def _team_change(
    cells: dict[str, MonthCell], before: Sequence[str], after: Sequence[str]
) -> _Change | None:
    pre = [cells[m] for m in before if m in cells]
    post = [cells[m] for m in after if m in cells]
    if len(pre) < MIN_MONTHS_EACH_SIDE or len(post) < MIN_MONTHS_EACH_SIDE:
        return None
    change = np.mean([c.mean for c in post]) - np.mean([c.mean for c in pre])
    h = sum(1 / people(c.n) for c in pre) / len(pre) ** 2
    h += sum(1 / people(c.n) for c in post) / len(post) ** 2
    slope = None
    if len(pre) == len(before) >= 3:
        slope = float(np.polyfit(np.arange(len(pre)), [c.mean for c in pre], 1)[0])
    return _Change(float(change), float(h), slope)


def _variance_model(placebo: np.ndarray, h: np.ndarray) -> tuple[float, float]:
    """Fit Var(placebo_j) = a * (h_j + mean(h)/(N-1)) + b * (1 + 1/(N-1)), a, b >= 0."""
    n = len(placebo)
    design = np.column_stack([h + h.mean() / (n - 1), np.full(n, 1 + 1 / (n - 1))])
    (a, b), _ = optimize.nnls(design, placebo**2)
    return float(a), float(b)


def did_effect(
    treated: Iterable[MonthCell],
    comparison: dict[int, Iterable[MonthCell]],
    *,
    month: str,
    released_months: Sequence[str],
) -> Effect:
    """The effect of an action taken in ``month`` by the team with ``treated`` cells, against the
    teams in ``comparison`` (team id -> released cells; teams that took no action in the window)."""
    before, after = windows(month, released_months)
    if len(before) < MIN_MONTHS_EACH_SIDE or len(after) < MIN_MONTHS_EACH_SIDE:
        return Effect(
            "not yet measurable",
            pre_months=tuple(before),
            post_months=tuple(after),
            reason=f"it needs {MIN_MONTHS_EACH_SIDE} released months before and after the action "
            f"month {month}; there are {len(before)} before and {len(after)} after",
        )
    own = _team_change({c.period: c for c in treated}, before, after)
    if own is None:
        return Effect(
            "not yet measurable",
            pre_months=tuple(before),
            post_months=tuple(after),
            reason=f"the team's own figures are released in fewer than {MIN_MONTHS_EACH_SIDE} "
            "months on one side",
        )
    controls = [
        found
        for cells in comparison.values()
        if (found := _team_change({c.period: c for c in cells}, before, after)) is not None
    ]
    n = len(controls)
    if n < MIN_COMPARISON_TEAMS:
        return Effect(
            "not yet measurable",
            comparison_teams=n,
            pre_months=tuple(before),
            post_months=tuple(after),
            reason=f"{n} comparison teams have released figures on both sides; at least "
            f"{MIN_COMPARISON_TEAMS} are needed",
        )
    changes = np.array([c.change for c in controls])
    h = np.array([c.h for c in controls])
    estimate = own.change - changes.mean()
    placebo = (n * changes - changes.sum()) / (n - 1)  # change_j - mean of the others
    a, b = _variance_model(placebo, h)
    variance = a * (own.h + h.mean() / n) + b * (1 + 1 / n)
    scale = np.sqrt((a * (h + h.mean() / (n - 1)) + b * (1 + 1 / (n - 1))).clip(1e-12))
    df = n - 2 if a > 0 and b > 0 else n - 1
    half = stats.t.ppf(0.5 + INTERVAL / 2, df) * np.sqrt(variance)
    low, high = estimate - half, estimate + half
    standardised = estimate / np.sqrt(max(variance, 1e-12))
    p_value = (1 + int(np.sum(np.abs(placebo / scale) >= abs(standardised)))) / (n + 1)
    detectable = (stats.t.ppf(0.5 + INTERVAL / 2, df) + stats.t.ppf(POWER, df)) * np.sqrt(variance)
    verdict: Verdict = "improved" if low > 0 else "worse" if high < 0 else "no clear change"
    return Effect(
        verdict,
        estimate=float(estimate),
        low=float(low),
        high=float(high),
        comparison_teams=n,
        p_value=float(p_value),
        smallest_p=1 / (n + 1),
        detectable=float(detectable),
        pre_months=tuple(before),
        post_months=tuple(after),
        pre_trend=_pre_trend(own, controls),
    )


def _pre_trend(own: _Change, controls: Sequence[_Change]) -> str | None:
    """A warning when the team was already moving apart before the action, else a caution."""
    slopes = np.array([c.slope for c in controls if c.slope is not None])
    if own.slope is None or len(slopes) < MIN_COMPARISON_TEAMS:
        return "Too few months before the action to check that the team was moving like the others."
    gap = own.slope - slopes.mean()
    placebo = slopes - slopes.mean()
    share = float(np.mean(np.abs(placebo) >= abs(gap)))
    if share < 0.05:
        return (
            f"Caution: before the action the team was already moving {gap:+.1f} points a month "
            "apart from the comparison teams, so part of the difference may not be the action's."
        )
    return "Before the action the team moved like the comparison teams (a check that can pass by luck)."
