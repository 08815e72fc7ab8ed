"""The outcome rules: key-result progress, expected progress, and the status rule, in one place.

Pure functions over numbers and dates (no database, no Streamlit), so pages, exports and strain
detection all score delivery the same way, and the status shown on screen comes with the sentence
that explains it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from models.language import N_

Direction = Literal["increase", "decrease"]
StatusName = Literal["on_track", "at_risk", "off_track"]
QuadrantName = Literal["thriving", "delivering at a cost", "struggling", "coasting"]

DIRECTIONS: tuple[str, ...] = ("increase", "decrease")
STATUS_NAMES: tuple[str, ...] = ("on_track", "at_risk", "off_track")
STATUS_LABELS: dict[str, str] = {
    "on_track": N_("On track"),
    "at_risk": N_("At risk"),
    "off_track": N_("Off track"),
}

# The status rule's thresholds (see ``status``). Gaps are expected minus actual progress (0..1).
AT_RISK_GAP = 0.10
OFF_TRACK_GAP = 0.25
# Confidence 0-10: 7 or more is fine, 4-6 is at risk, 3 or less is off track.
AT_RISK_CONFIDENCE = 6
OFF_TRACK_CONFIDENCE = 3
# A key result "loses confidence" when its latest check-in is this many points below the previous one.
CONFIDENCE_DROP = 2
# A key result is due an update when it has had no check-in for this many days.
CHECK_IN_INTERVAL_DAYS = 7
# Quadrant: WHO-5 below 50 is the published cut-off for poor wellbeing (Topp et al. 2015).
from analytics.norms import WHO5_CUTOFF as WELLBEING_CUT_OFF  # noqa: E402  (one constant)

STATUS_RULE = (
    f"Status compares progress with the share of the period that has passed (expected progress), "
    f"and looks at the latest confidence (0-10). **Off track** if progress is more than "
    f"{OFF_TRACK_GAP:.0%} behind expected, or confidence is {OFF_TRACK_CONFIDENCE} or lower. "
    f"**At risk** if progress is more than {AT_RISK_GAP:.0%} behind expected, or confidence is "
    f"{AT_RISK_CONFIDENCE} or lower. Otherwise **on track**. A manager can override the status "
    f"with a reason, which is kept in the audit log."
)


class OutcomeError(ValueError):
    """Bad outcome input (objective, key result or check-in); the message is safe to show."""


@dataclass(frozen=True)
class Status:
    """A status with the sentence that explains how it was reached (or why it was overridden)."""

    name: StatusName
    explanation: str
    overridden: bool = False

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.name]


def validate_key_result(*, baseline: float, target: float, direction: str, weight: float = 1.0) -> None:
    """Refuse a key result whose progress could not be measured, with a message a manager understands."""
    for name, number in (("Baseline", baseline), ("Target", target), ("Weight", weight)):
        if not isinstance(number, int | float) or not math.isfinite(number):
            raise OutcomeError(f"{name} must be a number.")
    if direction not in DIRECTIONS:
        raise OutcomeError(f"Direction must be 'increase' or 'decrease', not {direction!r}.")
    if baseline == target:
        raise OutcomeError(
            "Baseline and target are the same, so progress cannot be measured: set a target that "
            "differs from where you start."
        )
    if direction == "increase" and target < baseline:
        raise OutcomeError(
            f"The target ({target:g}) is below the baseline ({baseline:g}) but the direction is "
            "'increase': choose 'decrease' or swap them."
        )
    if direction == "decrease" and target > baseline:
        raise OutcomeError(
            f"The target ({target:g}) is above the baseline ({baseline:g}) but the direction is "
            "'decrease': choose 'increase' or swap them."
        )
    if weight <= 0:
        raise OutcomeError("Weight must be more than 0.")


def validate_confidence(confidence: int) -> None:
    if isinstance(confidence, bool) or not isinstance(confidence, int) or not 0 <= confidence <= 10:
        raise OutcomeError("Confidence must be a whole number from 0 to 10.")


def key_result_progress(baseline: float, target: float, direction: str, value: float | None) -> float:
    """How far ``value`` has moved from baseline toward target, clamped to 0..1.

    A key result with no check-in yet (``value`` None) has made no progress. Works the same for
    decreasing targets (e.g. backlog 120 -> 80: a value of 100 is half way). Overshooting counts as
    done (1.0); moving the wrong way counts as 0.
    """
    validate_key_result(baseline=baseline, target=target, direction=direction)
    if value is None:
        return 0.0
    if not math.isfinite(value):
        raise OutcomeError("A check-in value must be a number.")
    share = (value - baseline) / (target - baseline)
    return min(1.0, max(0.0, share))


def objective_progress(key_results: Sequence[tuple[float, float]]) -> float | None:
    """Weighted mean of (progress, weight) pairs; None for an objective without key results."""
    total_weight = sum(weight for _, weight in key_results)
    if not key_results or total_weight <= 0:
        return None
    return sum(progress * weight for progress, weight in key_results) / total_weight


def weighted_confidence(key_results: Sequence[tuple[int | None, float]]) -> float | None:
    """Weighted mean of the latest confidences that exist; None when nothing has been checked in."""
    known = [(confidence, weight) for confidence, weight in key_results if confidence is not None]
    total_weight = sum(weight for _, weight in known)
    if not known or total_weight <= 0:
        return None
    return sum(confidence * weight for confidence, weight in known) / total_weight


def expected_progress(starts_on: date, ends_on: date, today: date) -> float:
    """The share of the period from ``starts_on`` to ``ends_on`` that has passed on ``today`` (0..1)."""
    if ends_on <= starts_on:
        raise OutcomeError("The end date must be after the start date.")
    share = (today - starts_on).days / (ends_on - starts_on).days
    return min(1.0, max(0.0, share))


def status(progress: float, expected: float, confidence: float | None) -> Status:
    """On track / at risk / off track from progress against expectation and from confidence.

    THE status rule (every page and export uses it). ``confidence`` is None when nothing has been
    checked in yet; then only progress counts. Gaps are compared after rounding to 6 decimals so
    that 0.5 - 0.4 counts as exactly 10 percentage points.
    """
    gap = round(expected - progress, 6)
    pace = f"Progress {progress:.0%} against {expected:.0%} expected by now " + (
        f"({gap:.0%} behind)" if gap > 0 else "(on pace or ahead)"
    )
    said = "no confidence recorded yet" if confidence is None else f"confidence {confidence:.1f}/10"
    low_confidence = confidence is not None and round(confidence, 6) <= OFF_TRACK_CONFIDENCE
    some_doubt = confidence is not None and round(confidence, 6) <= AT_RISK_CONFIDENCE
    if gap > OFF_TRACK_GAP or low_confidence:
        why = []
        if gap > OFF_TRACK_GAP:
            why.append(f"more than {OFF_TRACK_GAP:.0%} behind")
        if low_confidence:
            why.append(f"confidence {OFF_TRACK_CONFIDENCE} or lower")
        return Status("off_track", f"Off track: {pace}; {said} ({' and '.join(why)}).")
    if gap > AT_RISK_GAP or some_doubt:
        why = []
        if gap > AT_RISK_GAP:
            why.append(f"more than {AT_RISK_GAP:.0%} behind")
        if some_doubt:
            why.append(f"confidence {AT_RISK_CONFIDENCE} or lower")
        return Status("at_risk", f"At risk: {pace}; {said} ({' and '.join(why)}).")
    return Status(
        "on_track",
        f"On track: {pace}; {said} (within {AT_RISK_GAP:.0%} of expected and confidence above "
        f"{AT_RISK_CONFIDENCE}, or not yet given).",
    )


def apply_override(computed: Status, override: str | None, reason: str | None) -> Status:
    """The status to show: the manager's override (with its reason) if there is one."""
    if override is None:
        return computed
    if override not in STATUS_NAMES:
        raise OutcomeError(f"Unknown status {override!r}.")
    return Status(
        override,  # type: ignore[arg-type]
        f"Set to {STATUS_LABELS[override]} by a manager: {reason or 'no reason given'} "
        f"(computed: {computed.label}).",
        overridden=True,
    )


