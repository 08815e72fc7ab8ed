"""Demo actions ("you said, we did") for the demo council, placed so their effects can be measured.

Kept apart from the demo generator (``surveys.demo``): it runs after the demo's closed periods are
released, and dates each action so that at least two released months lie on each side of it
(the comparison with teams that took no action needs them). One recent action is only planned,
so the demo also shows an effect that is not measurable yet.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import calendar
from models.base import week_monday
from models.db import read_session, write_session
from models.org import RoleGrant, Unit
from models.outcomes import Action
from models.releases import PeriodRelease, ReleasedFigure

DEMO_ACTIONS = (
    ("Protected focus time on Fridays", "strain flag", "done"),
    ("Monthly one-to-ones restored", "driver: Manager support", "done"),
    ("Rota review with the whole team", "driver: Demands", "in_progress"),
)
PLANNED = ("Team day to agree how we hand over cases", "wellbeing trend", "planned")


def _monday_in(month: str) -> date:
    """The Monday of the second week of a month (its Thursday is safely inside the month)."""
    weeks = calendar.weeks_in(month)
    return week_monday(weeks[min(1, len(weeks) - 1)])


def _released_both_sides(session: Session, months: list[str], acted_in: str) -> set[int]:
    """Teams whose own wellbeing is released in two months before ``acted_in`` and two after."""
    before = [m for m in months if m < acted_in][-3:]
    after = [m for m in months if m > acted_in][:2]
    rows = session.exec(
        select(ReleasedFigure.unit_id, ReleasedFigure.period).where(
            ReleasedFigure.construct_id == "wellbeing",
            ReleasedFigure.work_pattern == "",
            col(ReleasedFigure.suppressed).is_(False),
            col(ReleasedFigure.period).in_(before + after),
        )
    ).all()
    found: dict[int, list[str]] = {}
    for unit_id, period in rows:
        found.setdefault(int(unit_id), []).append(str(period))
    return {
        unit_id
        for unit_id, periods in found.items()
        if sum(p in before for p in periods) >= 2 and sum(p in after for p in periods) >= 2
    }


def seed_demo_actions(engine: Engine, *, strained_team_codes: tuple[str, ...] = ()) -> str:
    """Record the demo actions; returns a line saying what was recorded (or why nothing was)."""
    with read_session(engine) as session:
        months = sorted(
            set(session.exec(select(PeriodRelease.period).where(PeriodRelease.kind == "month")).all())
        )
        teams = session.exec(
            select(Unit.id, Unit.code).where(Unit.kind == "team").order_by(col(Unit.code))
        ).all()
        managers = dict(
            session.exec(
                select(RoleGrant.unit_id, RoleGrant.person_id).where(RoleGrant.role == "manager")
            ).all()
        )
        acted_in = months[-3] if len(months) >= 5 else ""  # two released months after, three before
        measurable = _released_both_sides(session, months, acted_in) if acted_in else set()
    teams = [(team_id, code) for team_id, code in teams if team_id in measurable]
    if not acted_in or len(teams) < len(DEMO_ACTIONS) + 1:
        return "Demo actions: not recorded (too few released months or teams)."
    codes = {code: team_id for team_id, code in teams}
    strained = [codes[c] for c in strained_team_codes if c in codes]
    others = [team_id for team_id, code in teams if code not in strained_team_codes]
    chosen = (strained[:1] + others[1:])[: len(DEMO_ACTIONS)]  # others[0] gets the planned one
    taken_on = _monday_in(acted_in)
    with write_session(engine) as session:
        for team_id, (title, trigger, status) in zip(chosen, DEMO_ACTIONS, strict=False):
            session.add(
                Action(
                    team_id=team_id,
                    title=title,
                    trigger=trigger,
                    status=status,
                    taken_on=taken_on,
                    created_by_id=managers.get(team_id),
                )
            )
        title, trigger, status = PLANNED
        session.add(
            Action(
                team_id=others[0],
                title=title,
                trigger=trigger,
                status=status,
                taken_on=_monday_in(months[-1]) + timedelta(days=7),
                created_by_id=managers.get(others[0]),
            )
        )
    return f"Demo actions: {len(chosen) + 1} recorded ({len(chosen)} in {acted_in}, measurable)."
