"""Suppression across periods: what makes a month, quarter or year safe beside its shorter periods.

Everything released is a *cell* (a unit's subtree over a period). Within one period, the released
cells of a construct cut the organisation into *blocks*: a released unit's block is its subtree
minus the subtrees of released units below it. The blocks of every period together span exactly
what an attacker can compute by adding and subtracting released figures. Two rules keep that safe:

1. **Nesting** (``nesting_forced``). A shorter period's blocks must each lie inside one block of any
   longer period that holds it. So a unit is released for a longer period only if, in every
   shorter period inside it where it has answers and some unit above it is released, it is
   released itself. Without this, a parent's month minus a sibling's month gives a team's month,
   and that minus the team's released weeks gives its one suppressed week.
2. **Residual** (``residual_violations``). With blocks nested, the only sets an attacker can
   isolate are unions of *residuals*: a block minus the shorter blocks inside it. Each must hold
   no one or at least k people (counted as ``analytics.privacy.inputs`` counts them).

A family of sets in which any two are nested or disjoint (laminar) spans exactly the unions of
its residuals, so with both rules no combination of released figures, across units and across
periods, isolates fewer than k people. Rule 1 is checked before the unit rule runs; rule 2 after,
suppressing the offending unit's longer cell and deciding again until nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping

from analytics.aggregates import OrgTree
from analytics.privacy.inputs import PeriodInputs
from analytics.privacy.rules import REASON_PERIOD
from analytics.privacy.suppression import Vector, decide
from models import calendar

Frozen = Mapping[tuple[int, str, str], bool]  # (unit, period, construct) -> released


def released_units(frozen: Frozen, construct: str) -> tuple[dict[str, set[int]], dict[str, set[int]]]:
    """Per shorter period: the units released, and the units with answers (a stored cell)."""
    released: dict[str, set[int]] = {}
    answered: dict[str, set[int]] = {}
    for (unit_id, period, cell_construct), shown in frozen.items():
        if cell_construct != construct:
            continue
        answered.setdefault(period, set()).add(unit_id)
        if shown:
            released.setdefault(period, set()).add(unit_id)
    return released, answered


def nesting_forced(
    tree: OrgTree, released: Mapping[str, set[int]], answered: Mapping[str, set[int]]
) -> dict[int, str]:
    """Rule 1: units that may not be released for the longer period."""
    forced: dict[int, str] = {}
    for period, units in answered.items():
        shown = released.get(period, set())
        for unit_id in units - shown:
            if unit_id in tree.units and any(a in shown for a in tree.ancestors(unit_id)):
                forced[unit_id] = REASON_PERIOD
    return forced


def _covered(tree: OrgTree, released: Mapping[str, set[int]]) -> dict[int, set[str]]:
    """Per own unit: the weeks of the period in which a shorter released block holds it."""
    covered: dict[int, set[str]] = {}
    for period, units in released.items():
        weeks = calendar.weeks_in(period)
        for unit_id in units:
            if unit_id not in tree.units:
                continue
            for member in tree.subtree(unit_id):
                covered.setdefault(member, set()).update(weeks)
    return covered


def _blocks(tree: OrgTree, reasons: Mapping[int, str | None]) -> dict[int, set[int]]:
    """Per released unit: its block (own units of its subtree not under a released unit below)."""
    blocks: dict[int, set[int]] = {}
    for unit_id in tree.units:
        if reasons.get(unit_id) is not None:
            continue
        block: set[int] = set()
        stack = [unit_id]
        while stack:
            current = stack.pop()
            block.add(current)
            stack.extend(c for c in tree.children[current] if reasons.get(c) is not None)
        blocks[unit_id] = block
    return blocks


def residual_people(
    inputs: PeriodInputs, block: set[int], covered: Mapping[int, set[str]], construct: str | None
) -> int:
    """A lower bound on the people in a block's residual: its answers over the period that no
    shorter released block holds. The largest single week, or the receipts of any period (this one
    or one inside it) that the residual holds whole for some units."""
    rest = {unit_id: set(inputs.weeks) - covered.get(unit_id, set()) for unit_id in block}
    best = 0
    for week in inputs.weeks:
        best = max(
            best, sum(_answers(inputs, u, week, construct) for u, weeks in rest.items() if week in weeks)
        )
    # Receipts count people who answered anything: for a construct, only units whose every
    # answer in the period has it.
    counted = [u for u in block if construct is None or inputs.vector(u, construct)[0] > 0]
    for label in [inputs.period, *longer_than_a_week(inputs.period)]:
        whole = set(calendar.weeks_in(label))
        receipts = sum(inputs.people.get((u, label), 0) for u in counted if whole <= rest[u])
        best = max(best, receipts)
    return best


def _answers(inputs: PeriodInputs, unit_id: int, week: str, construct: str | None) -> int:
    if construct is None:
        return inputs.cap(unit_id, inputs.responses.get((unit_id, week), 0))
    return inputs.cap(unit_id, inputs.sums.get((unit_id, week, construct), (0, 0.0, 0.0))[0])


def longer_than_a_week(period: str) -> list[str]:
    return [p for p in calendar.descendants(period) if calendar.kind_of(p) != "week"]


def decide_period(
    tree: OrgTree,
    own: Mapping[int, Vector],
    k: int,
    inputs: PeriodInputs,
    frozen: Frozen,
    construct: str | None,
) -> dict[int, str | None]:
    """The unit rule for one period and construct, with both rules across periods applied."""
    key = construct if construct is not None else "responses"
    released, answered = released_units(frozen, key)
    forced = nesting_forced(tree, released, answered)
    if not released:
        return decide(tree, own, k, forced)
    covered = _covered(tree, released)
    while True:
        reasons = decide(tree, own, k, forced)
        failing = [
            unit_id
            for unit_id, block in _blocks(tree, reasons).items()
            if 0 < residual_people(inputs, block, covered, construct) < k
        ]
        if not failing:
            return reasons
        for unit_id in failing:
            forced[unit_id] = REASON_PERIOD
