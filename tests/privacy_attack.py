"""The attacker's arithmetic: can any linear combination of released figures isolate < k people?

Issue 16's property, tested the way the issue words it. Each released figure (an export record that
is not suppressed) is the set of responses behind it: the responses of its unit's subtree, in the
weeks ``period_start..period_end``, that have a score for its construct. Rounded means and banded
counts are treated as exact (the worst case), so a released cell gives the attacker its count and
its sum: two linear functionals of the cell's 0/1 indicator vector over responses. A set S of
responses is *isolated* when its indicator lies in the row space of all released cells: then some
combination of released figures equals S's count and sum. A leak is an isolated, non-empty S whose
responses come from fewer than k distinct people.

The test knows who wrote every response (it created them); the gate does not, and must not.

Two searches, both on the cell x response matrix of one construct:

* ``find_leaks`` enumerates the candidate small sets the issue names (every own-unit week "atom"
  with 1..k-1 people, every unit x calendar-period block with 1..k-1 people, each person's
  responses inside each block, unions of small atoms inside one unit and block: exhaustive up to a
  size, random beyond) and runs the rank test on each (batched: the residual of the projection on
  an orthonormal basis of the row space, which is zero exactly when the rank would not grow).
* ``smallest_leak`` asks a mixed-integer program for the smallest isolated set of all, with no
  enumeration: binary atoms x and people y, free cell weights c, ``cells^T c = x``, each chosen
  atom's people chosen, ``sum(y) <= k - 1``. Its answer is checked again with the rank test.

Why atoms suffice: every released cell covers whole (own unit, week) atoms, so every vector of the
row space is constant on each atom. A set that splits an atom is never isolated, and a union of
atoms is isolated exactly when its 0/1 vector over atoms lies in the row space of the cell x atom
matrix (the response matrix is that matrix times the atom-membership matrix, which has full row
rank). ``tests/test_privacy_attack.py`` checks this equivalence against the literal response-level
rank test.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from models import calendar
from models.base import iso_week, week_monday

TOLERANCE = 1e-7


@dataclass(frozen=True)
class Response:
    """One stored response, as the test (not the gate) knows it: who wrote it, and where."""

    person: Hashable
    unit: str  # the code of the unit the response is filed under (its team when written)
    week: str
    scores: Mapping[str, float]


@dataclass(frozen=True)
class Cell:
    """One released figure: a unit's subtree over whole weeks, for one construct."""

    unit: str
    first_week: str
    last_week: str
    construct: str
    mean: float | None
    n: Any
    source: str  # which export released it

    def label(self) -> str:
        span = (
            self.first_week
            if self.first_week == self.last_week
            else f"{self.first_week}..{self.last_week}"
        )
        return f"{self.unit} {span} {self.construct} ({self.source})"


class Tree:
    """The unit tree by code: a cell of unit U covers the responses filed under U's subtree."""

    def __init__(self, parents: Mapping[str, str | None]) -> None:
        self.parents = dict(parents)
        self.children: dict[str, list[str]] = defaultdict(list)
        for code, parent in self.parents.items():
            if parent is not None:
                self.children[parent].append(code)
        self._subtrees: dict[str, frozenset[str]] = {}

    def subtree(self, code: str) -> frozenset[str]:
        if code not in self._subtrees:
            found = {code}
            for child in self.children.get(code, []):
                found |= self.subtree(child)
            self._subtrees[code] = frozenset(found)
        return self._subtrees[code]


def weeks_between(first: str, last: str) -> list[str]:
    """Every ISO week from ``first`` to ``last`` inclusive."""
    day, end = week_monday(first), week_monday(last)
    found = []
    while day <= end:
        found.append(iso_week(day))
        day += timedelta(days=7)
    return found


def is_released(record: Mapping[str, Any]) -> bool:
    """Whether a record gives the attacker anything: not suppressed, or any figure present anyway."""
    suppressed = record.get("suppressed")
    if isinstance(suppressed, str):
        suppressed = suppressed.strip().lower() in {"true", "1", "yes"}
    return not suppressed or present(record.get("mean")) or present(record.get("n"))


def present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and value != ""


def cells_from_records(records: Iterable[Mapping[str, Any]], source: str) -> list[Cell]:
    """The released cells among export records (JSON records, or CSV rows as strings)."""
    cells = []
    for record in records:
        if not is_released(record):
            continue
        mean = record.get("mean")
        cells.append(
            Cell(
                unit=str(record["unit"]),
                first_week=str(record["period_start"]),
                last_week=str(record["period_end"]),
                construct=str(record["construct"]),
                mean=float(mean) if present(mean) else None,
                n=record.get("n"),
                source=source,
            )
        )
    return cells


