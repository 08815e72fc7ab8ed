"""What the objective pages and exports read: plain views built from the stored rows, with
status, progress and confidence already scored, so pages never score anything themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from analytics.outcomes import (
    Status,
    delivery_score,
)

ACTION_STATUSES: tuple[str, ...] = ("planned", "in_progress", "done")


@dataclass(frozen=True)
class KeyResultView:
    """A key result with its latest check-in, progress, expected progress and status."""

    id: int
    objective_id: int
    objective_title: str
    metric_name: str
    unit: str
    baseline: float
    target: float
    direction: str
    due_date: date
    weight: float
    latest_value: float | None
    latest_confidence: int | None
    latest_checked_on: date | None
    latest_note: str
    previous_confidence: int | None
    progress: float
    expected: float
    status: Status
    losing_confidence: bool
    due_update: bool

    @property
    def slipping(self) -> bool:
        return self.status.name != "on_track"


@dataclass(frozen=True)
class ObjectiveView:
    """An objective with its teams, key results, progress and (possibly overridden) status."""

    id: int
    title: str
    description: str
    starts_on: date
    ends_on: date
    closed: bool
    team_ids: tuple[int, ...]
    team_names: tuple[str, ...]
    progress: float | None
    expected: float
    confidence: float | None
    computed_status: Status
    status: Status
    override_reason: str | None
    key_results: tuple[KeyResultView, ...]

    @property
    def live(self) -> bool:
        return not self.closed and bool(self.key_results)


@dataclass(frozen=True)
class TeamDelivery:
    """A team's objectives today and the weekly history of progress against expected."""

    team_id: int
    team_name: str
    today: date
    objectives: tuple[ObjectiveView, ...]
    history: pd.DataFrame = field(compare=False)

    @property
    def delivery(self) -> float | None:
        """Mean of (progress - expected) over live objectives; None when there are none."""
        scores = [
            delivery_score(objective.progress, objective.expected)
            for objective in self.objectives
            if objective.live and objective.starts_on <= self.today
        ]
        known = [score for score in scores if score is not None]
        return sum(known) / len(known) if known else None


@dataclass(frozen=True)
class ActionView:
    id: int
    team_id: int
    title: str
    description: str
    trigger: str
    key_result_id: int | None
    status: str
    taken_on: date


HISTORY_COLUMNS = ["week_ending", "objective_id", "series", "kind", "progress", "expected"]