def losing_confidence(confidences: Sequence[int]) -> bool:
    """True when the latest confidence (last item) fell CONFIDENCE_DROP or more below the one before."""
    if len(confidences) < 2:
        return False
    return confidences[-2] - confidences[-1] >= CONFIDENCE_DROP


def due_update(last_checked_on: date | None, today: date) -> bool:
    """A key result is due an update when it has had no check-in in the last CHECK_IN_INTERVAL_DAYS."""
    if last_checked_on is None:
        return True
    return (today - last_checked_on).days >= CHECK_IN_INTERVAL_DAYS


def delivery_score(progress: float | None, expected: float) -> float | None:
    """Progress minus expected progress (negative = behind); None without key results."""
    if progress is None:
        return None
    return progress - expected


def quadrant(delivery: float, wellbeing: float) -> QuadrantName:
    """Where a team sits on outcome delivery (progress minus expected) against WHO-5 wellbeing.

    Delivering means no more than AT_RISK_GAP behind expected; well means at or above the WHO-5
    cut-off of 50.
    """
    delivering = round(delivery, 6) >= -AT_RISK_GAP
    well = wellbeing >= WELLBEING_CUT_OFF
    if delivering and well:
        return "thriving"
    if delivering:
        return "delivering at a cost"
    if well:
        return "coasting"
    return "struggling"


QUADRANT_RULE = (
    f"Delivery is objective progress minus expected progress, averaged over the team's live "
    f"objectives; a team counts as delivering when it is no more than {AT_RISK_GAP:.0%} behind. "
    f"Wellbeing is the team's latest released WHO-5 score (0-100); {WELLBEING_CUT_OFF:g} is the "
    f"published cut-off for poor wellbeing. Thriving: delivering and well. Delivering at a cost: "
    f"delivering, wellbeing below the cut-off. Coasting: well, not delivering. Struggling: neither."
)