@dataclass(frozen=True)
class Leak:
    """A set of responses that released figures isolate, and who wrote them."""

    construct: str
    how_found: str
    people: tuple[str, ...]
    atoms: tuple[tuple[str, str, int], ...]  # (unit, week, responses) of each atom in the set
    witness: tuple[tuple[float, str], ...]  # (coefficient, cell) combining to the set

    def __str__(self) -> str:
        atoms = ", ".join(f"{unit} {week} ({count} response(s))" for unit, week, count in self.atoms)
        terms = " ".join(f"{c:+.3g} x [{label}]" for c, label in self.witness)
        return (
            f"[{self.construct}] {len(self.people)} person(s) {list(self.people)} isolated "
            f"({self.how_found}): responses of {atoms}; = {terms}"
        )


@dataclass
class Attack:
    """The cell x atom system of one construct, and the rank test on it."""

    construct: str
    cells: list[Cell]
    responses: list[Response]  # those with a score for this construct
    tree: Tree
    k: int
    atoms: list[tuple[str, str]] = field(init=False)
    atom_of: list[int] = field(init=False)
    members: list[list[int]] = field(init=False)
    atom_people: list[frozenset[Hashable]] = field(init=False)
    matrix: np.ndarray = field(init=False)  # cells x atoms, 0/1
    basis: np.ndarray = field(init=False)  # orthonormal rows spanning the row space

    def __post_init__(self) -> None:
        index: dict[tuple[str, str], int] = {}
        self.atom_of = []
        for response in self.responses:
            key = (response.unit, response.week)
            self.atom_of.append(index.setdefault(key, len(index)))
        self.atoms = list(index)
        self.members = [[] for _ in self.atoms]
        for position, atom in enumerate(self.atom_of):
            self.members[atom].append(position)
        self.atom_people = [
            frozenset(self.responses[i].person for i in members) for members in self.members
        ]
        self.matrix = np.zeros((len(self.cells), len(self.atoms)))
        for row, cell in enumerate(self.cells):
            self.matrix[row] = self.cover(cell)
        self.basis = _row_space_basis(self.matrix)

    def cover(self, cell: Cell) -> np.ndarray:
        """The cell's 0/1 vector over atoms: its unit's subtree, in its weeks."""
        units = self.tree.subtree(cell.unit)
        weeks = set(weeks_between(cell.first_week, cell.last_week))
        return np.array([1.0 if u in units and w in weeks else 0.0 for u, w in self.atoms])

    def cell_responses(self, cell: Cell) -> list[Response]:
        covered = self.cover(cell)
        return [r for r, atom in zip(self.responses, self.atom_of, strict=True) if covered[atom]]

    def response_matrix(self) -> np.ndarray:
        """The literal cell x response indicator matrix (for the cross-check of the atom reduction)."""
        membership = np.zeros((len(self.atoms), len(self.responses)))
        membership[self.atom_of, range(len(self.responses))] = 1.0
        return self.matrix @ membership

    def as_atoms(self, responses: Iterable[int]) -> np.ndarray | None:
        """A response set as a 0/1 vector over atoms, or None when it splits an atom (never isolated)."""
        chosen = set(responses)
        vector = np.zeros(len(self.atoms))
        for position in chosen:
            vector[self.atom_of[position]] = 1.0
        for atom in np.flatnonzero(vector):
            if not set(self.members[atom]) <= chosen:
                return None
        return vector

    def isolated(self, vectors: np.ndarray) -> np.ndarray:
        """Rank test on a batch of atom vectors (rows): True where the row lies in the row space."""
        if vectors.size == 0:
            return np.zeros(len(vectors), dtype=bool)
        if self.basis.size == 0:
            return ~vectors.any(axis=1)
        residual = vectors - (vectors @ self.basis.T) @ self.basis
        return np.linalg.norm(residual, axis=1) <= TOLERANCE * np.maximum(
            1.0, np.linalg.norm(vectors, axis=1)
        )

    def atom_masks(self) -> list[int]:
        """Each atom's people as a bit mask (fast counting of distinct people in unions)."""
        bit = {
            p: 1 << j for j, p in enumerate(sorted({p for a in self.atom_people for p in a}, key=str))
        }
        return [sum(bit[p] for p in people) for people in self.atom_people]

    def people_of(self, vector: np.ndarray) -> frozenset[Hashable]:
        found: set[Hashable] = set()
        for atom in np.flatnonzero(vector):
            found |= self.atom_people[atom]
        return frozenset(found)

    def leak(self, vector: np.ndarray, how_found: str) -> Leak:
        coefficients = _sparse_combination(self.matrix, vector)
        order = np.argsort(-np.abs(coefficients))
        witness = tuple(
            (float(coefficients[i]), self.cells[i].label())
            for i in order[:8]
            if abs(coefficients[i]) > 1e-6
        )
        atoms = tuple(
            (self.atoms[a][0], self.atoms[a][1], len(self.members[a])) for a in np.flatnonzero(vector)
        )
        return Leak(
            construct=self.construct,
            how_found=how_found,
            people=tuple(sorted(map(str, self.people_of(vector)))),
            atoms=atoms,
            witness=witness,
        )


