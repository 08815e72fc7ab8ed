"""Empirical-Bayes shrinkage of team estimates: one place for how much a small team's figure is
trusted.

A team's observed mean ``y_j`` has sampling variance ``s_j^2`` (within-team variance over its
respondents). The teams' true levels vary with between-team variance ``tau^2`` (ICC(1) is
``tau^2 / (tau^2 + sigma^2)``; bh1996's wellbeing has 0.04, so most of a small team's scatter is
noise). The posterior mean is ``(1 - B_j) y_j + B_j mu`` with ``B_j = s_j^2 / (s_j^2 + tau^2)``
and its variance ``(1 - B_j) s_j^2`` (Morris 1983). ``tau^2`` comes from the method of moments.

When only team sizes are known (a table of team means from elsewhere), a percentage has its
binomial variance ``p (1 - p) / n``; for any other measure the sampling variance per respondent is
estimated from the funnel: if small teams scatter more than large ones, the squared
deviations grow with ``1/n``, and the slope of that regression is ``sigma^2``. Without clear
evidence of such a funnel (slope not at least two standard errors above zero) nothing is shrunk:
we would rather leave a figure as it is than invent its noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_TEAMS = 3  # Morris: shrinkage needs at least three groups
#: A column whose name says it is a percentage or proportion (and whose values fit) has the
#: binomial sampling variance: no need to read it off the funnel.
RATE_WORDS = ("rate", "pct", "percent", "%", "share", "proportion")
FUNNEL_MIN_TEAMS = 8  # fewer teams cannot show how scatter changes with size
FUNNEL_MIN_T = 2.0


@dataclass(frozen=True)
class Shrunk:
    """Posterior means and variances of one feature, with the between-team variance used."""

    mean: pd.Series
    variance: pd.Series  # NaN where the sampling variance is unknown
    tau2: float | None  # None: nothing was shrunk


def between_variance(values: pd.Series, sampling_var: pd.Series) -> float:
    """tau^2 by the method of moments: scatter about the precision-weighted mean minus the average
    sampling variance, floored at 0."""
    usable = values.notna() & sampling_var.notna()
    y, s2 = values[usable].to_numpy(float), sampling_var[usable].to_numpy(float)
    if len(y) < MIN_TEAMS:
        return math.nan
    centre = float(np.mean(y))
    return max(0.0, float(np.mean((y - centre) ** 2) - np.mean(s2)))


def shrink(values: pd.Series, sampling_var: pd.Series, prior: pd.Series | float | None = None) -> Shrunk:
    """Shrink ``values`` toward ``prior`` (default: their precision-weighted mean)."""
    usable = values.notna() & sampling_var.notna() & (sampling_var >= 0)
    if usable.sum() < MIN_TEAMS:
        return Shrunk(values, pd.Series(math.nan, index=values.index), None)
    tau2 = between_variance(values, sampling_var)
    if prior is None:
        weights = 1.0 / (sampling_var[usable] + tau2).clip(lower=1e-12)
        prior = float((values[usable] * weights).sum() / weights.sum())
    prior_series = prior if isinstance(prior, pd.Series) else pd.Series(prior, index=values.index)
    if tau2 <= 0:
        weight = pd.Series(1.0, index=values.index)
    else:
        weight = sampling_var / (sampling_var + tau2)
    mean = ((1 - weight) * values + weight * prior_series).where(usable, values)
    variance = ((1 - weight) * sampling_var).where(usable)
    return Shrunk(mean, variance, tau2)


def binomial_variance(name: str, values: pd.Series, n: pd.Series) -> pd.Series | None:
    """``p (1 - p) / n`` on the column's own scale (0-1 or 0-100) for a column named as a rate
    whose values fit one; None otherwise."""
    present = values.dropna()
    if present.empty or not any(word in name.lower() for word in RATE_WORDS):
        return None
    if present.min() < 0 or present.max() > 100:
        return None
    scale = 1.0 if present.max() <= 1 else 100.0
    share = (values / scale).clip(0.01, 0.99)  # a 0% or 100% unit still has sampling noise
    return (scale**2 * share * (1 - share) / n).where((n > 0) & values.notna())


def sampling_variance_from_n(values: pd.Series, n: pd.Series) -> pd.Series | None:
    """Per-team sampling variance ``sigma^2 / n`` with sigma^2 read off the funnel (see the module
    docstring), or None when the data show no clear funnel or ``n`` cannot carry one."""
    usable = values.notna() & n.notna() & (n > 0)
    if usable.sum() < FUNNEL_MIN_TEAMS:
        return None
    y = values[usable].to_numpy(float)
    inverse = 1.0 / n[usable].to_numpy(float)
    if np.std(inverse) <= 0.05 * np.mean(inverse):
        return None  # (nearly) equal sizes: scatter cannot be split into noise and real spread
    with np.errstate(over="ignore", invalid="ignore"):
        squares = (y - np.mean(y)) ** 2
    if not np.isfinite(squares).all():
        return None  # a value near the float limit: its square overflows, no funnel can be read
    design = np.column_stack([np.ones_like(inverse), inverse])
    # A squared deviation's spread grows with its expectation (2 E^2 for a normal mean), so the
    # fit is weighted by 1 / fitted^2, with the fitted values from an unweighted first pass.
    weights = np.ones_like(squares)
    for _ in range(3):
        root = np.sqrt(weights)
        coef, *_ = np.linalg.lstsq(design * root[:, None], squares * root, rcond=None)
        fitted = np.maximum(design @ coef, 1e-3 * float(np.mean(squares)) + 1e-12)
        weights = 1.0 / fitted**2
    residual = (squares - design @ coef) * np.sqrt(weights)
    dof = len(y) - 2
    scale = float(residual @ residual) / dof if dof > 0 else math.nan
    cov = scale * np.linalg.pinv((design * weights[:, None]).T @ design)
    slope, slope_se = float(coef[1]), math.sqrt(max(float(cov[1, 1]), 0.0))
    if not math.isfinite(slope_se) or slope <= 0 or slope < FUNNEL_MIN_T * slope_se:
        return None
    return (slope / n).where(usable)


def funnel_z(values: pd.Series, sampling_var: pd.Series) -> pd.Series | None:
    """Each team's distance from the mean of teams in units of its own total uncertainty,
    ``(y - mean) / sqrt(s^2 + tau^2)``: the over-dispersed funnel plot (Spiegelhalter). For a
    measure whose noise differs a lot between teams (a response rate's binomial noise on three
    people or thirty), this is the evidence that a team is off; shrinking the value and then
    dividing by the spread of shrunk values would discount a small team's noise twice. None with
    too few teams."""
    usable = values.notna() & sampling_var.notna() & (sampling_var >= 0)
    if usable.sum() < MIN_TEAMS:
        return None
    tau2 = between_variance(values, sampling_var)
    total = (sampling_var + tau2).clip(lower=1e-12)
    weights = 1.0 / total[usable]
    centre = float((values[usable] * weights).sum() / weights.sum())
    return ((values - centre) / np.sqrt(total)).where(usable)
