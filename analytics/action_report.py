"""Actions and their measured effects, read from the store of released figures.

``analytics.action_effects`` holds the method; this module feeds it released monthly team means
(nothing else: a team suppressed in a month contributes nothing for it) and the organisation's
actions, with access checked: a team's effect for whoever may see the team's figures ("you said,
we did" included), every action of the organisation for HR.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session, col, select

from analytics.action_effects import Effect, MonthCell, action_month, did_effect, windows
from analytics.aggregates import OrgTree, load_tree
from analytics.privacy.views import released_periods, require_hr, require_team_view, stored_cells
from models.access import Viewer
from models.csv_safe import frame_to_csv
from models.outcomes import Action

MEASURE = "wellbeing"


@dataclass(frozen=True)
class ReleasedMonths:
    """One organisation's released months and every team's released monthly means."""

    months: list[str]
    cells: dict[int, list[MonthCell]]
    teams: list[int]


def released_months(
    session: Session, tree: OrgTree, organisation_id: int, construct: str = MEASURE
) -> ReleasedMonths:
    months = released_periods(session, organisation_id=organisation_id, kind="month")
    teams = [u for u in sorted(tree.subtree(organisation_id)) if tree.units[u].kind == "team"]
    found = stored_cells(
        session, organisation_ids=[organisation_id], kind="month", unit_ids=teams, constructs=[construct]
    )
    cells: dict[int, list[MonthCell]] = {team: [] for team in teams}
    for row in found.itertuples(index=False):
        if row.suppressed or row.mean is None or pd.isna(row.mean) or row.n is None:
            continue
        cells.setdefault(int(row.unit_id), []).append(
            MonthCell(int(row.unit_id), str(row.period), float(row.mean), str(row.n))
        )
    return ReleasedMonths(months, cells, teams)


def _actions(session: Session, team_ids: Sequence[int]) -> list[Action]:
    if not team_ids:
        return []
    return list(
        session.exec(
            select(Action)
            .where(col(Action.team_id).in_(list(team_ids)))
            .order_by(col(Action.taken_on), col(Action.id))
        ).all()
    )


def _effect(action: Action, data: ReleasedMonths, actions: Sequence[Action]) -> Effect:
    """The action's effect against every team with no action from its first month before to its
    last month after (acting teams would carry effects of their own into the comparison)."""
    month = action_month(action.taken_on)
    before, after = windows(month, data.months)
    start, end = (before or [month])[0], (after or [month])[-1]
    acting = {a.team_id for a in actions if start <= action_month(a.taken_on) <= end}
    comparison = {t: data.cells.get(t, []) for t in data.teams if t not in acting}
    return did_effect(
        data.cells.get(action.team_id, []), comparison, month=month, released_months=data.months
    )


def team_action_effects(*, session: Session, viewer: Viewer, team_id: int) -> dict[int, Effect]:
    """Action id -> its measured effect on wellbeing, for one team's actions."""
    require_team_view(session, viewer, team_id)
    tree = load_tree(session)
    organisation_id = tree.root_of(team_id)
    data = released_months(session, tree, organisation_id)
    actions = _actions(session, data.teams)
    return {a.id: _effect(a, data, actions) for a in actions if a.team_id == team_id and a.id}


def actions_overview(
    *, session: Session, viewer: Viewer, organisation_id: int | None = None
) -> pd.DataFrame:
    """Every action of the organisation with its status and measured effect (HR; exportable)."""
    require_hr(viewer)
    tree = load_tree(session)
    roots = [organisation_id] if organisation_id is not None else tree.roots
    rows: list[dict] = []
    for root in roots:
        data = released_months(session, tree, root)
        actions = _actions(session, sorted(tree.subtree(root)))
        for action in actions:
            effect = _effect(action, data, actions)
            parent = tree.parent(action.team_id)
            rows.append(
                {
                    "action_id": action.id,
                    "unit": tree.units[parent].name if parent is not None else "",
                    "team": tree.units[action.team_id].name,
                    "title": action.title,
                    "in_response_to": action.trigger,
                    "status": action.status.replace("_", " "),
                    "taken_on": action.taken_on,
                    "effect": effect.verdict,
                    "estimate": effect.to_dict()["estimate"],
                    "low": effect.to_dict()["low"],
                    "high": effect.to_dict()["high"],
                    "comparison_teams": effect.comparison_teams,
                    "summary": effect.describe(),
                }
            )
    return pd.DataFrame(rows, columns=OVERVIEW_COLUMNS)


OVERVIEW_COLUMNS = [
    "action_id",
    "unit",
    "team",
    "title",
    "in_response_to",
    "status",
    "taken_on",
    "effect",
    "estimate",
    "low",
    "high",
    "comparison_teams",
    "summary",
]


def overview_csv(frame: pd.DataFrame) -> str:
    """The overview as CSV that is safe in a spreadsheet (titles are typed by managers): the one
    spreadsheet-safe writer, ``models.csv_safe``."""
    return frame_to_csv(frame)
