"""Work-pattern slices (unit x work pattern): released whole or not at all, checked exactly.

A slice is released for a unit only when the unit's total is, every pattern cell holds no one or
at least k people, the residual rule holds per pattern, and no released slice combines with the
released unit totals to determine a small cell (a rank test on each slice's block, below).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from analytics.aggregates import OrgTree
from analytics.privacy.rules import REASON_NEIGHBOUR
from analytics.privacy.suppression import decide

Vector = tuple[int, ...]
MAX_EXACT_SLICE_CELLS = 1200  # the exact check's SVD stays well under a second up to this size


def decide_components(
    tree: OrgTree, own: Mapping[int, Vector], k: int, forced: Mapping[int, str] | None = None
) -> dict[int, str | None]:
    """The unit rule on per-pattern vectors: every component none or at least k responses."""
    return decide(tree, own, k, forced, people=sum, per_component=True)


def slice_decisions(
    tree: OrgTree,
    vectors: Mapping[int, Vector],
    k: int,
    withheld: Mapping[int, str] | None = None,
) -> dict[int, str | None]:
    """Slices (unit x work pattern) released all-or-nothing per unit: the unit's total must be
    released, per pattern the same k and residual rules hold, and no released slice may combine
    with released unit totals to expose a small cell (checked exactly, see ``_unsafe_slice``)."""
    totals = decide_components(
        tree, {unit_id: (sum(vector),) for unit_id, vector in vectors.items()}, k, withheld
    )
    forced = {unit_id: reason for unit_id, reason in totals.items() if reason is not None}
    while True:
        reasons = decide_components(tree, vectors, k, forced)
        unsafe = _unsafe_slice(tree, vectors, totals, reasons, k)
        if unsafe is None:
            return reasons
        forced[unsafe] = REASON_NEIGHBOUR


def _unsafe_slice(
    tree: OrgTree,
    own: Mapping[int, Vector],
    totals: Mapping[int, str | None],
    slices: Mapping[int, str | None],
    k: int,
) -> int | None:
    """The lowest released slice whose cells, with the released unit totals inside it, determine
    some unit's cell or total that has 1..k-1 responses; None when every slice is safe.

    Why this is exact: a released slice ``u`` fixes, per pattern, the sum over its *block* (its
    subtree minus released slices below it). The released totals inside the block fix the row
    sums of their residual regions. So the block is a table (rows = those regions, columns =
    patterns, empty cells known to be empty) with known margins. A group is recoverable iff its
    vector over the table's cells lies in the row space of the margin equations, i.e. is
    orthogonal to their null space. Blocks of different slices are disjoint, and outside them only
    unit totals are released (safe by the residual rule), so checking each block suffices.
    """
    released_totals = {u for u, reason in totals.items() if reason is None}
    released_slices = {u for u, reason in slices.items() if reason is None}
    width = len(next(iter(own.values()))) if own else 0
    subtotal: dict[int, Vector] = {}
    for unit_id in tree.postorder:
        vector = own.get(unit_id, (0,) * width)
        for child in tree.children[unit_id]:
            vector = tuple(a + b for a, b in zip(vector, subtotal[child], strict=True))
        subtotal[unit_id] = vector
    for block_root in tree.postorder:
        if block_root not in released_slices:
            continue
        cells: dict[tuple[int, int], int] = {}
        owners: dict[tuple[int, int], list[int]] = {}
        members: list[int] = []
        parent_in_block: dict[int, int | None] = {block_root: None}
        stack: list[tuple[int, int]] = [(block_root, block_root)]
        while stack:
            unit_id, row = stack.pop()
            members.append(unit_id)
            if unit_id in released_totals:
                row = unit_id
            for index, value in enumerate(own.get(unit_id, ())):
                if value:
                    cells[(row, index)] = cells.get((row, index), 0) + value
                    owners.setdefault((row, index), []).append(unit_id)
            for child in tree.children[unit_id]:
                if child not in released_slices:
                    parent_in_block[child] = unit_id
                    stack.append((child, row))
        variables = sorted(cells)
        if not variables:
            continue
        rows = sorted({row for row, _ in variables})
        if len(variables) > MAX_EXACT_SLICE_CELLS:
            # Too large to check exactly in reasonable time: release only a block whose one row
            # is the slice's own residual (its cells then equal the per-pattern residuals, which
            # the residual rule keeps at none or at least k).
            if len(rows) > 1:
                return block_root
            continue
        columns = sorted({column for _, column in variables})
        equations = np.zeros((len(rows) + len(columns), len(variables)))
        for position, (row, column) in enumerate(variables):
            equations[rows.index(row), position] = 1.0
            equations[len(rows) + columns.index(column), position] = 1.0
        _, singular, vt = np.linalg.svd(equations)
        rank = int((singular > 1e-9).sum())
        null_space = vt[rank:].T  # variables x null dimension
        # For each unit in the block: which cells it holds entirely, and whether it splits any.
        chain: dict[int, list[int]] = {}
        for unit_id in members:
            path, current = [], unit_id
            while current is not None:
                path.append(current)
                current = parent_in_block[current]
            chain[unit_id] = path
        index_of = {unit_id: i for i, unit_id in enumerate(members)}
        holds = np.zeros((len(members), len(variables)))
        splits = np.zeros((len(members), width), dtype=bool)
        for position, variable in enumerate(variables):
            sets = [set(chain[owner]) for owner in owners[variable]]
            whole = set.intersection(*sets)
            for unit_id in whole:
                holds[index_of[unit_id], position] = 1.0
            for unit_id in set.union(*sets) - whole:
                splits[index_of[unit_id], variable[1]] = True
        for unit_id in members:
            row_index = index_of[unit_id]
            groups = [[p] for p in range(width)] + [list(range(width))]
            for patterns in groups:
                n = sum(subtotal[unit_id][p] for p in patterns)
                if not 0 < n < k or splits[row_index, patterns].any():
                    continue
                vector = holds[row_index] * np.isin([c for _, c in variables], patterns)
                if not vector.any():
                    continue
                if null_space.size == 0 or np.abs(vector @ null_space).max() < 1e-9:
                    return block_root
    return None
