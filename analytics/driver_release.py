"""Driver analysis from the database, released only where it says nothing about a person.

Driver analysis needs person-level rows (responses), which only analytics reads. The rules:

- **Closed, released periods only**: the responses of the organisation's latest released quarter
  (a frozen period; drivers are recomputed only when a new quarter is released, as Peakon does).
- **Groups of at least ``DRIVER_MIN_PEOPLE`` (30) distinct people**, taken from the gate's own
  released count for the unit and quarter (its participation cell: exact from 10, so a suppressed
  or banded cell never qualifies). Why 30: a regression on a handful of people is itself a
  disclosure surface (each importance moves with one person's answers), and 30 is the strictest
  vendor figure (TalentMap 30, Culture Amp more than 25, Glint 20). Never computed for a team.
- **A driver is withheld** when fewer than ``DRIVER_MIN_SPREAD`` answers in its busiest week differ
  from its most common value (its importance would describe those few people), or when it was
  answered too rarely to stand on ``DRIVER_MIN_PEOPLE`` people of its own.
- **Released**: importance shares and their intervals, with the unit's released construct scores
  beside them (the priority matrix). Never a coefficient, correlation or anything per person.

Delivery (objective progress) has no person-level value, and relating it to drivers at team level
would need dozens of released teams per quarter; it is left out (see docs/INSIGHT.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlmodel import Session, col, select

from analytics.aggregates import OrgTree, load_tree
from analytics.drivers import DEFAULT_BOOTSTRAP, DriverError, DriverResult, analyse
from analytics.privacy.rules import PARTICIPATION
from analytics.privacy.views import (
    released_periods,
    require_team_view,
    require_unit_view,
    stored_cells,
)
from models import calendar
from models.access import Viewer
from models.pulse import PulseResponse

DRIVER_MIN_PEOPLE = 30
DRIVER_MIN_SPREAD = 10
DRIVER_PERIOD: calendar.PeriodKind = "quarter"
OUTCOME = "wellbeing"
# The HSE Management Standards constructs, then the hybrid working pattern.
HSE_DRIVERS = (
    "demands",
    "control",
    "manager_support",
    "peer_support",
    "relationships",
    "role",
    "change",
)
HOME_SHARE = "home_share"
DRIVER_LABELS = {
    "demands": "Demands",
    "control": "Control",
    "manager_support": "Manager support",
    "peer_support": "Peer support",
    "relationships": "Relationships",
    "role": "Role",
    "change": "Change",
    HOME_SHARE: "Share of days at home",
}
# Drivers where a higher score means worse conditions (the priority matrix reads "low score first"
# as "worst conditions first"). The HSE constructs are scored so that higher is better.
WORSE_WHEN_HIGHER: frozenset[str] = frozenset()


@dataclass(frozen=True)
class UnitDrivers:
    """What may be shown about one unit's drivers for one released quarter."""

    unit_id: int
    unit_name: str
    period: str | None
    people: str | None  # the released count
    result: DriverResult | None
    scores: dict[str, float] = field(default_factory=dict)  # the unit's released scores
    withheld: dict[str, str] = field(default_factory=dict)  # driver -> why not released
    reason: str | None = None  # why nothing is released

    @property
    def released(self) -> bool:
        return self.result is not None

    def records(self) -> list[dict]:
        """One row per released driver: importance, interval and the unit's released score."""
        if self.result is None:
            return []
        return [
            {
                "driver": d.driver,
                "label": DRIVER_LABELS.get(d.driver, d.driver),
                "importance": d.importance,
                "low": d.low,
                "high": d.high,
                "score": self.scores.get(d.driver),
            }
            for d in self.result.drivers
        ]

    def to_dict(self) -> dict:
        """The CLI's JSON: the table interface's keys, plus what was withheld and why."""
        base = (
            self.result.to_dict()
            if self.result
            else {"outcome": OUTCOME, "n": None, "r2": None, "drivers": []}
        )
        base.pop("n", None)
        exact = self.people is not None and self.people.isdigit()
        return {
            "outcome": base.pop("outcome"),
            "n": int(self.people) if exact else self.people,  # type: ignore[arg-type]
            **base,
            "unit": self.unit_name,
            "period": self.period,
            "scores": self.scores,
            "withheld": self.withheld,
            "reason": self.reason,
            "min_people": DRIVER_MIN_PEOPLE,
        }


