"""Teams under strain: explainable clustering of team-level features, with a guard against crying wolf.

Method (one place for the rule):

1. Orient every feature so that higher is worse (``worse_when_higher`` columns as they are, the
   rest negated), then standardise across teams (z-scores). A feature with no variance, or with
   no values, says nothing about any team and is left out (and noted).
2. The composite strain score of a team is the mean of its oriented z-scores over the features it
   has (a missing value, e.g. no outcome data, is neither good nor bad: it is skipped). Delivery
   features count only when they are on the bad side (otherwise skipped): delivering ahead of plan
   does not cancel out signs of strain (those teams are "delivering at a cost").
3. KMeans on the z-scores (missing values at the average, 0), with k chosen by the silhouette
   within a small range and a fixed seed, so the same table always gives the same clusters.
   Clusters are named from their centroids ("under strain", "delivering at a cost", "steady", ...).
4. A team is flagged only if BOTH its cluster's centroid is clearly on the bad side (composite of
   the centroid at least ``cluster_min_score``) AND its own composite score is beyond a threshold
   calibrated on the table itself: the ``1 - false_flag_rate`` quantile of composite scores after
   permuting each column independently (which keeps every feature's distribution and removes any
   link between features). Membership of a cluster alone never flags a team, and a table with no
   structure flags few or none.
5. Each team carries its top reasons: the features on which it is worst, in plain words, with its
   value, the typical (median) value and how many standard deviations worse it is.

Pure functions over pandas data frames; no database, no Streamlit, thresholds are arguments.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances, silhouette_score
from threadpoolctl import threadpool_limits

UNDER_STRAIN = "under strain"
DELIVERING_AT_A_COST = "delivering at a cost"
FALLING_BEHIND = "falling behind on delivery"
STEADY = "steady"
THRIVING = "thriving"
NOT_ASSESSED = "not assessed"
ALL_TEAMS = "all teams"

#: Cluster names whose members may be flagged (the bad side).
STRAIN_CLUSTER_NAMES = frozenset({UNDER_STRAIN, DELIVERING_AT_A_COST})


@dataclass(frozen=True)
class Reason:
    """One feature on which a team is worse than typical, with the numbers behind it."""

    feature: str
    label: str
    value: float
    typical: float
    sd_worse: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "value": _round(self.value),
            "typical": _round(self.typical),
            "sd_worse": _round(self.sd_worse, 2),
            "text": self.text,
        }


@dataclass(frozen=True)
class TeamStrain:
    """The strain verdict for one team."""

    team: Any
    flagged: bool
    cluster: str
    score: float | None
    reasons: tuple[Reason, ...]
    n: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "team": _plain(self.team),
            "flagged": self.flagged,
            "cluster": self.cluster,
            "score": None if self.score is None else _round(self.score, 3),
            "reasons": [reason.to_dict() for reason in self.reasons],
        }


@dataclass(frozen=True)
class ClusterSummary:
    """A cluster: its name, size, composite score and centroid (standard deviations worse)."""

    cluster: str
    size: int
    score: float
    centroid: Mapping[str, float]
    on_bad_side: bool


@dataclass(frozen=True)
class StrainResult:
    """Everything the pages and the CLI show: one record per team plus how it was decided."""

    teams: tuple[TeamStrain, ...]
    clusters: tuple[ClusterSummary, ...]
    features_used: tuple[str, ...]
    labels: Mapping[str, str]
    k: int | None
    silhouette: float | None
    threshold: float | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def flagged(self) -> tuple[TeamStrain, ...]:
        return tuple(team for team in self.teams if team.flagged)

    def for_team(self, team: Any) -> TeamStrain | None:
        return next((record for record in self.teams if record.team == team), None)

    def to_records(self) -> list[dict[str, Any]]:
        return [team.to_dict() for team in self.teams]

    def to_frame(self) -> pd.DataFrame:
        """One row per team: team, flagged, cluster, score, and the reasons joined as text."""
        return pd.DataFrame(
            [
                {
                    "team": record.team,
                    "flagged": record.flagged,
                    "cluster": record.cluster,
                    "score": record.score,
                    "n": record.n,
                    "reasons": "; ".join(reason.text for reason in record.reasons),
                }
                for record in self.teams
            ],
            columns=["team", "flagged", "cluster", "score", "n", "reasons"],
        )


def _round(value: float, digits: int = 4) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(round(value, digits))


def _plain(value: Any) -> Any:
    """numpy scalars to plain Python, so records serialise to JSON."""
    return value.item() if isinstance(value, np.generic) else value


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _reason_text(
    label: str, value: float, typical: float, sd_worse: float, higher_is_worse: bool
) -> str:
    side = "higher" if value > typical else "lower"
    direction = "higher is worse" if higher_is_worse else "lower is worse"
    return (
        f"{label}: {_fmt(value)}, {side} than the typical team ({_fmt(typical)}); "
        f"{sd_worse:.1f} SD worse than average ({direction})"
    )


def composite_scores(oriented_z: np.ndarray, delivery_mask: np.ndarray) -> np.ndarray:
    """Mean oriented z per row, skipping missing values; delivery columns count only when bad
    (a row whose only values are good delivery scores 0)."""
    values = np.where(delivery_mask[None, :] & (oriented_z < 0), np.nan, oriented_z)
    with _quiet():
        scores = np.nanmean(values, axis=1)
    has_values = ~np.all(np.isnan(oriented_z), axis=1)
    return np.where(np.isnan(scores) & has_values, 0.0, scores)


def _centroid_score(centroid: pd.Series, delivery: set[str]) -> float:
    mask = np.array([column in delivery for column in centroid.index])
    return float(composite_scores(centroid.to_numpy(dtype=float)[None, :], mask)[0])


def permutation_threshold(
    oriented_z: np.ndarray,
    *,
    false_flag_rate: float,
    seed: int,
    delivery_mask: np.ndarray | None = None,
    rounds: int = 200,
) -> float:
    """The composite score that a team would exceed with probability ``false_flag_rate`` if the
    features were unrelated: shuffle each column independently, recompute composites, take the
    quantile. This calibrates the flag to the number of features and their shapes."""
    rng = np.random.default_rng(seed)
    n_teams, n_features = oriented_z.shape
    if delivery_mask is None:
        delivery_mask = np.zeros(n_features, dtype=bool)
    composites = np.empty((rounds, n_teams))
    for round_index in range(rounds):
        shuffled = np.empty_like(oriented_z)
        for column in range(n_features):
            shuffled[:, column] = oriented_z[rng.permutation(n_teams), column]
        composites[round_index] = composite_scores(shuffled, delivery_mask)
    values = composites[np.isfinite(composites)]
    if values.size == 0:
        return math.inf
    return float(np.quantile(values, 1.0 - false_flag_rate))


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence numpy's 'mean of empty slice' warning for teams with no values at all."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        yield


def _choose_k(
    z: np.ndarray, k_range: tuple[int, int], seed: int
) -> tuple[int, np.ndarray, float | None]:
    """KMeans for each k in the range that the data allow; keep the best silhouette."""
    n_teams = z.shape[0]
    distinct = len(np.unique(np.round(z, 9), axis=0))
    low, high = k_range
    high = min(high, n_teams - 1, distinct)
    best: tuple[int, np.ndarray, float | None] | None = None
    distances = pairwise_distances(z) if low <= high else None
    for k in range(low, high + 1):
        with threadpool_limits(limits=1):  # tiny problems: threads cost more than they save
            model = KMeans(n_clusters=k, n_init=4, max_iter=100, random_state=seed).fit(z)
        labels = model.labels_
        if len(set(labels)) < 2:
            continue
        score = float(silhouette_score(distances, labels, metric="precomputed"))
        if best is None or best[2] is None or score > best[2]:
            best = (k, labels, score)
    if best is None:
        return 1, np.zeros(n_teams, dtype=int), None
    return best


def _name_cluster(
    centroid: pd.Series,
    *,
    delivery: set[str],
    cluster_min_score: float,
) -> tuple[str, bool]:
    """Name a cluster from its centroid (oriented: positive = worse). Returns (name, on bad side)."""
    score = _centroid_score(centroid, delivery)
    delivery_cols = [c for c in centroid.index if c in delivery]
    wellbeing_cols = [c for c in centroid.index if c not in delivery]
    wellbeing_side = float(centroid[wellbeing_cols].mean()) if wellbeing_cols else 0.0
    delivery_side = float(centroid[delivery_cols].mean()) if delivery_cols else math.nan
    on_bad_side = score >= cluster_min_score
    if delivery_cols and wellbeing_side >= cluster_min_score and delivery_side <= 0:
        return DELIVERING_AT_A_COST, True
    if on_bad_side:
        return UNDER_STRAIN, True
    if delivery_cols and delivery_side >= cluster_min_score and wellbeing_side < cluster_min_score:
        return FALLING_BEHIND, False
    if score <= -cluster_min_score:
        return THRIVING, False
    return STEADY, False


def detect_strain(
    features: pd.DataFrame,
    worse_when_higher: Iterable[str],
    seed: int = 0,
    *,
    labels: Mapping[str, str] | None = None,
    delivery_features: Iterable[str] = (),
    k_range: tuple[int, int] = (2, 5),
    false_flag_rate: float = 0.02,
    cluster_min_score: float = 0.5,
    min_teams: int = 4,
    max_reasons: int = 3,
    reason_min_sd: float = 0.5,
) -> StrainResult:
    """Cluster teams and flag those clearly under strain, each with its reasons.

    ``features``: one row per team, indexed by team id; numeric feature columns and optionally a
    column ``n`` (respondents; carried along, not a feature). ``worse_when_higher`` names the
    columns that are bad when high; every other feature is bad when low. ``delivery_features``
    names outcome columns, so a cluster bad on wellbeing but good on delivery is named
    "delivering at a cost". ``labels`` gives plain-word names for the reasons.
    """
    if not 0 < false_flag_rate < 0.5:
        raise ValueError("false_flag_rate must be between 0 and 0.5")
    worse_high = set(worse_when_higher)
    labels = dict(labels or {})
    delivery = set(delivery_features)
    counts = features["n"] if "n" in features.columns else None
    table = features.drop(columns=["n"], errors="ignore")
    unknown = worse_high - set(table.columns)
    if unknown:
        raise ValueError(
            f"--worse-when-higher names columns that are not features: {', '.join(sorted(unknown))}"
        )
    non_numeric = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    if non_numeric:
        raise ValueError(f"feature columns must be numeric: {', '.join(non_numeric)}")
    table = table.astype(float).replace([np.inf, -np.inf], np.nan)

    notes: list[str] = []
    used: list[str] = []
    for column in table.columns:
        values = table[column].dropna()
        if values.empty:
            notes.append(f"{labels.get(column, column)} left out: no team has a value")
        elif values.nunique() < 2:
            notes.append(f"{labels.get(column, column)} left out: the same for every team")
        else:
            used.append(column)

    count_of = {} if counts is None else {t: c for t, c in counts.items() if pd.notna(c)}

    def n_of(team: Any) -> int | None:
        value = count_of.get(team)
        return None if value is None else int(value)

    if not used or len(table) < min_teams:
        if len(table) < min_teams:
            notes.append(f"only {len(table)} teams: at least {min_teams} are needed to compare teams")
        records = tuple(
            TeamStrain(
                team=_plain(team),
                flagged=False,
                cluster=NOT_ASSESSED,
                score=None,
                reasons=(),
                n=n_of(team),
            )
            for team in table.index
        )
        return StrainResult(records, (), tuple(used), labels, None, None, None, tuple(notes))

    oriented = table[used].copy()
    for column in used:
        if column not in worse_high:
            oriented[column] = -oriented[column]
    mean = oriented.mean()
    sd = oriented.std(ddof=0)
    z = (oriented - mean) / sd
    delivery_mask = np.array([column in delivery for column in used])
    composite = pd.Series(composite_scores(z.to_numpy(), delivery_mask), index=z.index)
    assessed = composite.notna()
    if (~assessed).any():
        notes.append(f"{int((~assessed).sum())} team(s) have no feature values and are not assessed")
    z_assessed = z[assessed]
    z_filled = z_assessed.fillna(0.0).to_numpy()

    if len(z_assessed) < min_teams:
        notes.append(f"only {len(z_assessed)} teams with values: at least {min_teams} are needed")
        records = tuple(
            TeamStrain(
                team=_plain(team),
                flagged=False,
                cluster=NOT_ASSESSED,
                score=None,
                reasons=(),
                n=n_of(team),
            )
            for team in table.index
        )
        return StrainResult(records, (), tuple(used), labels, None, None, None, tuple(notes))

    k, cluster_ids, silhouette = _choose_k(z_filled, k_range, seed)
    threshold = permutation_threshold(
        z_assessed.to_numpy(), false_flag_rate=false_flag_rate, seed=seed, delivery_mask=delivery_mask
    )

    centroids = pd.DataFrame(z_filled, index=z_assessed.index, columns=used).groupby(cluster_ids).mean()
    names: dict[int, tuple[str, bool]] = {}
    for cluster_id, centroid in centroids.iterrows():
        if k == 1:
            names[int(cluster_id)] = (ALL_TEAMS, False)
        else:
            names[int(cluster_id)] = _name_cluster(
                centroid, delivery=delivery, cluster_min_score=cluster_min_score
            )
    # Two clusters with the same name: tell them apart by the feature each is worst on.
    by_name: dict[str, list[int]] = {}
    for cluster_id, (name, _) in names.items():
        by_name.setdefault(name, []).append(cluster_id)
    display: dict[int, str] = {}
    for name, ids in by_name.items():
        for cluster_id in ids:
            if len(ids) == 1:
                display[cluster_id] = name
            else:
                worst = str(centroids.loc[cluster_id].idxmax())
                display[cluster_id] = f"{name}, weakest on {labels.get(worst, worst)}"
    clusters = tuple(
        ClusterSummary(
            cluster=display[cid],
            size=int((cluster_ids == cid).sum()),
            score=_centroid_score(centroids.loc[cid], delivery),
            centroid={c: float(centroids.loc[cid, c]) for c in used},
            on_bad_side=names[cid][1],
        )
        for cid in sorted(display, key=lambda c: -_centroid_score(centroids.loc[c], delivery))
    )

    typical = table[used].median().to_numpy()
    values = table[used].to_numpy()
    z_values = np.where(np.isnan(z.to_numpy()), -np.inf, z.to_numpy())
    cluster_of = dict(zip(z_assessed.index, cluster_ids, strict=True))
    counts_of = {team: n_of(team) for team in table.index} if counts is not None else {}
    records_list: list[TeamStrain] = []
    assessed_flags = assessed.to_numpy()
    composite_values = composite.to_numpy()
    for row, team in enumerate(table.index):
        if not assessed_flags[row]:
            records_list.append(
                TeamStrain(_plain(team), False, NOT_ASSESSED, None, (), counts_of.get(team))
            )
            continue
        cid = int(cluster_of[team])
        score = float(composite_values[row])
        flagged = names[cid][1] and score >= threshold
        team_z = z_values[row]
        order = [
            i for i in np.argsort(-team_z, kind="stable")[:max_reasons] if team_z[i] >= reason_min_sd
        ]
        reasons = tuple(
            Reason(
                feature=used[i],
                label=labels.get(used[i], used[i]),
                value=float(values[row, i]),
                typical=float(typical[i]),
                sd_worse=float(team_z[i]),
                text=_reason_text(
                    labels.get(used[i], used[i]),
                    float(values[row, i]),
                    float(typical[i]),
                    float(team_z[i]),
                    used[i] in worse_high,
                ),
            )
            for i in order
        )
        records_list.append(
            TeamStrain(_plain(team), bool(flagged), display[cid], score, reasons, counts_of.get(team))
        )
    return StrainResult(
        teams=tuple(records_list),
        clusters=clusters,
        features_used=tuple(used),
        labels=labels,
        k=k,
        silhouette=silhouette,
        threshold=threshold,
        notes=tuple(notes),
    )
