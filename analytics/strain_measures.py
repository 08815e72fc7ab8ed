"""Strain measures: each assessed team's features over the window, built from what the one
database read returns (``analytics.strain_released.StrainInputs``, or the in-memory council's
equivalent), their sampling variances, and the detector with the product's settings.

Features per team over the window (default 8 weeks), from the weeks with a released figure of
the team's own:

- ``wellbeing_level`` and ``wellbeing_change`` (from the team's own previous weeks): WHO-5. The
  detector shrinks both toward the mean of teams (empirical Bayes, ``B = se^2 / (se^2 +
  tau^2)``); a level's standard error uses the pooled within-team variance over the team's
  average weekly respondents (the same people answer most weeks), a change's over the answers on
  both sides.
- ``demands``, ``control``, ``support`` (manager and peer support pooled) and their changes: HSE
  1-5 scores, higher is better (a low demands score means heavy demands).
- ``<construct>_recent_change``: each change again over the latest half of the window, against
  the same previous weeks, for teams with a figure of their own in every one of those weeks: a
  problem that began part-way through the window fills only part of it, and the window's change
  dilutes it. Each domain's level and changes are one voice (``DOMAINS``).
- ``response_rate_change``: answers per member-week in the window minus the weeks before it
  (percentage points), read by its funnel z-score; ``response_rate_recent_change`` likewise over
  the latest half of the window, for teams with no week of it withheld to protect a neighbour.
- ``delivery_gap`` (expected minus actual progress, percentage points) and ``confidence_trend``
  (key-result confidence per week) from ``analytics.objectives.delivery_features``; NaN without
  outcome data, which the clustering skips rather than counting as good or bad.
"""

from __future__ import annotations

import math

import pandas as pd

from analytics.norms import WHO5_CUTOFF
from analytics.strain import StrainResult, detect_strain
from analytics.strain_released import BASELINE_WINDOWS, StrainInputs, recent_weeks

FEATURE_LABELS: dict[str, str] = {
    "wellbeing_level": "Wellbeing (WHO-5, 0-100)",
    "wellbeing_change": "Change in wellbeing from the team's own previous weeks (WHO-5 points)",
    "wellbeing_recent_change": "Change in wellbeing over the latest weeks (WHO-5 points)",
    "demands": "Demands score (HSE 1-5, low means heavy demands)",
    "demands_change": "Change in demands score from the previous weeks (HSE points)",
    "demands_recent_change": "Change in demands score over the latest weeks (HSE points)",
    "control": "Control over work (HSE 1-5)",
    "control_change": "Change in control from the previous weeks (HSE points)",
    "control_recent_change": "Change in control over the latest weeks (HSE points)",
    "support": "Support from manager and colleagues (HSE 1-5)",
    "support_change": "Change in support from the previous weeks (HSE points)",
    "support_recent_change": "Change in support over the latest weeks (HSE points)",
    "response_rate_change": "Change in response rate from the previous weeks (percentage points)",
    "response_rate_recent_change": "Change in response rate over the latest weeks (percentage points)",
    "delivery_gap": "Outcome delivery behind plan (percentage points)",
    "confidence_trend": "Key-result confidence trend (0-10 scale, per week)",
}
FEATURES: tuple[str, ...] = tuple(FEATURE_LABELS)
#: The constructs the detector weighs equally: a team's level and its changes in one domain count
#: as one voice, and control and support together are the HSE "resources" side.
WELLBEING_DOMAIN = ("wellbeing_level", "wellbeing_change", "wellbeing_recent_change")
DEMANDS_DOMAIN = ("demands", "demands_change", "demands_recent_change")
RESOURCES_DOMAIN = (
    "control",
    "control_change",
    "control_recent_change",
    "support",
    "support_change",
    "support_recent_change",
)
RESPONSE_DOMAIN = ("response_rate_change", "response_rate_recent_change")
DELIVERY_DOMAIN = ("delivery_gap", "confidence_trend")
DOMAINS: tuple[tuple[str, ...], ...] = (
    WELLBEING_DOMAIN,
    DEMANDS_DOMAIN,
    RESOURCES_DOMAIN,
    RESPONSE_DOMAIN,
    DELIVERY_DOMAIN,
)
#: Strain profiles that move two domains at once, each one more strain component: overloaded
#: (demands up, wellbeing down), unsupported (resources down, wellbeing down), disengaged
#: (answers and wellbeing falling). A profile names every feature of its domains, so it holds
#: whichever of them a council's data leave in (a level with no spread between teams is left out).
PROFILES: tuple[tuple[str, ...], ...] = (
    (*WELLBEING_DOMAIN, *DEMANDS_DOMAIN),
    (*WELLBEING_DOMAIN, *RESOURCES_DOMAIN),
    (*WELLBEING_DOMAIN, *RESPONSE_DOMAIN),
)
#: A declared domain's strain component (and a profile's, and the general statistic's) sits at
#: least this many SD toward the bad side: a profile is a clear departure on its domain, not the
#: tail of the steady spread.
DOMAIN_MIN_SHIFT = 2.0
#: Read by their funnel z-score, not shrunk: a response rate's binomial noise differs tenfold
#: between teams, and a team that stops answering is exactly one whose rate is noisiest.
FUNNEL_FEATURES: tuple[str, ...] = RESPONSE_DOMAIN
#: Changes from a team's own previous weeks: a steady team's is zero, so when the teams' changes
#: spread no more than their noise they are read by funnel z-score rather than shrunk to nothing.
CHANGE_FEATURES: tuple[str, ...] = (
    "wellbeing_change",
    "demands_change",
    "control_change",
    "support_change",
    "wellbeing_recent_change",
    "demands_recent_change",
    "control_recent_change",
    "support_recent_change",
)
WORSE_WHEN_HIGHER: tuple[str, ...] = ("delivery_gap",)
DELIVERY_FEATURES: tuple[str, ...] = DELIVERY_DOMAIN