@dataclass(frozen=True)
class QuadrantPoint:
    """One team on the quadrant, or why it is not plotted (never at a guessed value)."""

    team: str
    delivery: float | None
    wellbeing: float | None
    quadrant: QuadrantName | None
    note: str


def quadrant_point(team: str, delivery: float | None, released: Sequence[dict]) -> QuadrantPoint:
    """Place a team from its delivery and the privacy gate's WHO-5 rows (``team_series`` records).

    Uses the latest row the gate released for the team itself (its own week or pooled over weeks);
    a figure rolled up into a parent unit describes the parent, not the team, so the team is then
    shown as suppressed rather than plotted at its parent's value.
    """
    latest_own = None
    latest_any = None
    for row in released:
        if row.get("suppressed") or row.get("mean") is None or row.get("mean") != row.get("mean"):
            continue
        latest_any = row
        if not str(row.get("basis", "")).startswith("rolled up"):
            latest_own = row
    if delivery is None:
        return QuadrantPoint(team, None, None, None, "no live objectives with key results")
    if latest_own is None:
        why = (
            f"wellbeing only released {latest_any['basis']}"
            if latest_any is not None
            else "wellbeing suppressed (too few responses)"
        )
        return QuadrantPoint(team, delivery, None, None, why)
    wellbeing = float(latest_own["mean"])
    basis = str(latest_own.get("basis", "team"))
    note = "" if basis == "team" else basis
    return QuadrantPoint(team, delivery, wellbeing, quadrant(delivery, wellbeing), note)


# WHO-5: a change of 10 points (on 0-100) is the published minimal important difference.
WELLBEING_MID = 10.0
EFFECT_WEEKS = 4


@dataclass(frozen=True)
class ActionEffect:
    """Wellbeing and delivery before and after an action ("you said, we did" and did it help)."""

    wellbeing_before: float | None
    wellbeing_after: float | None
    delivery_before: float | None
    delivery_after: float | None

    @property
    def wellbeing_change(self) -> float | None:
        if self.wellbeing_before is None or self.wellbeing_after is None:
            return None
        return self.wellbeing_after - self.wellbeing_before

    @property
    def delivery_change(self) -> float | None:
        if self.delivery_before is None or self.delivery_after is None:
            return None
        return self.delivery_after - self.delivery_before

    def describe(self) -> str:
        parts = []
        change = self.wellbeing_change
        if change is None:
            parts.append("wellbeing: not enough released figures on both sides yet")
        else:
            size = "a meaningful" if abs(change) >= WELLBEING_MID else "less than a meaningful"
            parts.append(
                f"wellbeing {self.wellbeing_before:.1f} → {self.wellbeing_after:.1f} ({change:+.1f}, "
                f"{size} change of {WELLBEING_MID:g} points)"
            )
        delivery = self.delivery_change
        if delivery is None:
            parts.append("delivery: no objective history on both sides yet")
        else:
            parts.append(
                f"delivery {self.delivery_before:+.0%} → {self.delivery_after:+.0%} against expected "
                f"({100 * delivery:+.0f} points)"
            )
        return "; ".join(parts)


def action_effect(
    week: str, released: Sequence[dict], history: Sequence[dict], weeks: int = EFFECT_WEEKS
) -> ActionEffect:
    """Compare the ``weeks`` weeks before the action's ISO ``week`` with the weeks from it on.

    Wellbeing: the mean of the gate's released figures for the team itself (``team_series``
    records; suppressed and rolled-up rows are left out). Delivery: objective progress minus
    expected (``team_delivery`` history records of kind "objective"), averaged over objectives, at
    the last week ending before the action and at the latest week.
    """
    own = [
        row
        for row in released
        if not row.get("suppressed")
        and row.get("mean") is not None
        and row.get("mean") == row.get("mean")
        and not str(row.get("basis", "")).startswith("rolled up")
    ]
    before = [float(r["mean"]) for r in own if r["week"] < week][-weeks:]
    after = [float(r["mean"]) for r in own if r["week"] >= week][:weeks]
    objective_rows = [
        row for row in history if row.get("kind") == "objective" and row.get("progress") is not None
    ]

    def delivery_at(rows: list[dict]) -> float | None:
        if not rows:
            return None
        last = max(row["week_ending"] for row in rows)
        at = [row["progress"] - row["expected"] for row in rows if row["week_ending"] == last]
        return sum(at) / len(at)

    action_monday = _monday(week)
    return ActionEffect(
        wellbeing_before=sum(before) / len(before) if before else None,
        wellbeing_after=sum(after) / len(after) if after else None,
        delivery_before=delivery_at([r for r in objective_rows if r["week_ending"] < action_monday]),
        delivery_after=delivery_at([r for r in objective_rows if r["week_ending"] >= action_monday]),
    )


def _monday(week: str) -> date:
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)
