"""The statistics of strain detection: measures on one scale, constructs from correlated measures,
and the anchored mixture of a steady majority and strain components (``analytics.strain`` explains
the method and applies it; this module only computes).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

MIN_TEAMS_FOR_CORRELATION = 8
EM_ITERATIONS = 300
MIN_STEADY_SHARE = 0.5  # strain is a minority
MAD_TO_SD = 1.4826
GENERAL = "general"
GENERAL_CLIP = 3.0


def robust_z(values: pd.Series) -> pd.Series | None:
    """``(x - median) / (1.4826 MAD)``, falling back to the SD when over half the teams tie;
    None for a feature with no spread."""
    present = values.dropna()
    centre = float(present.median())
    scale = MAD_TO_SD * float((present - centre).abs().median())
    if not scale > 0:
        scale = float(present.std(ddof=0))
    if not scale > 0:
        return None
    return (values - centre) / scale


def feature_z(values: pd.Series, *, at_least_one: bool = False) -> pd.Series | None:
    """A feature on the between-team scale: distance from the median team in standard deviations.
    The SD, not the MAD: a measure on which most teams tie but one kind of unit differs (violence
    from the public is near zero for offices) must not be blown up into a dominant signal. The
    robust (empirical-null) scale is applied later, to each statistic the mixture reads.

    ``at_least_one``: for funnel z-scores, already in units of each team's own uncertainty. Their
    spread is below 1 when some teams' noise is overstated (counts read from bands, weeks withheld
    for a neighbour); dividing by it would blow up the teams whose counts are exact (through the
    database, seed 7's spread was 0.7 and a team with exact counts became the most disengaged).
    A spread above 1 (over-dispersion) still scales them down."""
    present = values.dropna()
    scale = float(present.std(ddof=0))
    if not scale > 0:
        return None
    if at_least_one:
        scale = max(scale, 1.0)
    return (values - float(present.median())) / scale


def construct_groups(z: pd.DataFrame, group_r: float) -> list[list[str]]:
    """Features whose oriented (pairwise-complete) correlation is at least ``group_r`` form one
    construct: average-linkage clustering of ``1 - r`` cut at ``1 - group_r``."""
    columns = list(z.columns)
    if len(columns) < 2:
        return [columns]
    corr = z.corr(min_periods=MIN_TEAMS_FOR_CORRELATION).fillna(0.0).to_numpy()
    distance = np.clip(1.0 - corr, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    ids = fcluster(tree, t=1.0 - group_r, criterion="distance")
    groups: dict[int, list[str]] = {}
    for column, group in zip(columns, ids, strict=True):
        groups.setdefault(int(group), []).append(column)
    return sorted(groups.values(), key=lambda group: columns.index(group[0]))


def direction_statistics(
    scores: pd.DataFrame,
    weights: Sequence[float] | None = None,
    bad_side_only: Sequence[bool] | None = None,
) -> pd.DataFrame:
    """The statistics the mixture reads: every construct's score (on the between-team scale), and
    the general score (the constructs' mean) on the robust scale of the bulk of teams (an empirical
    null), restandardised because correlated constructs make the mean spread wider or narrower
    than 1. ``bad_side_only``: constructs whose good side does not enter the general score."""
    stats = {f"construct {c}": scores[c] for c in scores.columns}
    if scores.shape[1] > 1:
        # Winsorised at +-3 SD: one extreme construct must not make a unit that is better on
        # everything else "worse overall" (a support unit far off on one measure).
        w = np.ones(scores.shape[1]) if weights is None else np.asarray(weights, dtype=float)
        clipped = scores.clip(-GENERAL_CLIP, GENERAL_CLIP)
        for column, only_bad in zip(scores.columns, bad_side_only or (), strict=False):
            if only_bad:
                clipped[column] = clipped[column].clip(lower=0.0)
        mean = (clipped * w).sum(axis=1) / w.sum()
        general = robust_z(mean)
        stats[GENERAL] = general if general is not None else mean
    return pd.DataFrame(stats, index=scores.index).fillna(0.0)


def strain_mixture(
    t: np.ndarray, *, min_shift: float | Sequence[float], tied: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit the anchored mixture by EM; returns (probability of strain per team, responsibility per
    team and strain component, component shares with the steady share first).

    ``t``: teams x directions, each standard normal for a steady team (``direction_statistics``).
    Steady: every statistic N(0, 1), fixed. Strain component k: statistic k shifted by ``a_k >=
    min_shift`` (one value, or one per component), so its likelihood ratio to steady is
    ``exp(a_k t_k - a_k^2 / 2)``.

    ``tied``: every strain component has the same share (their total fitted from all teams).
    A component's own share needs teams of its own: EM drops a component that holds one team
    unless that team's likelihood ratio exceeds the number of teams (with the shift at the
    team's statistic, ``t > sqrt(2 ln N)``, 2.9 for 60 teams), so with about one team per
    profile, as in a council, each plant must clear a multiple-testing bar on its own while a
    steady team carried by a larger component need not."""
    teams, components = t.shape
    share = np.full(components + 1, (1 - 0.9) / components)
    share[0] = 0.9
    floor = np.broadcast_to(np.asarray(min_shift, dtype=float), (components,))
    shift = np.maximum(floor, 2.5)
    resp = np.zeros((teams, components + 1))
    for _ in range(EM_ITERATIONS):
        log_w = np.empty((teams, components + 1))
        log_w[:, 0] = math.log(share[0])
        log_w[:, 1:] = np.log(np.maximum(share[1:], 1e-12)) + t * shift - shift**2 / 2
        log_w -= log_w.max(axis=1, keepdims=True)
        resp = np.exp(log_w)
        resp /= resp.sum(axis=1, keepdims=True)
        new_share = resp.mean(axis=0)
        if tied:
            new_share[1:] = new_share[1:].mean()
        if new_share[0] < MIN_STEADY_SHARE:
            rest = new_share[1:] / max(new_share[1:].sum(), 1e-12)
            new_share = np.concatenate([[MIN_STEADY_SHARE], (1 - MIN_STEADY_SHARE) * rest])
        weights = resp[:, 1:].sum(axis=0)
        new_shift = np.where(
            weights > 1e-9, (resp[:, 1:] * t).sum(axis=0) / np.maximum(weights, 1e-12), shift
        )
        new_shift = np.maximum(new_shift, floor)
        converged = np.allclose(new_share, share, atol=1e-7) and np.allclose(new_shift, shift, atol=1e-6)
        share, shift = new_share, new_shift
        if converged:
            break
    return 1.0 - resp[:, 0], resp[:, 1:], share


def beyond_cutoffs(
    values: Mapping[str, tuple[pd.Series, pd.Series | None]],
    limits: Mapping[str, float],
    worse_high: Collection[str],
    teams: int,
) -> np.ndarray:
    """Teams clearly beyond a published cut-off on any measure: the cut-off outside the team's
    90% interval (``values``: per measure, the estimate and its variance, or None if exact)."""
    beyond_any = np.zeros(teams, dtype=bool)
    for column, (estimate, variance) in values.items():
        value = estimate.to_numpy(float)
        sd = np.nan_to_num(np.sqrt(variance.to_numpy(float))) if variance is not None else 0 * value
        limit = limits[column]
        beyond = value - 1.645 * sd >= limit if column in worse_high else value + 1.645 * sd <= limit
        beyond_any |= np.nan_to_num(beyond).astype(bool)
    return beyond_any
