"""Scoring strain detection against known answers, and checking it on real tables: pure functions
(the generator that supplies the answers lives in ``surveys.demo_strain``; ``app.cli.strain_evaluate``
wires the two together).

- Flags: precision (flagged teams that were planted), recall (planted teams that were flagged) and
  the false-flag rate (flagged among teams with nothing planted), over the teams assessed.
- Alerts: false alarms per team-year on teams whose wellbeing was not moved, and, for teams whose
  wellbeing was moved, whether and how many weeks after the onset the alert first fired.
- Real tables: how far the flagged units sit from the rest on a plain average of direction-
  corrected z-scores (the yardstick a reader would use), and how many lie in its worst tenth.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.strain import StrainResult


@dataclass(frozen=True)
class FlagScore:
    """Flags against known answers."""

    assessed: int
    positives: int
    flagged: int
    true_positives: int
    false_positives: int
    negatives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.flagged if self.flagged else math.nan

    @property
    def recall(self) -> float:
        return self.true_positives / self.positives if self.positives else math.nan

    @property
    def false_flag_rate(self) -> float:
        return self.false_positives / self.negatives if self.negatives else math.nan

    def to_dict(self) -> dict[str, float | int]:
        return {
            "assessed": self.assessed,
            "positives": self.positives,
            "flagged": self.flagged,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "precision": _r(self.precision),
            "recall": _r(self.recall),
            "false_flag_rate": _r(self.false_flag_rate),
        }


def _r(value: float) -> float | None:
    return None if not math.isfinite(value) else round(value, 3)


def score_flags(
    result: StrainResult, positives: Iterable[object], excluded: Iterable[object] = ()
) -> FlagScore:
    """Precision, recall and false-flag rate over the assessed teams; ``excluded`` teams (e.g. a
    distractor the flag need not catch) count neither way."""
    skip = set(excluded)
    assessed = {r.team for r in result.teams if r.probability is not None and r.team not in skip}
    flagged = {r.team for r in result.flagged if r.team not in skip}
    truth = set(positives) & assessed
    negatives = assessed - truth
    return FlagScore(
        assessed=len(assessed),
        positives=len(truth),
        flagged=len(flagged),
        true_positives=len(flagged & truth),
        false_positives=len(flagged & negatives),
        negatives=len(negatives),
    )


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default): with four or five planted
    teams per seed one miss moves recall by 0.2, so a pooled figure needs its interval."""
    if trials <= 0:
        return (math.nan, math.nan)
    share = successes / trials
    centre = (share + z * z / (2 * trials)) / (1 + z * z / trials)
    half = (
        z
        * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
        / (1 + z * z / trials)
    )
    return (max(0.0, centre - half), min(1.0, centre + half))


def pooled_flags(
    planted: Iterable[Mapping[str, object]],
    quiet: Iterable[Mapping[str, object]],
    *,
    target: float = 0.8,
) -> dict[str, object]:
    """Flag scores pooled over seeds (``FlagScore.to_dict`` per run under ``pulse`` and
    ``with_delivery``), each with its 95% interval; and how many seeds meet ``target`` on
    precision and recall, pulse only and with delivery."""
    runs, nulls = list(planted), list(quiet)
    out: dict[str, object] = {}
    for key in ("pulse", "with_delivery"):
        scores = [run[key] for run in runs]
        caught = sum(int(s["true_positives"]) for s in scores)  # type: ignore[index]
        positives = sum(int(s["positives"]) for s in scores)  # type: ignore[index]
        flagged = sum(int(s["flagged"]) for s in scores)  # type: ignore[index]
        quiet_flagged = sum(int(run[key]["flagged"]) for run in nulls)  # type: ignore[index]
        quiet_assessed = sum(int(run[key]["assessed"]) for run in nulls)  # type: ignore[index]
        out[key] = {
            "caught": caught,
            "positives": positives,
            "flagged": flagged,
            "recall": _r(caught / positives) if positives else None,
            "recall_95": [_r(v) for v in wilson_interval(caught, positives)],
            "precision": _r(caught / flagged) if flagged else None,
            "precision_95": [_r(v) for v in wilson_interval(caught, flagged)],
            "no_strain_flagged": quiet_flagged,
            "no_strain_assessed": quiet_assessed,
            "no_strain_rate_95": [_r(v) for v in wilson_interval(quiet_flagged, quiet_assessed)],
        }
    met = [
        all(
            (run[key]["precision"] or 0) >= target and (run[key]["recall"] or 0) >= target  # type: ignore[index]
            for key in ("pulse", "with_delivery")
        )
        for run in runs
    ]
    out["seeds_meeting_target"] = [sum(met), len(met)]
    return out