def _sparse_combination(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Weights on released cells that add up to ``vector``, with as few cells as an L1 fit finds
    (readable witnesses: "W10-W17 minus W10-W16"); least squares if the program fails."""
    n = matrix.shape[0]
    done = linprog(np.ones(2 * n), A_eq=np.hstack([matrix.T, -matrix.T]), b_eq=vector, bounds=(0, None))
    if done.status == 0:
        return done.x[:n] - done.x[n:]
    return np.linalg.lstsq(matrix.T, vector, rcond=None)[0]


def _row_space_basis(matrix: np.ndarray) -> np.ndarray:
    if matrix.size == 0:
        return np.zeros((0, matrix.shape[1]))
    _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
    tolerance = singular.max(initial=0.0) * max(matrix.shape) * np.finfo(float).eps * 10
    return vt[: int((singular > tolerance).sum())]


def build_attacks(
    responses: Sequence[Response], cells: Sequence[Cell], tree: Tree, k: int
) -> dict[str, Attack]:
    """One attack per construct that has responses (cells of a construct nobody scored count too)."""
    constructs = sorted({c for r in responses for c in r.scores} | {cell.construct for cell in cells})
    attacks = {}
    for construct in constructs:
        scored = [r for r in responses if construct in r.scores]
        mine = [cell for cell in cells if cell.construct == construct]
        attacks[construct] = Attack(construct, mine, scored, tree, k)
    return attacks


# --- candidate small sets --------------------------------------------------------------------


def blocks(attack: Attack) -> Iterable[tuple[str, frozenset[str], list[str]]]:
    """Every unit x calendar period holding responses: (name, units, weeks), for the subtree
    of each unit and for the unit's own responses."""
    weeks_seen = sorted({week for _, week in attack.atoms})
    units_seen = {unit for unit, _ in attack.atoms}
    periods = {label for week in weeks_seen for label in calendar.periods_of_week(week).values()}
    for code in sorted(attack.tree.parents):
        subtree = attack.tree.subtree(code)
        if not subtree & units_seen:
            continue
        scopes = [("subtree", subtree)]
        if code in units_seen and subtree != {code}:
            scopes.append(("own", frozenset({code})))
        for scope, units in scopes:
            for label in sorted(periods):
                yield f"{code} ({scope}) x {label}", units, calendar.weeks_in(label)


def _atoms_in(attack: Attack, units: frozenset[str], weeks: Sequence[str]) -> list[int]:
    wanted = set(weeks)
    return [i for i, (u, w) in enumerate(attack.atoms) if u in units and w in wanted]


def candidates(
    attack: Attack, *, rng: random.Random, exhaustive_size: int = 3, random_unions: int = 200
) -> Iterable[tuple[str, tuple[int, ...]]]:
    """The issue's candidate sets, as tuples of atoms (sets that split an atom are skipped: never
    isolated). Yields (description, atoms); ``find_leaks`` keeps those from 1..k-1 people."""
    small = [i for i, people in enumerate(attack.atom_people) if len(people) < attack.k]
    small_set = set(small)
    for i in small:
        yield f"atom {attack.atoms[i][0]} {attack.atoms[i][1]}", (i,)
    for name, units, weeks in blocks(attack):
        inside = _atoms_in(attack, units, weeks)
        if not inside:
            continue
        people = frozenset().union(*(attack.atom_people[i] for i in inside))
        if len(people) < attack.k:
            yield f"block {name}", tuple(inside)
        for person in sorted(people, key=str):
            own = [i for i in inside if attack.atom_people[i] == {person}]
            shared = [
                i for i in inside if person in attack.atom_people[i] and len(attack.atom_people[i]) > 1
            ]
            if own and not shared:  # else the person's responses split an atom: never isolated
                yield f"{person}'s responses in {name}", tuple(own)
        small_inside = [i for i in inside if i in small_set]
        for i in small_inside:  # everything the people of one small atom did alone in the block
            group = attack.atom_people[i]
            alone = tuple(j for j in small_inside if attack.atom_people[j] <= group)
            if len(alone) > 1:
                yield f"atoms of {sorted(map(str, group))} in {name}", alone
        for _ in range(random_unions if len(small_inside) > exhaustive_size else 0):
            size = rng.randint(exhaustive_size + 1, len(small_inside))
            yield f"random union of {size} small atoms in {name}", tuple(rng.sample(small_inside, size))
    roots = [code for code, parent in attack.tree.parents.items() if parent is None]
    for root in roots:  # exhaustive unions inside each root x year: every smaller block's too
        for year in sorted({w[:4] for _, w in attack.atoms}):
            units = attack.tree.subtree(root)
            inside = [i for i in _atoms_in(attack, units, calendar.weeks_in(year)) if i in small_set]
            for size in range(2, exhaustive_size + 1):
                for chosen in itertools.combinations(inside, size):
                    yield f"union of {size} small atoms in {root} x {year}", chosen


def find_leaks(
    attack: Attack,
    *,
    seed: int = 0,
    limit: int = 5,
    exhaustive_size: int = 3,
    random_unions: int = 200,
) -> list[Leak]:
    """Rank-test every candidate set from fewer than k people; the first ``limit`` leaks found."""
    found: list[Leak] = []
    seen: set[frozenset[int]] = set()
    batch: list[tuple[str, np.ndarray]] = []
    rng = random.Random(seed)
    masks = attack.atom_masks()

    def flush() -> None:
        if not batch:
            return
        hits = attack.isolated(np.array([v for _, v in batch]))
        for (name, v), hit in zip(batch, hits, strict=True):
            if hit and len(found) < limit:
                found.append(attack.leak(v, name))
        batch.clear()

    stream = candidates(attack, rng=rng, exhaustive_size=exhaustive_size, random_unions=random_unions)
    for name, atoms in stream:
        key = frozenset(atoms)
        if key in seen:
            continue
        seen.add(key)
        mask = 0
        for atom in atoms:
            mask |= masks[atom]
        if not 0 < mask.bit_count() < attack.k:
            continue
        v = np.zeros(len(attack.atoms))
        v[list(atoms)] = 1.0
        batch.append((name, v))
        if len(batch) >= 4096:
            flush()
            if len(found) >= limit:
                break
    flush()
    return found


def smallest_leak(attack: Attack, *, attempts: int = 5) -> Leak | None:
    """The isolated set with the fewest people, if it has fewer than k (mixed-integer search over
    all unions of atoms; each answer re-checked by the rank test, a numerical near-miss cut off)."""
    n_cells, n_atoms = attack.matrix.shape
    small = [i for i, people in enumerate(attack.atom_people) if len(people) < attack.k]
    if not small:
        return None
    people = sorted({p for i in small for p in attack.atom_people[i]}, key=str)
    person_index = {p: j for j, p in enumerate(people)}
    n_x, n_y = len(small), len(people)
    # variables: c (cells, free), x (small atoms, binary), y (people, binary)
    n_vars = n_cells + n_x + n_y
    rows: list[np.ndarray] = []
    lower: list[float] = []
    upper: list[float] = []
    x_of = {atom: n_cells + j for j, atom in enumerate(small)}
    for atom in range(n_atoms):  # cells^T c = x on small atoms, = 0 on the others
        row = np.zeros(n_vars)
        row[:n_cells] = attack.matrix[:, atom]
        if atom in x_of:
            row[x_of[atom]] = -1.0
        rows.append(row)
        lower.append(0.0)
        upper.append(0.0)
    for atom in small:  # x_atom <= y_person for each of the atom's people
        for person in attack.atom_people[atom]:
            row = np.zeros(n_vars)
            row[x_of[atom]] = 1.0
            row[n_cells + n_x + person_index[person]] = -1.0
            rows.append(row)
            lower.append(-np.inf)
            upper.append(0.0)
    at_least_one = np.zeros(n_vars)
    at_least_one[n_cells : n_cells + n_x] = 1.0
    rows.append(at_least_one)
    lower.append(1.0)
    upper.append(np.inf)
    few = np.zeros(n_vars)
    few[n_cells + n_x :] = 1.0
    rows.append(few)
    lower.append(1.0)
    upper.append(attack.k - 1.0)
    objective = np.zeros(n_vars)
    objective[n_cells + n_x :] = 1.0  # fewest people
    objective[n_cells : n_cells + n_x] = 1e-3  # then fewest atoms
    integrality = np.r_[np.zeros(n_cells), np.ones(n_x + n_y)]
    bounds = Bounds(
        np.r_[np.full(n_cells, -1e4), np.zeros(n_x + n_y)],
        np.r_[np.full(n_cells, 1e4), np.ones(n_x + n_y)],
    )
    for _ in range(attempts):
        result = milp(
            objective,
            constraints=LinearConstraint(np.array(rows), lower, upper),
            integrality=integrality,
            bounds=bounds,
            options={"time_limit": 60},
        )
        if result.x is None:
            return None
        chosen = [atom for atom in small if result.x[x_of[atom]] > 0.5]
        v = np.zeros(n_atoms)
        v[chosen] = 1.0
        if attack.isolated(v[None, :])[0]:
            return attack.leak(v, "smallest isolated set (mixed-integer search)")
        cut = np.zeros(n_vars)  # a numerical near-miss: forbid exactly this choice and ask again
        for atom in small:
            cut[x_of[atom]] = 1.0 if atom in chosen else -1.0
        rows.append(cut)
        lower.append(-np.inf)
        upper.append(len(chosen) - 1.0)
    return None


def distinct(attacks: Iterable[Attack]) -> list[Attack]:
    """One attack per distinct system: constructs scored by the same responses and released
    alike give the same answers (weekly-core scores all five constructs on every response)."""
    kept: dict[bytes, Attack] = {}
    for attack in attacks:
        system = repr((attack.atoms, attack.atom_people)).encode() + attack.matrix.tobytes()
        kept.setdefault(system, attack)
    return list(kept.values())


def attack_all(
    responses: Sequence[Response],
    cells: Sequence[Cell],
    tree: Tree,
    k: int,
    *,
    seed: int = 0,
    exhaustive_size: int = 3,
    random_unions: int = 200,
    complete: bool = True,
) -> list[Leak]:
    """Every construct: the enumerated candidates, then (``complete``) the mixed-integer search."""
    leaks: list[Leak] = []
    for attack in distinct(build_attacks(responses, cells, tree, k).values()):
        found = find_leaks(
            attack, seed=seed, exhaustive_size=exhaustive_size, random_unions=random_unions
        )
        if not found and complete:
            smallest = smallest_leak(attack)
            found = [smallest] if smallest else []
        leaks.extend(found)
    return leaks


def describe(leaks: Sequence[Leak], limit: int = 6) -> str:
    return "\n".join(str(leak) for leak in leaks[:limit]) + (
        f"\n... and {len(leaks) - limit} more" if len(leaks) > limit else ""
    )


def smallest_combination(attack: Attack) -> Leak | None:
    """Stronger than the issue's property: any non-zero combination of released cells that rests
    on the answers of fewer than k people only, such as one person's change from one week to the
    next (no whole set isolated, yet something about that person alone). For each small group of
    people (those of one small atom, or of two together), the atoms they alone answered in: a
    combination exists when the released row space meets the span of those atoms."""
    small = [i for i, people in enumerate(attack.atom_people) if len(people) < attack.k]
    if not small:
        return None
    outside = np.eye(len(attack.atoms)) - attack.basis.T @ attack.basis  # projects off the row space
    groups = {attack.atom_people[i] for i in small}
    groups |= {a | b for a, b in itertools.combinations(list(groups), 2) if len(a | b) < attack.k}
    for group in sorted(groups, key=lambda g: (len(g), sorted(map(str, g)))):
        support = [i for i in small if attack.atom_people[i] <= group]
        _, singular, vt = np.linalg.svd(outside[:, support], full_matrices=False)
        if singular.min() > TOLERANCE * max(1.0, singular.max()):
            continue
        weights = vt[-1] / vt[-1][np.abs(vt[-1]).argmax()]  # the largest weight is +1
        combination = np.zeros(len(attack.atoms))
        combination[support] = np.where(np.abs(weights) > 1e-6, weights, 0.0)
        terms = " ".join(
            f"{combination[i]:+.3g} x {attack.atoms[i][0]} {attack.atoms[i][1]}"
            for i in np.flatnonzero(combination)
        )
        found = attack.leak(combination, f"a combination of their answers only: {terms}")
        return Leak(
            found.construct, found.how_found, tuple(sorted(map(str, group))), found.atoms, found.witness
        )
    return None