def _largest_week(frame: pd.DataFrame, mask: pd.Series) -> int:
    """A lower bound on the distinct people behind the rows in ``mask``: one answer a week each."""
    counts = frame.loc[mask, "week"].value_counts()
    return int(counts.max()) if not counts.empty else 0


def response_table(session: Session, *, team_ids: Sequence[int], period: str) -> pd.DataFrame:
    """Person-week rows of a released period: team, week, outcome, drivers (analytics only)."""
    weeks = calendar.weeks_in(period)
    rows = session.exec(
        select(
            PulseResponse.team_id,
            PulseResponse.week,
            PulseResponse.scores,
            PulseResponse.days_home,
            PulseResponse.days_office,
            PulseResponse.days_site,
        ).where(col(PulseResponse.team_id).in_(list(team_ids)), col(PulseResponse.week).in_(weeks))
    ).all()
    records = []
    for team_id, week, scores, home, office, site in rows:
        days = (home or 0) + (office or 0) + (site or 0)
        record = {
            "team": int(team_id),
            "week": str(week),
            HOME_SHARE: (home or 0) / days if days else None,
        }
        for name in (OUTCOME, *HSE_DRIVERS):
            value = (scores or {}).get(name)
            record[name] = None if value is None else float(value)
        records.append(record)
    return pd.DataFrame(records, columns=["team", "week", HOME_SHARE, OUTCOME, *HSE_DRIVERS])


def usable_drivers(frame: pd.DataFrame) -> tuple[list[str], dict[str, str]]:
    """The drivers whose importance may be released, and why the others may not."""
    usable: list[str] = []
    withheld: dict[str, str] = {}
    for name in (*HSE_DRIVERS, HOME_SHARE):
        answered = frame[name].notna() & frame[OUTCOME].notna()
        if not answered.any():
            continue
        if not answered.all() and _largest_week(frame, answered) < DRIVER_MIN_PEOPLE:
            withheld[name] = f"answered by too few people (fewer than {DRIVER_MIN_PEOPLE})"
            continue
        values = frame.loc[answered, name].round(6)
        off_mode = answered & (frame[name].round(6) != values.mode().iloc[0])
        if _largest_week(frame, off_mode) < DRIVER_MIN_SPREAD:
            withheld[name] = (
                f"fewer than {DRIVER_MIN_SPREAD} answers differ from the most common one: its "
                "importance would describe those few people"
            )
            continue
        usable.append(name)
    return usable, withheld


def unit_drivers(
    *,
    session: Session,
    viewer: Viewer,
    unit_id: int | None = None,
    period: str | None = None,
    resamples: int = DEFAULT_BOOTSTRAP,
    organisation_id: int | None = None,
) -> UnitDrivers:
    """The unit's drivers of wellbeing for a released quarter (default: the organisation, latest).

    Access as for the unit's figures (HR anywhere, a manager within their units)."""
    tree = load_tree(session)
    if unit_id is None:
        roots = [organisation_id] if organisation_id is not None else tree.roots
        if not roots:
            raise LookupError("There is no organisation in the database yet.")
        unit_id = roots[0]
    if unit_id not in tree.units:
        raise LookupError(f"There is no unit with id {unit_id}.")
    require_unit_view(session, viewer, unit_id)
    return _unit_drivers(session, tree, unit_id, period, resamples)


