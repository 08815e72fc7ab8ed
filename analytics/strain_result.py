"""The strain verdict's vocabulary: the profile names, what a team's verdict and its reasons hold,
and the plain-words text of a reason. ``analytics.strain`` decides; this module says how a decision
is recorded and read (the CLI's JSON, the pages, the evaluation)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

OVERLOADED = "overloaded"
UNSUPPORTED = "unsupported"
DISENGAGED = "disengaged"
DELIVERING_AT_A_COST = "delivering at a cost"
FALLING_BEHIND = "falling behind"
LOW_WELLBEING = "low wellbeing"
UNDER_STRAIN = "under strain"
STEADY = "steady"
NOT_ASSESSED = "not assessed"

#: Profile names a flagged team can carry (the bad side).
STRAIN_PROFILES = frozenset(
    {
        OVERLOADED,
        UNSUPPORTED,
        DISENGAGED,
        DELIVERING_AT_A_COST,
        FALLING_BEHIND,
        LOW_WELLBEING,
        UNDER_STRAIN,
    }
)

#: How a measure's name says which profile it belongs to (lower-case substrings, first match wins).
PROFILE_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (FALLING_BEHIND, ("delivery", "confidence", "progress", "behind")),
    (DISENGAGED, ("response", "engage", "commit", "satisf", "motivat", "intent", "leave", "recommend")),
    (
        UNSUPPORTED,
        (
            "support",
            "lead",
            "manag",
            "cohes",
            "control",
            "autonom",
            "peer",
            "colleague",
            "team",
            "valued",
        ),
    ),
    (
        OVERLOADED,
        (
            "demand",
            "hrs",
            "hour",
            "workload",
            "wload",
            "time",
            "staff",
            "overtime",
            "pressure",
            "exhaust",
        ),
    ),
    (LOW_WELLBEING, ("wellbeing", "wbeing", "who5", "burn", "stress", "anxi", "happ", "mood", "health")),
)


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
    """The strain verdict for one team: ``probability`` is the posterior probability of strain."""

    team: Any
    flagged: bool
    cluster: str
    score: float | None
    reasons: tuple[Reason, ...]
    n: int | None = None
    probability: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "team": plain_value(self.team),
            "flagged": self.flagged,
            "cluster": self.cluster,
            "score": None if self.score is None else _round(self.score, 3),
            "probability": None if self.probability is None else _round(self.probability, 3),
            "reasons": [reason.to_dict() for reason in self.reasons],
        }


@dataclass(frozen=True)
class ClusterSummary:
    """A profile: its name, size, mean score and centre (standard deviations worse, per feature)."""

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
    k: int | None  # mixture components: steady + one per construct + general
    silhouette: float | None  # kept for callers; the mixture does not use it (always None)
    threshold: float | None  # the posterior probability at which a team is flagged
    notes: tuple[str, ...] = field(default_factory=tuple)
    constructs: tuple[tuple[str, ...], ...] = ()
    strain_share: float | None = None  # the fitted share of teams outside the steady component

    @property
    def flagged(self) -> tuple[TeamStrain, ...]:
        return tuple(team for team in self.teams if team.flagged)

    def for_team(self, team: Any) -> TeamStrain | None:
        return next((record for record in self.teams if record.team == team), None)

    def to_records(self) -> list[dict[str, Any]]:
        return [team.to_dict() for team in self.teams]

    def to_frame(self) -> pd.DataFrame:
        """One row per team: team, flagged, cluster, score, probability, n, the reasons as text."""
        columns = ["team", "flagged", "cluster", "score", "probability", "n", "reasons"]
        return pd.DataFrame(
            [
                {
                    "team": record.team,
                    "flagged": record.flagged,
                    "cluster": record.cluster,
                    "score": record.score,
                    "probability": record.probability,
                    "n": record.n,
                    "reasons": "; ".join(reason.text for reason in record.reasons),
                }
                for record in self.teams
            ],
            columns=columns,
        )


def _round(value: float | None, digits: int = 4) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(round(value, digits))


def plain_value(value: Any) -> Any:
    """numpy scalars to plain Python, so records serialise to JSON."""
    return value.item() if isinstance(value, np.generic) else value


def format_value(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def reason_text(label: str, value: float, typical: float, sd_worse: float, higher_is_worse: bool) -> str:
    side = "higher" if value > typical else "lower"
    direction = "higher is worse" if higher_is_worse else "lower is worse"
    return (
        f"{label}: {format_value(value)}, {side} than the typical team ({format_value(typical)}); "
        f"{sd_worse:.1f} SD worse than most teams ({direction})"
    )


def profile_of(feature: str) -> str:
    """The strain profile a measure belongs to, from its name (``PROFILE_KEYWORDS``)."""
    name = feature.lower()
    for profile, words in PROFILE_KEYWORDS:
        if any(word in name for word in words):
            return profile
    return UNDER_STRAIN
