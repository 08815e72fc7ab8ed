"""Which cells of one period may be released: k, then complementary suppression in units and time.

Inputs are *people vectors*: per unit, additive counts whose people are at least
``people(vector)``: component 0 is the participation receipts of the period (distinct people,
exact), the others the responses in each of its weeks (one answer per person per week, so any one
week is a lower bound on the distinct people, which is how imported history without receipts is
counted). Residuals are vector differences, so "at least k people" is tested on the lower bound of
exactly the group an attacker could isolate.

The rules, applied per period and construct:

1. **k**: a unit's cell is released only if at least k people lie behind it.
2. **Units** (``decide``): for every released unit, its residual (subtree minus its maximal
   released descendants, including people attached to the unit itself) holds no one or at least k
   people; else the smallest visible descendant is suppressed too, until it does.
3. **Time** (``period_residual_people``): a unit's cell for a month, quarter or year minus its
   released cells for shorter periods inside it (frozen earlier) leaves the other weeks: those
   must hold no one or at least k people, else the longer cell is withheld ("protects a
   neighbouring period") before rule 2 runs, so its neighbours are protected in turn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from analytics.aggregates import OrgTree
from analytics.privacy.rules import REASON_NEIGHBOUR, REASON_TOO_FEW

Vector = tuple[int, ...]
PeopleOf = Callable[[Vector], int]


def people_lower_bound(vector: Vector) -> int:
    """Distinct people behind a people vector: receipts, or else the largest single week."""
    return max(vector) if vector else 0


def _ok(vector: Vector, k: int, people: PeopleOf, per_component: bool) -> bool:
    """Empty, or enough: at least k people (and, for slices, every component none or k+)."""
    if not any(vector):
        return True
    if per_component:
        return all(value == 0 or value >= k for value in vector)
    return people(vector) >= k


def decide(
    tree: OrgTree,
    own: Mapping[int, Vector],
    k: int,
    forced: Mapping[int, str] | None = None,
    people: PeopleOf = people_lower_bound,
    *,
    per_component: bool = False,
) -> dict[int, str | None]:
    """For every unit: None if its cell may be released, else the reason it is suppressed.

    ``own`` holds the people vector attached directly to each unit (a team's). Walking children
    before parents, a unit is a candidate when its subtree has at least k people; every released
    unit's residual must be empty or hold at least k people, else the smallest visible descendant
    is suppressed as well, until it does. ``forced`` units are never released. With
    ``per_component`` (work-pattern slices: one component per pattern, ``people`` a sum) every
    component of a candidate and of a residual must hold none or at least k as well.
    """
    forced = forced or {}
    width = len(next(iter(own.values()))) if own else 1
    zero: Vector = (0,) * width
    subtotal: dict[int, Vector] = {}
    reasons: dict[int, str | None] = {}
    tops: dict[int, list[int]] = {}  # per unit: itself if released, else its released tops below

    def below(unit_id: int) -> list[int]:
        return [top for child in tree.children[unit_id] for top in tops[child]]

    for unit_id in tree.postorder:
        vector = own.get(unit_id, zero)
        for child in tree.children[unit_id]:
            vector = tuple(a + b for a, b in zip(vector, subtotal[child], strict=True))
        subtotal[unit_id] = vector
        if people(vector) < k or not _ok(vector, k, people, per_component):
            reasons[unit_id] = REASON_TOO_FEW
        elif unit_id in forced:
            reasons[unit_id] = forced[unit_id]
        else:
            reasons[unit_id] = None
        if reasons[unit_id] is not None:
            tops[unit_id] = below(unit_id)
            continue
        visible = below(unit_id)
        residual = vector
        for top in visible:
            residual = tuple(a - b for a, b in zip(residual, subtotal[top], strict=True))
        while not _ok(residual, k, people, per_component):
            smallest = min(visible, key=lambda u: (people(subtotal[u]), tree.units[u].code))
            visible.remove(smallest)
            reasons[smallest] = REASON_NEIGHBOUR
            uncovered = subtotal[smallest]
            for top in below(smallest):
                visible.append(top)
                uncovered = tuple(a - b for a, b in zip(uncovered, subtotal[top], strict=True))
            residual = tuple(a + b for a, b in zip(residual, uncovered, strict=True))
        tops[unit_id] = [unit_id]
    return reasons


def subtree_vectors(tree: OrgTree, own: Mapping[int, Vector]) -> dict[int, Vector]:
    """Every unit's vector summed over its subtree (people vectors are additive)."""
    width = len(next(iter(own.values()))) if own else 1
    result: dict[int, Vector] = {}
    for unit_id in tree.postorder:
        vector = own.get(unit_id, (0,) * width)
        for child in tree.children[unit_id]:
            vector = tuple(a + b for a, b in zip(vector, result[child], strict=True))
        result[unit_id] = vector
    return result


__all__ = [
    "REASON_NEIGHBOUR",
    "REASON_TOO_FEW",
    "Vector",
    "decide",
    "people_lower_bound",
    "subtree_vectors",
]
