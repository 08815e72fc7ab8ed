"""Property tests of one period's suppression decisions over random organisations (Hypothesis).

For random trees (depth 1-4), team sizes and response patterns in one week, release what the
gate's unit rule (``analytics.privacy.suppression.decide``) and slice rule
(``analytics.privacy.slices``) allow, and play an attacker who knows every released figure exactly
(as if counts were not banded) and combines them linearly: parent minus children, parent minus any
visible descendants, differences across work-pattern slices and unit totals. A suppressed group
(a unit, or a unit x work pattern cell) with 1..k-1 people is recoverable exactly when its
indicator vector lies in the span of the released figures' vectors; that must never happen.
Across periods and through the exports, ``tests/test_privacy_attack.py`` plays the same attacker.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.aggregates import OrgTree, UnitInfo
from analytics.privacy import slices as slices_module
from analytics.privacy.slices import slice_decisions
from analytics.privacy.suppression import decide

PATTERNS = ("home", "hybrid", "office")
WEEKS = ("2026-W10", "2026-W11", "2026-W12")


@dataclass
class RandomOrg:
    parents: list[int | None]  # index of each unit's parent; unit 0 is the organisation
    counts: dict[tuple[int, str, str], int]  # (team index, week, pattern) -> responses
    k: int

    def teams(self) -> list[int]:
        return [i for i in range(len(self.parents)) if i not in set(self.parents)]


@st.composite
def random_orgs(draw: st.DrawFn, weeks: tuple[str, ...] = WEEKS) -> RandomOrg:
    depth = draw(st.integers(1, 4))
    parents: list[int | None] = [None]

    def grow(parent: int, level: int) -> None:
        for _ in range(draw(st.integers(1, 3))):
            if len(parents) >= 14:
                return
            parents.append(parent)
            index = len(parents) - 1
            if level < depth and draw(st.booleans()):
                grow(index, level + 1)

    grow(0, 1)
    teams = [i for i in range(len(parents)) if i not in set(parents)]
    counts: dict[tuple[int, str, str], int] = {}
    for team in teams:
        size = draw(st.sampled_from([0, 1, 2, 3, 4, 6, 9, 12]))
        for week in weeks:
            for pattern in PATTERNS:
                counts[(team, week, pattern)] = draw(st.integers(0, max(0, size // 2)))
    return RandomOrg(parents=parents, counts=counts, k=draw(st.sampled_from([3, 5])))


def tree_for(org: RandomOrg) -> OrgTree:
    return OrgTree(
        UnitInfo(
            i + 1,
            f"u{i:02d}",
            f"Unit {i:02d}",
            "organisation" if p is None else "team",
            p + 1 if p is not None else None,
        )
        for i, p in enumerate(org.parents)
    )


# ---------------------------------------------------------------------------------------------
# The attacker
# ---------------------------------------------------------------------------------------------

Atoms = frozenset[tuple[int, str]]  # (team index, pattern)


def recoverable(released: list[Atoms], group: Atoms, universe: set[tuple[int, str]]) -> bool:
    """Whether the group's total is a linear combination of the released totals.

    ``universe`` holds the atoms that have responses: the attacker is assumed to know which
    cells are empty (stronger than a real intruder), so those drop out of every equation."""
    if not released:
        return False
    column = {atom: i for i, atom in enumerate(sorted(universe))}

    def vector(atoms: Atoms) -> np.ndarray:
        row = np.zeros(len(column))
        for atom in atoms & universe:
            row[column[atom]] = 1.0
        return row

    matrix = np.array([vector(atoms) for atoms in released])
    rank = np.linalg.matrix_rank(matrix)
    return bool(np.linalg.matrix_rank(np.vstack([matrix, vector(group)])) == rank)


class Attack:
    """Everything released, per period, as sets of atoms; and the truth to check it against."""

    def __init__(self, org: RandomOrg) -> None:
        self.org = org
        self.children: dict[int, list[int]] = defaultdict(list)
        for index, parent in enumerate(org.parents):
            if parent is not None:
                self.children[parent].append(index)
        self.released: dict[tuple[str, str], set[Atoms]] = defaultdict(set)

    def subtree(self, unit: int) -> list[int]:
        found, stack = [], [unit]
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(self.children[current])
        return found

    def atoms(self, unit: int, patterns: tuple[str, ...] = PATTERNS) -> Atoms:
        return frozenset((t, p) for t in self.subtree(unit) for p in patterns)

    def n(self, atoms: Atoms, weeks: list[str]) -> int:
        return sum(self.org.counts.get((t, w, p), 0) for (t, p) in atoms for w in weeks)

    def release(self, period: tuple[str, str], unit: int, patterns: tuple[str, ...] = PATTERNS) -> None:
        atoms = self.atoms(unit, patterns)
        weeks = all_weeks(period)
        assert self.n(atoms, weeks) >= self.org.k, (
            f"released a figure on {self.n(atoms, weeks)} < k={self.org.k} responses: "
            f"unit u{unit:02d} {patterns} {period}"
        )
        self.released[period].add(atoms)

    def assert_nothing_small_recoverable(self) -> None:
        for period, released in self.released.items():
            weeks = all_weeks(period)
            universe = {
                (t, p)
                for t in range(len(self.org.parents))
                for p in PATTERNS
                if self.n(frozenset({(t, p)}), weeks) > 0
            }
            for unit in range(len(self.org.parents)):
                for patterns in [PATTERNS, *((p,) for p in PATTERNS)]:
                    group = self.atoms(unit, patterns)
                    n = self.n(group, weeks)
                    if 0 < n < self.org.k and group not in released:
                        assert not recoverable(list(released), group, universe), (
                            f"u{unit:02d} {patterns} ({n} responses) recoverable in {period} from "
                            f"{sorted(sorted(a) for a in released)}"
                        )


def all_weeks(period: tuple[str, str]) -> list[str]:
    start, end = period
    return [w for w in ALL_WEEK_LABELS if start <= w <= end]


ALL_WEEK_LABELS = [f"2026-W{w:02d}" for w in range(1, 30)]


# ---------------------------------------------------------------------------------------------
# Pure gate decisions
# ---------------------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(org=random_orgs(weeks=("2026-W10",)))
def test_decisions_never_release_a_small_or_recoverable_group(org: RandomOrg) -> None:
    check_decisions(org)


@settings(max_examples=400, deadline=None)
@given(org=random_orgs(weeks=("2026-W10",)))
def test_the_conservative_slice_rule_for_large_blocks_is_safe_too(org: RandomOrg) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(slices_module, "MAX_EXACT_SLICE_CELLS", 1)  # every block counts as large
        check_decisions(org)


def check_decisions(org: RandomOrg) -> None:
    tree = tree_for(org)
    attack = Attack(org)
    period = ("2026-W10", "2026-W10")
    own_totals = {t + 1: (0, sum(org.counts[(t, "2026-W10", p)] for p in PATTERNS)) for t in org.teams()}
    own_slices = {t + 1: tuple(org.counts[(t, "2026-W10", p)] for p in PATTERNS) for t in org.teams()}
    totals = decide(tree, own_totals, org.k)
    slices = slice_decisions(tree, own_slices, org.k)
    for unit_id, reason in totals.items():
        if reason is None:
            attack.release(period, unit_id - 1)
    for unit_id, reason in slices.items():
        if reason is None:
            for pattern in PATTERNS:
                if attack.n(attack.atoms(unit_id - 1, (pattern,)), ["2026-W10"]):
                    attack.release(period, unit_id - 1, (pattern,))
    attack.assert_nothing_small_recoverable()
