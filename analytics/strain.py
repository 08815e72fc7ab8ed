"""Teams under strain: a soft clustering of team measures into a steady group and strain profiles,
flagging a team when the evidence that it belongs to a strain profile is strong.

Method (one place for the rule; docs/STRAIN.md explains it with figures):

1. **Measures with their uncertainty.** Each feature is oriented so that higher is worse. Where a
   team's sampling variance is known (from the database) or can be read off the funnel of team
   sizes (a CSV with ``n``), the team's value is shrunk toward the mean by empirical Bayes
   (``analytics.shrinkage``), so a small team's extreme mean does not pass for strain.
2. **One scale.** Every feature is measured from the median team in between-team standard
   deviations. Delivery features count only on the bad side (ahead of plan does not cancel signs of
   strain): a delivery-only construct is cut at zero.
3. **Constructs, not items.** The caller may declare constructs (the product does: a domain's
   level and its change are one voice; control and support are one). Other features whose
   oriented correlation is at least ``group_r`` are averaged into one construct (average-linkage
   clustering of the correlation matrix), so four items measuring one thing do not outvote
   workload. Each construct is put back on a unit scale. In the general statistic a declared
   construct counts once; a derived one by the square root of its number of measures (a block of
   four correlated items counts twice, not four times, against one lone measure).
4. **The mixture.** The mixture reads one statistic per construct and a *general* one (the mean of
   the constructs on the robust scale of the bulk, ``(x - median) / (1.4826 MAD)``: an empirical
   null, funnel limits with over-dispersion as in Spiegelhalter's institutional comparisons). A
   *steady* component (every statistic standard normal, fixed) and one *strain* component per
   statistic (the steady component shifted at least ``min_shift`` toward the bad side along it;
   shifts and shares fitted by EM; strain is a minority, the steady share at least one half). The
   number of components is fixed by the number of constructs, not chosen by a random restart, so the
   fit does not depend on the seed. Declared *profiles* (two constructs moving together, as overload
   moves demands and wellbeing) add a component each along their sum; with ``tie_shares`` every
   strain component has one share, fitted from all teams (a council has about one team per profile,
   too few to fit a share each). A team's probability of strain is one minus its posterior
   probability of being steady. It is flagged at ``min_probability`` (0.5: strain more likely than
   steady) when it is also clearly worse: its general statistic at least ``min_general``, or, for a
   declared construct (a named profile), that construct at least ``min_declared`` SD bad. Data with
   no strained group leave the strain shares near zero, so a noise-only table flags few or none; a
   strained minority inside a mixed group is still found, since each team's probability is its own.
5. **Absolute norms.** A feature may carry a published cut-off (WHO-5 at or below 50): a team
   clearly beyond it (the cut-off outside its 90% interval) is flagged whatever the other teams
   look like, so a struggling organisation's worst teams are not hidden by its average.
6. **Profiles and reasons.** A flagged team is named by the declared construct or profile whose
   component carries it, or else by its worst constructs (``PROFILE_KEYWORDS``): overloaded,
   unsupported, disengaged, delivering at a cost (pulse strain with delivery on plan), falling
   behind (delivery only), low wellbeing, or under strain (several at once or an unknown measure);
   the rest are steady. Each flag carries its top reasons in plain words.

Pure functions over pandas data frames; no database, no Streamlit, thresholds are arguments.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analytics.shrinkage import (
    between_variance,
    binomial_variance,
    funnel_z,
    sampling_variance_from_n,
    shrink,
)
from analytics.strain_mixture import (
    GENERAL,
    beyond_cutoffs,
    construct_groups,
    direction_statistics,
    feature_z,
    strain_mixture,
)
from analytics.strain_result import (
    DELIVERING_AT_A_COST,
    DISENGAGED,
    LOW_WELLBEING,
    NOT_ASSESSED,
    OVERLOADED,
    STEADY,
    STRAIN_PROFILES,
    UNDER_STRAIN,
    UNSUPPORTED,
    ClusterSummary,
    Reason,
    StrainResult,
    TeamStrain,
    format_value,
    plain_value,
    profile_of,
    reason_text,
)

MIN_TEAMS = 8  # fewer teams cannot show a steady bulk and a strained minority apart


def _not_assessed(teams: Iterable[Any], n_of: Mapping[Any, int | None], reason: str) -> list[TeamStrain]:
    why = (Reason("n", "n", math.nan, math.nan, math.nan, reason),)
    return [
        TeamStrain(plain_value(team), False, NOT_ASSESSED, None, why, n_of.get(team)) for team in teams
    ]


# A value near 1e308 squares to inf: such a measure loses its spread and is left out, without
# numpy's warnings on every caller's terminal.
@np.errstate(over="ignore", invalid="ignore")
def detect_strain(
    features: pd.DataFrame,
    worse_when_higher: Iterable[str],
    seed: int = 0,
    *,
    labels: Mapping[str, str] | None = None,
    delivery_features: Iterable[str] = (),
    sampling_variance: pd.DataFrame | None = None,
    absolute_limits: Mapping[str, float] | None = None,
    priors: Mapping[str, pd.Series] | None = None,
    min_probability: float = 0.5,
    min_shift: float = 1.0,
    min_declared_shift: float | None = None,
    funnel_features: Iterable[str] = (),
    flat_funnel_features: Iterable[str] = (),
    min_general: float = 1.0,
    constructs: Sequence[Sequence[str]] | None = None,
    profiles: Sequence[Sequence[str]] = (),
    tie_shares: bool = False,
    min_declared: float = 3.0,
    construct_weight: float = 0.5,
    group_r: float = 0.7,
    min_teams: int = MIN_TEAMS,
    max_reasons: int = 3,
    reason_min_sd: float = 0.5,
) -> StrainResult:
    """Flag teams under strain, each with a profile, a probability and its reasons.

    ``features``: one row per team, indexed by team id; numeric feature columns (blanks allowed)
    and optionally ``n`` (respondents: used to shrink by the funnel, not a feature).
    ``worse_when_higher``: columns that are bad when high; every other feature is bad when low.
    ``sampling_variance``: optional per-team sampling variances of some features (same index);
    when it is given, only the features it lists are shrunk (the funnel is for tables without it).
    ``absolute_limits``: a published cut-off per feature, on its own scale and bad side.
    ``priors``: per feature, the value each team is shrunk toward (its parent unit; default the
    teams' mean). ``constructs``: declared groups of features, each one voice and a named profile
    (flagged on its own at ``min_declared`` SD; its strain component, a profile's and the
    general statistic's shifted at least ``min_declared_shift``, default ``min_shift``; a derived
    construct's always at least ``min_shift``). ``funnel_features``: measures with a
    sampling variance read as funnel z-scores (``analytics.shrinkage.funnel_z``) instead of
    being shrunk; ``flat_funnel_features`` likewise when the teams show no spread beyond noise
    (changes: a steady team's is zero); the rest are grouped by correlation at ``group_r``
    and weigh ``len(group) ** construct_weight`` in the general statistic. ``profiles``: the
    features of two or more declared constructs that strain moves together (overloaded:
    wellbeing and demands), each one more strain component along the constructs' sum.
    ``tie_shares``: every strain component has one share, fitted from all teams (the product's
    named profiles are alike a priori, and a council has about one team per profile: see
    ``analytics.strain_mixture.strain_mixture``); a table from elsewhere fits one per component.
    ``seed`` is accepted for the command line's sake: the fit is deterministic and does not use it.
    """
    del seed  # the mixture is fitted without random restarts
    if not 0.5 <= min_probability < 1:
        raise ValueError("min_probability must be in [0.5, 1)")
    worse_high = set(worse_when_higher)
    labels = dict(labels or {})
    delivery = set(delivery_features)
    limits = dict(absolute_limits or {})
    counts = pd.to_numeric(features["n"], errors="coerce") if "n" in features.columns else None
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
    n_of: dict[Any, int | None] = {
        team: (int(value) if counts is not None and pd.notna(value) else None)
        for team, value in (counts.items() if counts is not None else ((t, None) for t in table.index))
    }

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
    assessed = table[used].notna().any(axis=1) if used else pd.Series(False, index=table.index)
    if not used or int(assessed.sum()) < min_teams:
        notes.append(
            f"only {int(assessed.sum())} teams with values: at least {min_teams} are needed to tell a "
            "steady bulk from a strained minority"
        )
        records = _not_assessed(table.index, n_of, "not assessed: too few comparable teams")
        return StrainResult(tuple(records), (), tuple(used), labels, None, None, None, tuple(notes))

    data = table.loc[assessed, used]
    # 1. Shrink each feature where its noise is known or visible in the funnel.
    shrunk_var: dict[str, pd.Series] = {}
    shrunk = data.copy()
    funnel, flat_funnel = set(funnel_features), set(flat_funnel_features)
    read_off_funnel: list[str] = []
    funnel_read: set[str] = set()
    raw_var: dict[str, pd.Series] = {}
    for column in used:
        variance = None
        if sampling_variance is not None and column in sampling_variance.columns:
            variance = sampling_variance[column].reindex(data.index)
        elif counts is not None and sampling_variance is None:
            n = counts.reindex(data.index)
            variance = binomial_variance(column, data[column], n)
            if variance is None:
                variance = sampling_variance_from_n(data[column], n)
        if variance is None:
            continue
        # A change whose spread between teams is no more than noise (tau^2 = 0) would be shrunk
        # to the mean for every team, erasing one far off its own noise (through the database,
        # seeds 3 and 5): it is read by its funnel z-score instead.
        flat = column in flat_funnel and between_variance(data[column], variance) == 0
        if column in funnel or flat:
            z_value = funnel_z(data[column], variance)
            if z_value is not None:
                shrunk[column] = z_value
                funnel_read.add(column)
                raw_var[column] = variance
                read_off_funnel.append(labels.get(column, column))
            continue
        prior = (priors or {}).get(column)
        result = shrink(data[column], variance, None if prior is None else prior.reindex(data.index))
        if result.tau2 is not None:
            shrunk[column] = result.mean
            shrunk_var[column] = result.variance
    shrunk_note = [labels.get(c, c) for c in shrunk_var]
    if shrunk_note:
        notes.append(
            "shrunk toward the mean (or the parent unit) by team size (empirical Bayes): "
            + ", ".join(shrunk_note)
        )
    if read_off_funnel:
        notes.append(
            "read as funnel z-scores (distance over the team's own uncertainty plus the spread "
            "between teams): " + ", ".join(read_off_funnel)
        )

    # 2. Orient and measure from the median team in between-team SDs.
    oriented = shrunk.copy()
    for column in used:
        if column not in worse_high:
            oriented[column] = -oriented[column]
    z_columns: dict[str, pd.Series] = {}
    for column in used:
        z = feature_z(oriented[column], at_least_one=column in funnel_read)
        if z is None:
            notes.append(f"{labels.get(column, column)} left out: no spread between teams")
            continue
        z_columns[column] = z
    if not z_columns:
        records = _not_assessed(table.index, n_of, "not assessed: no measure varies between teams")
        return StrainResult(tuple(records), (), tuple(used), labels, None, None, None, tuple(notes))
    z = pd.DataFrame(z_columns)
    used = list(z.columns)

    # 3. Constructs.
    groups = [[c for c in group if c in z.columns] for group in constructs or ()]
    groups = [group for group in groups if group]
    declared = len(groups)
    grouped = {c for group in groups for c in group}
    rest = [c for c in z.columns if c not in grouped]
    if rest:
        groups += construct_groups(z[rest], group_r)
    scores = pd.DataFrame({i: z[group].mean(axis=1) for i, group in enumerate(groups)})
    for i in scores.columns:  # each construct back on a unit scale
        rescaled = feature_z(scores[i], at_least_one=set(groups[i]) <= funnel_read)
        scores[i] = 0.0 if rescaled is None else rescaled
    # Delivery counts only on the bad side in the general statistic (ahead of plan does not cancel
    # signs of strain). Its own statistic stays whole: cut at zero, half of all teams would sit
    # on the bad side, no longer standard normal, and the mixture would fit a "falling behind"
    # component to the bulk (a council with nothing planted had half its teams in it).
    bad_side_only = [set(group) <= delivery for group in groups]
    missing = scores.isna()
    if missing.any().any():
        notes.append("a missing construct counts as typical (0) for that team")
    matrix = scores.fillna(0.0).to_numpy()
    overall = matrix.mean(axis=1)

    # 4. The mixture.
    stats = direction_statistics(
        scores.fillna(0.0),
        [1.0 if i < declared else len(group) ** construct_weight for i, group in enumerate(groups)],
        bad_side_only=bad_side_only,
    )
    # A declared construct's, a profile's and then also the general statistic's component sit at
    # least ``min_declared_shift`` out: with one share for all, a general component let sit 1 SD
    # out fitted the upper tail of steady teams and raised the share every profile uses.
    declared_floor = min_shift if min_declared_shift is None else min_declared_shift
    shifts = [declared_floor if i < declared else min_shift for i in range(len(groups))]
    if stats.shape[1] > len(groups):  # the general statistic
        shifts.append(declared_floor)
    # Profiles: two declared constructs moving together, read along their sum (back on the
    # between-team scale), so a team moderately bad on both is weighed as one pattern.
    first_profile = stats.shape[1]
    # The declared constructs behind each strain component, which name a team it carries (None:
    # a derived construct or the general statistic, named from the team's worst constructs).
    component_constructs: list[list[int] | None] = [
        [k] if k < declared else None for k in range(first_profile)
    ]
    for members in _profile_constructs(profiles, groups[:declared]):
        component_constructs.append(members)
        joint = feature_z(scores[members].fillna(0.0).sum(axis=1))
        stats[f"profile {'+'.join(map(str, members))}"] = 0.0 if joint is None else joint
        shifts.append(declared_floor)
    probability, responsibility, share = strain_mixture(
        stats.to_numpy(), min_shift=shifts, tied=tie_shares
    )
    general = stats[GENERAL].to_numpy() if GENERAL in stats.columns else overall
    # Clearly worse: overall, or (for a construct the caller declared, i.e. a named strain profile)
    # clearly on the bad side of the construct that carries the team's strain.
    top = responsibility.argmax(axis=1)
    declared_top = np.array([component_constructs[k] is not None for k in top])
    top_score = stats.to_numpy()[np.arange(len(top)), top]  # a construct's score, or a profile's
    clearly_worse = (general >= min_general) | (declared_top & (top_score >= min_declared))
    relative_flag = (probability >= min_probability) & clearly_worse

    # 5. Absolute norms: clearly beyond a published cut-off (the team's own value where the
    # measure was read as a z-score).
    values = {
        c: (data[c], raw_var[c]) if c in funnel_read else (shrunk[c], shrunk_var.get(c))
        for c in limits
        if c in shrunk.columns
    }
    absolute_flag = beyond_cutoffs(values, limits, worse_high, len(data))
    flagged = relative_flag | absolute_flag

    # 6. Profiles and reasons (numpy per row: a thousand teams must not mean a thousand sorts in
    # pandas).
    typical = data[used].median().to_numpy(float)
    values_np = data[used].to_numpy(float)
    z_np = z[used].to_numpy(float)
    ranked_np = np.argsort(-np.nan_to_num(z_np, nan=-np.inf), axis=1, kind="stable")
    records_by_team: dict[Any, TeamStrain] = {}
    profile_members: dict[str, list[int]] = {}
    group_means = np.column_stack([z[group].mean(axis=1).to_numpy(float) for group in groups])
    for row, team in enumerate(data.index):
        if flagged[row]:
            named = component_constructs[top[row]] if relative_flag[row] else None
            profile = _profile(
                z.iloc[row], groups, group_means[row], delivery, absolute_flag[row], limits, named
            )
        else:
            profile = STEADY
        profile_members.setdefault(profile, []).append(row)
        order = [i for i in ranked_np[row, :max_reasons] if z_np[row, i] >= reason_min_sd]
        reasons = tuple(
            Reason(
                feature=used[i],
                label=labels.get(used[i], used[i]),
                value=float(values_np[row, i]),
                typical=float(typical[i]),
                sd_worse=float(z_np[row, i]),
                text=reason_text(
                    labels.get(used[i], used[i]),
                    float(values_np[row, i]),
                    float(typical[i]),
                    float(z_np[row, i]),
                    used[i] in worse_high,
                ),
            )
            for i in order
        )
        if absolute_flag[row]:
            for column, limit in limits.items():
                if column in data.columns and pd.notna(data.iloc[row][column]):
                    value = float(shrunk.iloc[row][column])
                    reasons = (
                        Reason(
                            column,
                            labels.get(column, column),
                            value,
                            float(limit),
                            math.nan,
                            f"{labels.get(column, column)}: {format_value(value)} "
                            f"after allowing for team size, clearly beyond the published cut-off "
                            f"({format_value(float(limit))})",
                        ),
                        *reasons,
                    )[:max_reasons]
        records_by_team[team] = TeamStrain(
            team=plain_value(team),
            flagged=bool(flagged[row]),
            cluster=profile,
            score=float(overall[row]),
            reasons=reasons,
            n=n_of.get(team),
            probability=float(probability[row]),
        )
    records = [
        records_by_team[team]
        if team in records_by_team
        else _not_assessed([team], n_of, "not assessed: no values")[0]
        for team in table.index
    ]
    clusters = tuple(
        ClusterSummary(
            cluster=name,
            size=len(rows),
            score=float(overall[rows].mean()),
            centroid={c: float(z.iloc[rows][c].mean()) for c in used},
            on_bad_side=name in STRAIN_PROFILES,
        )
        for name, rows in sorted(
            profile_members.items(), key=lambda item: -float(overall[item[1]].mean())
        )
    )
    if len(groups) < len(used):
        merged = ["+".join(labels.get(c, c) for c in group) for group in groups if len(group) > 1]
        notes.append("measured as one construct (correlated): " + "; ".join(merged))
    return StrainResult(
        teams=tuple(records),
        clusters=clusters,
        features_used=tuple(used),
        labels=labels,
        k=1 + responsibility.shape[1],
        silhouette=None,
        threshold=min_probability,
        notes=tuple(notes),
        constructs=tuple(tuple(group) for group in groups),
        strain_share=float(1 - share[0]),
    )


def _profile_constructs(profiles: Sequence[Sequence[str]], declared: list[list[str]]) -> list[list[int]]:
    """Each profile as the indices of the declared constructs holding any of its features (a
    profile names whole domains, so a feature the data left out does not drop it); a profile
    with fewer than two constructs present is left out."""
    out = []
    for profile in profiles:
        members = sorted({i for i, group in enumerate(declared) for c in profile if c in group})
        if len(members) >= 2:
            out.append(members)
    return out


def _profile(
    team_z: pd.Series,
    groups: list[list[str]],
    group_means: np.ndarray,
    delivery: set[str],
    absolute: bool,
    limits: Mapping[str, float],
    named: list[int] | None = None,
) -> str:
    """The profile of a flagged team: pulse strain with delivery on plan is 'delivering at a
    cost'; otherwise the declared constructs of the strain component that carries the team
    (``named``), or else its worst constructs (see the module docstring). Naming by the component
    keeps a low-wellbeing team with a chance dip in demands from being called overloaded.
    ``group_means``: the team's mean z on each construct of ``groups`` (nan where it has none)."""
    pulse = [c for c in team_z.index if c not in delivery]
    delivered = [c for c in team_z.index if c in delivery and pd.notna(team_z[c])]
    pulse_bad = max((float(team_z[c]) for c in pulse if pd.notna(team_z[c])), default=0.0)
    delivery_bad = max((float(team_z[c]) for c in delivered), default=0.0)
    if delivered and pulse_bad >= 1.0 and delivery_bad <= 0.0:
        return DELIVERING_AT_A_COST
    if named:
        return _name_of({profile_of(c) for i in named for c in groups[i]})
    group_scores = dict(enumerate(map(float, group_means)))
    ranked = sorted(group_scores, key=lambda i: -np.nan_to_num(group_scores[i], nan=-9))
    top = ranked[0]
    if absolute and group_scores[top] < 1.0:
        return profile_of(next(iter(limits)))
    bad_groups = [i for i in ranked if group_scores[i] >= 1.0]
    return _name_of(
        {profile_of(c) for i in bad_groups for c in groups[i]} or {profile_of(c) for c in groups[top]}
    )


def _name_of(profiles: set[str]) -> str:
    """One name for the profiles a team's strain touches."""
    if OVERLOADED in profiles:
        return OVERLOADED
    if UNSUPPORTED in profiles:
        return UNSUPPORTED
    if profiles == {DISENGAGED, LOW_WELLBEING}:  # answers falling with wellbeing
        return DISENGAGED
    if len(profiles) == 1:
        return next(iter(profiles))
    return UNDER_STRAIN