def team_priorities(
    *,
    session: Session,
    viewer: Viewer,
    team_id: int,
    resamples: int = DEFAULT_BOOTSTRAP,
    drivers_of: Callable[[int], UnitDrivers] | None = None,
) -> UnitDrivers:
    """For a team's page: the importances of the nearest unit above it large enough to have them
    (a team never has its own), beside the *team's* released scores for that quarter. Importance
    is an organisation-level finding, shown to managers as Glint does for small teams.
    ``drivers_of`` lets a caller share one unit's computed drivers between its teams (a cache)."""
    require_team_view(session, viewer, team_id)
    tree = load_tree(session)
    if team_id not in tree.units:
        raise LookupError(f"There is no unit with id {team_id}.")
    found = None
    for unit_id in tree.ancestors(team_id):
        found = (
            drivers_of(unit_id)
            if drivers_of is not None
            else _unit_drivers(session, tree, unit_id, None, resamples)
        )
        if found.released:
            break
    if found is None or not found.released:
        return UnitDrivers(
            team_id,
            tree.units[team_id].name,
            found.period if found else None,
            None,
            None,
            reason=f"no unit above this team has drivers released (it needs {DRIVER_MIN_PEOPLE} people)",
        )
    scores = _released_scores(session, team_id, found.period) if found.period else {}
    return UnitDrivers(
        found.unit_id,
        found.unit_name,
        found.period,
        found.people,
        found.result,
        scores,
        found.withheld,
    )


def _released_scores(session: Session, unit_id: int, period: str) -> dict[str, float]:
    cells = stored_cells(session, periods=[period], unit_ids=[unit_id])
    released = cells[~cells["suppressed"].astype(bool)]
    return {
        str(row.construct_id): float(row.mean)
        for row in released.itertuples(index=False)
        if row.construct_id != PARTICIPATION and row.mean is not None and not pd.isna(row.mean)
    }


def _unit_drivers(
    session: Session, tree: OrgTree, unit_id: int, period: str | None, resamples: int
) -> UnitDrivers:
    name = tree.units[unit_id].name
    quarters = released_periods(session, organisation_id=tree.root_of(unit_id), kind=DRIVER_PERIOD)
    if period is None:
        period = quarters[-1] if quarters else None
    if period is None or period not in quarters:
        reason = (
            "no released quarter yet: drivers need one"
            if not quarters
            else f"{period} is not a released quarter (released: {', '.join(quarters)})"
        )
        return UnitDrivers(unit_id, name, period, None, None, reason=reason)
    cells = stored_cells(session, periods=[period], unit_ids=[unit_id], constructs=[PARTICIPATION])
    count = cells.loc[~cells["suppressed"].astype(bool), "n"]
    people = str(count.iloc[0]) if not count.empty and count.iloc[0] is not None else None
    scores = _released_scores(session, unit_id, period)
    if people is None or "-" in people or int(people) < DRIVER_MIN_PEOPLE:
        return UnitDrivers(
            unit_id,
            name,
            period,
            people,
            None,
            scores,
            reason=f"drivers are shown only for groups of at least {DRIVER_MIN_PEOPLE} people "
            f"in {period}",
        )
    teams = sorted(tree.subtree(unit_id))
    frame = response_table(session, team_ids=teams, period=period)
    usable, withheld = usable_drivers(frame)
    complete = frame.dropna(subset=[OUTCOME, *usable])
    if len(usable) < 2 or _largest_week(complete, complete[OUTCOME].notna()) == 0:
        return UnitDrivers(
            unit_id, name, period, people, None, scores, withheld, reason="too few drivers answered"
        )
    try:
        result = analyse(
            complete,
            outcome=OUTCOME,
            drivers=usable,
            group="team" if complete["team"].nunique() > 1 else None,
            resamples=resamples,
        )
    except DriverError as error:
        return UnitDrivers(unit_id, name, period, people, None, scores, withheld, reason=str(error))
    return UnitDrivers(unit_id, name, period, people, result, scores, withheld)


def priority(records: Sequence[dict], *, scale_max: float = 5.0) -> list[dict]:
    """Priority order: high importance and low score first (importance share x score gap), for
    drivers whose interval lies above zero (the others show no clear link with wellbeing)."""
    shown = [r for r in records if r.get("score") is not None and r["low"] > 0]
    total = sum(r["importance"] for r in shown) or 1.0
    ranked = []
    for record in shown:
        gap = (scale_max - record["score"]) / (scale_max - 1)
        ranked.append({**record, "priority": float(np.round(record["importance"] / total * gap, 4))})
    return sorted(ranked, key=lambda r: -r["priority"])
