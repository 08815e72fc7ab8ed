"""Access and validation for objective writes: who may change a team's objectives, and the
checks every value passes (with messages safe to show) before anything touches the session."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date

from sqlmodel import Session, col, select

from analytics.outcomes import (
    OutcomeError,
)
from models.access import AccessDenied, Viewer, managed_team_ids
from models.org import Unit
from models.outcomes import KeyResult, Objective, ObjectiveTeam
from models.text_rules import unsafe_character

WRITE_DENIED = "You can only change objectives of teams you manage."


def require_manages(session: Session, viewer: Viewer, team_ids: Iterable[int]) -> None:
    """Writes: the viewer must manage every team named (HR and admins only read)."""
    managed = managed_team_ids(session, viewer)
    if not set(team_ids) <= managed:
        raise AccessDenied(WRITE_DENIED)


def objective_team_ids(session: Session, objective_id: int) -> list[int]:
    rows = session.exec(select(ObjectiveTeam.team_id).where(ObjectiveTeam.objective_id == objective_id))
    return sorted(rows.all())


def objective_for_write(session: Session, viewer: Viewer, objective_id: int) -> Objective:
    """The objective, if the viewer manages one of its teams (a shared objective is co-owned)."""
    objective = session.get(Objective, objective_id)
    if objective is None:
        raise OutcomeError(f"There is no objective {objective_id}.")
    if not set(objective_team_ids(session, objective_id)) & managed_team_ids(session, viewer):
        raise AccessDenied(WRITE_DENIED)
    return objective


def key_result_for_write(
    session: Session, viewer: Viewer, key_result_id: int
) -> tuple[KeyResult, Objective]:
    key_result = session.get(KeyResult, key_result_id)
    if key_result is None:
        raise OutcomeError(f"There is no key result {key_result_id}.")
    return key_result, objective_for_write(session, viewer, key_result.objective_id)


# ---------------------------------------------------------------------------------------------
# Validation (before anything touches the session)

MULTILINE_FIELDS = frozenset({"Description", "Note", "Reason"})  # the rest take one line


def clean_text(value: str, *, name: str, max_length: int, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise OutcomeError(f"{name} is required.")
    if len(text) > max_length:
        raise OutcomeError(f"{name} is too long ({len(text)} characters; at most {max_length}).")
    why = unsafe_character(text, multiline=name in MULTILINE_FIELDS)
    if why:
        raise OutcomeError(f"{name} {why}.")
    return text


def check_period(starts_on: date, ends_on: date) -> None:
    if not isinstance(starts_on, date) or not isinstance(ends_on, date):
        raise OutcomeError("Start and end must be dates.")
    if ends_on <= starts_on:
        raise OutcomeError("The end date must be after the start date.")


def check_due_date(due_date: date, starts_on: date, ends_on: date) -> None:
    if not isinstance(due_date, date):
        raise OutcomeError("The due date must be a date.")
    if not starts_on < due_date <= ends_on:
        raise OutcomeError(
            f"The due date must fall after the objective starts ({starts_on:%d %b %Y}) and no later "
            f"than it ends ({ends_on:%d %b %Y})."
        )


def check_teams(session: Session, team_ids: Sequence[int]) -> list[int]:
    unique = sorted(set(team_ids))
    if not unique:
        raise OutcomeError("Choose at least one team.")
    found = session.exec(select(Unit.id).where(col(Unit.id).in_(unique), Unit.kind == "team")).all()
    missing = sorted(set(unique) - set(found))
    if missing:
        raise OutcomeError(f"Unknown team(s): {', '.join(map(str, missing))}.")
    return unique


def checked_number(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise OutcomeError(f"{name} must be a number.")
    return float(value)