@dataclass(frozen=True)
class AlertScore:
    """Sustained-drop alerts against known answers."""

    null_teams: int
    null_team_years: float
    false_alarms: int
    delays: tuple[int, ...]  # weeks from onset to the first alarm, for detected drops
    by_kind: tuple[tuple[str, int, int], ...]  # (kind of drop, caught, drops)

    @property
    def drops(self) -> int:
        return sum(drops for _, _, drops in self.by_kind)

    @property
    def detected(self) -> int:
        return sum(caught for _, caught, _ in self.by_kind)

    @property
    def false_alarms_per_team_year(self) -> float:
        return self.false_alarms / self.null_team_years if self.null_team_years else math.nan

    def to_dict(self) -> dict[str, object]:
        return {
            "null_teams": self.null_teams,
            "null_team_years": round(self.null_team_years, 3),
            "false_alarms": self.false_alarms,
            "false_alarms_per_team_year": _r(self.false_alarms_per_team_year),
            "drops": self.drops,
            "detected": self.detected,
            "median_delay_weeks": None if not self.delays else float(np.median(self.delays)),
            "delays": list(self.delays),
            "caught_by_kind": {kind: [caught, drops] for kind, caught, drops in self.by_kind},
        }


def score_alerts(
    alerts: pd.DataFrame,
    onsets: Mapping[object, str],
    weeks: list[str],
    kinds: Mapping[object, str] | None = None,
) -> AlertScore:
    """``alerts``: the output of ``sustained_drop_alerts``; ``onsets``: team -> first week of a
    planted wellbeing drop (teams absent had none); ``kinds``: team -> what was planted, to count
    the drops caught by kind. A monitored team with no drop that alarms is a false alarm (the
    alert reports the first alarm only, so this counts teams with at least one)."""
    monitored = alerts[alerts["weeks_monitored"] > 0]
    null = monitored[~monitored["team"].isin(list(onsets))]
    drops = monitored[monitored["team"].isin(list(onsets))]
    position = {week: i for i, week in enumerate(weeks)}
    delays = []
    tally: dict[str, list[int]] = {}
    for row in drops.itertuples():
        counts = tally.setdefault((kinds or {}).get(row.team, "drop"), [0, 0])
        counts[1] += 1
        if not row.alarm or row.first_alarm_week is None:
            continue
        delay = position[row.first_alarm_week] - position[onsets[row.team]]
        if delay >= 0:
            delays.append(delay)
            counts[0] += 1
    return AlertScore(
        null_teams=len(null),
        null_team_years=float(null["weeks_monitored"].sum()) / 52.0,
        false_alarms=int(null["alarm"].sum()),
        delays=tuple(delays),
        by_kind=tuple((kind, caught, drops) for kind, (caught, drops) in sorted(tally.items())),
    )


def pooled_alerts(runs: Iterable[Mapping[str, object]]) -> dict[str, object]:
    """Alerts over many runs (``AlertScore.to_dict`` under ``alerts``): false alarms per team-year
    over all the team-years watched, and the planted drops caught, by kind."""
    scores = [run["alerts"] for run in runs]
    false_alarms = sum(int(a["false_alarms"]) for a in scores)  # type: ignore[index]
    team_years = sum(float(a["null_team_years"]) for a in scores)  # type: ignore[index]
    by_kind: dict[str, list[int]] = {}
    for a in scores:
        for kind, (caught, drops) in a["caught_by_kind"].items():  # type: ignore[index]
            total = by_kind.setdefault(kind, [0, 0])
            total[0] += caught
            total[1] += drops
    delays = sorted(d for a in scores for d in a["delays"])  # type: ignore[index]
    return {
        "false_alarms": false_alarms,
        "per_team_year": _r(false_alarms / team_years) if team_years else None,
        "caught": sum(c for c, _ in by_kind.values()),
        "drops": sum(d for _, d in by_kind.values()),
        "median_delay_weeks": float(np.median(delays)) if delays else None,
        "caught_by_kind": dict(sorted(by_kind.items())),
    }


def plain_badness(table: pd.DataFrame, worse_when_higher: Iterable[str]) -> pd.Series:
    """The reader's yardstick: the mean of direction-corrected z-scores over the feature columns
    (``n`` left out), higher is worse."""
    worse = set(worse_when_higher)
    features = table.drop(columns=["n"], errors="ignore").astype(float)
    z = (features - features.mean()) / features.std(ddof=0)
    for column in z.columns:
        if column not in worse:
            z[column] = -z[column]
    return z.mean(axis=1)


def real_table_summary(
    table: pd.DataFrame, worse_when_higher: Iterable[str], result: StrainResult
) -> dict[str, object]:
    """How the flags sit on a real table: count, and the plain badness of flagged against the rest
    (difference in SD of badness) and how many flagged units are in its worst tenth."""
    badness = plain_badness(table, worse_when_higher)
    flagged = [r.team for r in result.flagged]
    rest = badness.drop(index=flagged, errors="ignore")
    worst = set(badness.sort_values(ascending=False).index[: max(1, len(badness) // 10)])
    spread = float(badness.std(ddof=0)) or 1.0
    return {
        "units": len(table),
        "flagged": len(flagged),
        "flagged_in_worst_tenth": len(set(flagged) & worst),
        "badness_gap_sd": None
        if not flagged
        else round((float(badness.loc[flagged].mean()) - float(rest.mean())) / spread, 2),
        "strain_share": None if result.strain_share is None else round(result.strain_share, 3),
    }