def strain_measures(inputs: StrainInputs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per eligible team: ``n`` and the ``FEATURES`` (raw window means for the levels, and each
    level's change from the team's own previous weeks), and their sampling variances: for a level,
    the pooled within-team variance over the team's average weekly respondents (the same people
    answer most weeks, so answers overstate the information); for a change, over the answers on
    each side. The detector shrinks every one of them with these variances."""
    eligible = inputs.eligible
    columns = ["n", *FEATURES]
    features = pd.DataFrame(index=pd.Index(eligible, name="team_id"), columns=columns, dtype=float)
    variances = pd.DataFrame(index=features.index, dtype=float)
    if not eligible:
        return features, variances
    window = inputs.window
    constructs = set(window.index.get_level_values("construct"))
    answers_weeks = inputs.weekly.groupby("team_id")["week"].nunique()
    latest = recent_weeks(inputs.weeks)
    seen = inputs.weekly[inputs.weekly["week"].isin(latest)].groupby("team_id")["week"].nunique()
    whole_recent = seen[seen >= len(latest)].index
    for construct, feature in (
        ("wellbeing", "wellbeing_level"),
        ("demands", "demands"),
        ("control", "control"),
        ("support", "support"),
    ):
        if construct not in constructs:
            continue
        part = window.xs(construct, level="construct")
        mean = part["total"] / part["n"]
        within = (part["total_sq"] - part["total"] ** 2 / part["n"]).clip(lower=0)
        dof = (part["n"] - 1).clip(lower=0)
        pooled_var = float(within.sum() / dof.sum()) if dof.sum() > 0 else math.nan
        people = (part["n"] / answers_weeks.reindex(part.index)).clip(lower=1)
        features[feature] = mean.reindex(eligible)
        variances[feature] = (pooled_var / people).reindex(eligible)
        before = _construct(inputs.baseline, construct)
        if before is not None:
            change = f"{construct}_change"
            features[change] = (mean - before["total"] / before["n"]).reindex(eligible)
            variances[change] = (pooled_var * (1 / part["n"] + 1 / before["n"])).reindex(eligible)
            recent = _construct(inputs.recent, construct)
            if recent is not None:
                # Only where every one of the latest weeks has a figure of the team's own: a
                # latest half read from one or two weeks is too thin to stand beside the rest.
                recent = recent[recent.index.isin(whole_recent)]
                late = f"{construct}_recent_change"
                features[late] = (recent["total"] / recent["n"] - before["total"] / before["n"]).reindex(
                    eligible
                )
                variances[late] = (pooled_var * (1 / recent["n"] + 1 / before["n"])).reindex(eligible)
        if construct == "wellbeing":
            features["n"] = part["n"].reindex(eligible).fillna(0)
    change, change_variance = _rate_change(inputs)
    features["response_rate_change"] = change.reindex(eligible)
    variances["response_rate_change"] = change_variance.reindex(eligible)
    if not inputs.answered_recent.empty:
        change, change_variance = _rate_change(inputs, recent=True)
        features["response_rate_recent_change"] = change.reindex(eligible)
        variances["response_rate_recent_change"] = change_variance.reindex(eligible)
    delivery = inputs.delivery.set_index("team_id")
    features["delivery_gap"] = 100 * delivery["delivery_gap"].reindex(eligible)
    features["confidence_trend"] = delivery["confidence_trend"].reindex(eligible)
    return features[columns], variances


def _construct(sums: pd.DataFrame, construct: str) -> pd.DataFrame | None:
    if sums.empty or construct not in set(sums.index.get_level_values("construct")):
        return None
    return sums.xs(construct, level="construct")


def _rate_change(inputs: StrainInputs, *, recent: bool = False) -> tuple[pd.Series, pd.Series]:
    """Response rate in the window (``recent``: its latest weeks, ``answered_recent``) minus the
    weeks before it (percentage points): answers over member-weeks of the people active in each
    span (over the weeks with a released figure, when ``answered`` says how many); and its
    variance: binomial, so a team of three is not read as disengaged by one absence, plus that of
    reading banded counts (``n_var``) where given. The latest weeks' change is left out (NaN) for
    a team with one of them withheld to protect a neighbour, as the other recent changes are."""
    answered_frame = inputs.answered_recent if recent else inputs.answered
    span_weeks = {
        False: BASELINE_WINDOWS * len(inputs.weeks),
        True: len(recent_weeks(inputs.weeks)) if recent else len(inputs.weeks),
    }
    indexed = answered_frame.set_index(["team_id", "late"])
    answered = indexed["n"].astype(float)
    counted = indexed["weeks"].astype(float) if "weeks" in indexed.columns else None
    banding = indexed["n_var"].astype(float) if "n_var" in indexed.columns else None
    withheld = indexed["withheld"].astype(float) if "withheld" in indexed.columns else None
    withheld_low = indexed["withheld_low"].astype(float) if withheld is not None else None
    exposure: dict[bool, pd.Series] = {}
    reading: dict[bool, pd.Series | float] = {False: 0.0, True: 0.0}
    rates = {}
    for is_late in (False, True):
        members = inputs.members[is_late]
        present = is_late in answered.index.get_level_values(1)
        got = answered.xs(is_late, level="late") if present else pd.Series(dtype=float)
        # Weeks counted: those with a released figure (withheld weeks are left out, not zero).
        span: float | pd.Series = float(span_weeks[is_late])
        if counted is not None:
            span = (
                counted.xs(is_late, level="late").reindex(members.index)
                if present
                else pd.Series(math.nan, index=members.index)
            )
        member_weeks = members.where(members > 0) * span
        rates[is_late] = got.reindex(member_weeks.index).fillna(0.0) / member_weeks
        exposure[is_late] = member_weeks
        if banding is not None and present:
            bands = banding.xs(is_late, level="late").reindex(members.index).fillna(0.0)
            reading[is_late] = bands / member_weeks**2
        if withheld is not None and present:
            reading[is_late] = reading[is_late] + _withheld_variance(
                withheld.xs(is_late, level="late").reindex(members.index).fillna(0.0),
                withheld_low.xs(is_late, level="late").reindex(members.index).fillna(0.0),
                span,
                members,
            )
    variance = sum(
        (rates[k] * (1 - rates[k])).clip(lower=0.01) / exposure[k] + reading[k] for k in (False, True)
    )
    change = 100 * (rates[True] - rates[False])
    if recent and withheld is not None and True in withheld.index.get_level_values(1):
        held = withheld.xs(True, level="late").reindex(change.index).fillna(0.0)
        change = change.where(held == 0)
    return change, 10_000 * variance


def _withheld_variance(
    withheld: pd.Series, low: pd.Series, counted: pd.Series | float, members: pd.Series
) -> pd.Series:
    """The variance a span's rate gains from its weeks withheld to protect a neighbour. The rate
    is read over the weeks released, but which weeks those are is not chance: complementary
    suppression hides a team's smaller weeks, beside a smaller sibling. A withheld week's rate is
    only known to lie between k and all members (uniform), and such weeks are ``w / (c + w)`` of
    the span, so the rate of the whole span is uncertain by ``w * var / (c + w) ** 2``."""
    size = members.where(members > 0)
    spread = (size - low).clip(lower=0.0) + 1
    per_week = (spread**2 - 1) / 12 / size**2
    return (withheld * per_week / (counted + withheld) ** 2).fillna(0.0)


def detect_from_measures(features: pd.DataFrame, variances: pd.DataFrame, seed: int = 0) -> StrainResult:
    """The detector with the product's feature settings (one place for them). Every measure is
    shrunk toward the mean of the teams assessed, not toward a parent unit: a parent's mean is
    mostly its other teams, and a team must not be flagged for its siblings' answers."""
    return detect_strain(
        features,
        [c for c in WORSE_WHEN_HIGHER if c in features.columns],
        seed=seed,
        labels=FEATURE_LABELS,
        delivery_features=[c for c in DELIVERY_FEATURES if c in features.columns],
        sampling_variance=variances,
        absolute_limits={"wellbeing_level": WHO5_CUTOFF} if "wellbeing_level" in features else None,
        constructs=DOMAINS,
        profiles=PROFILES,
        tie_shares=True,
        min_declared_shift=DOMAIN_MIN_SHIFT,
        funnel_features=FUNNEL_FEATURES,
        flat_funnel_features=CHANGE_FEATURES,
    )


def weekly_wellbeing(weekly_sums: pd.DataFrame, team_ids: list[int]) -> pd.DataFrame:
    """Weekly wellbeing means of the teams (``team``, ``week``, ``mean``, ``n``): the input of the
    alerts. Internal: only the alert verdicts leave this module, never these weekly means."""
    sums = weekly_sums[weekly_sums["team_id"].isin(team_ids)]
    return pd.DataFrame(
        {
            "team": sums["team_id"],
            "week": sums["week"],
            "mean": sums["total"] / sums["n"],
            "n": sums["n"],
        }
    )
