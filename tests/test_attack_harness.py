"""The attack harness must be able to fail: known leaks built by hand are found, safe releases pass.

A detector that cannot fail proves nothing. These tests build released cells directly (no gate, no
database) for the leaks issue 16 found in the gate of before (window differencing, a quarter minus
its months, a parent minus its children, a union of small teams) and check that the rank test finds
each, with the people named; and that the atom reduction agrees with the literal rank test on the
cell x response matrix.
"""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest
from attack_precision import (
    band_of,
    count_problems,
    decimals_of,
    mean_problems,
    own_spread_problems,
    score_lattice,
    undone_bands,
)
from privacy_attack import (
    Attack,
    Cell,
    Response,
    Tree,
    attack_all,
    build_attacks,
    find_leaks,
    smallest_combination,
    smallest_leak,
)

from models import calendar
from surveys.composition import DEFAULT_COMPOSITION_ID, get_composition

K = 5


def team_answers(
    team: str, size: int, weeks: list[str], *, skip: dict[str, set[int]] | None = None
) -> list[Response]:
    """``size`` people of ``team`` answering each week (except the indexes in ``skip[week]``)."""
    rng = random.Random(team)
    skip = skip or {}
    return [
        Response(f"{team}.p{i}", team, week, {"wellbeing": float(4 * rng.randint(0, 25))})
        for week in weeks
        for i in range(size)
        if i not in skip.get(week, set())
    ]


def cell(unit: str, first: str, last: str | None = None) -> Cell:
    return Cell(unit, first, last or first, "wellbeing", None, None, "hand-built")


def weeks(first: int, last: int) -> list[str]:
    return [f"2026-W{w:02d}" for w in range(first, last + 1)]


def only(responses: list[Response], cells: list[Cell], tree: Tree) -> Attack:
    return build_attacks(responses, cells, tree, K)["wellbeing"]


def test_window_differencing_is_found_with_the_person_named() -> None:
    """Issue 16, leak 1: window W10-W17 minus window W10-W16 is one person's week 17."""
    tree = Tree({"org": None, "team": "org"})
    skip = {"2026-W17": {1, 2, 3, 4, 5}}  # only p0 answered week 17
    responses = team_answers("team", 6, weeks(10, 17), skip=skip)
    attack = only(
        responses, [cell("team", "2026-W10", "2026-W17"), cell("team", "2026-W10", "2026-W16")], tree
    )
    leaks = find_leaks(attack)
    assert leaks, "window differencing not detected"
    assert leaks[0].people == ("team.p0",) and leaks[0].atoms == (("team", "2026-W17", 1),)
    assert {label for _, label in leaks[0].witness} == {c.label() for c in attack.cells}
    smallest = smallest_leak(attack)
    assert smallest is not None and smallest.people == ("team.p0",)


def test_quarter_minus_two_of_its_months_is_found() -> None:
    quarter = "2026-Q1"
    months = calendar.children(quarter)
    tree = Tree({"org": None, "team": "org"})
    thin = set(calendar.weeks_in(months[2]))
    responses = [
        r
        for r in team_answers("team", 8, calendar.weeks_in(quarter))
        if r.week not in thin or r.person < "team.p3"
    ]
    cells = [cell("team", calendar.first_week(p), calendar.last_week(p)) for p in (quarter, *months[:2])]
    leaks = find_leaks(only(responses, cells, tree))
    assert leaks and set(leaks[0].people) <= {"team.p0", "team.p1", "team.p2"}


def test_parent_minus_child_is_found() -> None:
    tree = Tree({"org": None, "big": "org", "tiny": "org"})
    responses = team_answers("big", 9, weeks(10, 10)) + team_answers("tiny", 2, weeks(10, 10))
    leaks = find_leaks(only(responses, [cell("org", "2026-W10"), cell("big", "2026-W10")], tree))
    assert leaks and set(leaks[0].people) == {"tiny.p0", "tiny.p1"}


def test_a_union_of_small_teams_is_found_by_both_searches() -> None:
    """Service minus its one big team = two small teams together (4 people): no single block or
    atom is isolated, only their union, so only the union search and the complete search see it."""
    tree = Tree({"org": None, "svc": "org", "a": "svc", "b": "svc", "c": "svc", "d": "org"})
    responses = [
        *team_answers("a", 2, weeks(10, 11)),
        *team_answers("b", 2, weeks(10, 11)),
        *team_answers("c", 10, weeks(10, 11)),
        *team_answers("d", 7, weeks(10, 11)),
    ]
    cells = [cell(u, w) for u in ("svc", "c", "org") for w in weeks(10, 11)]
    attack = only(responses, cells, tree)
    leaks = find_leaks(attack)
    assert leaks and set(leaks[0].people) == {"a.p0", "a.p1", "b.p0", "b.p1"}
    smallest = smallest_leak(attack)
    assert smallest is not None and len(smallest.people) == 4


def test_a_safe_release_passes_both_searches() -> None:
    """Teams of 6 and 7 per week and their organisation, and the month of each: every difference
    of released cells holds at least 6 people."""
    tree = Tree({"org": None, "six": "org", "seven": "org"})
    month = weeks(10, 13)  # 2026-03
    responses = team_answers("six", 6, month) + team_answers("seven", 7, month)
    cells = [cell(u, w) for u in ("org", "six", "seven") for w in month]
    cells += [cell(u, month[0], month[-1]) for u in ("org", "six", "seven")]
    assert attack_all(responses, cells, tree, K) == []


def test_the_atom_reduction_agrees_with_the_literal_rank_test() -> None:
    """For random response sets (many splitting an atom), is-isolated by atoms equals
    rank([cells; set]) == rank(cells) on the cell x response matrix."""
    rng = random.Random(7)
    tree = Tree({"org": None, "svc": "org", "a": "svc", "b": "svc", "c": "org"})
    responses = [
        *team_answers("a", 2, weeks(10, 13), skip={"2026-W12": {0}}),
        *team_answers("b", 6, weeks(10, 13)),
        *team_answers("c", 3, weeks(10, 13)),
    ]
    cells = [cell("org", w) for w in weeks(10, 13)] + [cell("b", w) for w in weeks(10, 13)]
    cells += [cell("svc", "2026-W10", "2026-W13"), cell("c", "2026-W10", "2026-W11")]
    attack = only(responses, cells, tree)
    matrix = attack.response_matrix()
    base = np.linalg.matrix_rank(matrix)
    agreed = isolated = 0
    for _ in range(300):
        atoms = rng.sample(range(len(attack.atoms)), rng.randint(1, 3))
        chosen = {i for i, atom in enumerate(attack.atom_of) if atom in atoms}
        if rng.random() < 0.5:  # split an atom now and then
            chosen.discard(rng.choice(sorted(chosen)))
        if not chosen:
            continue
        indicator = np.zeros(len(responses))
        indicator[sorted(chosen)] = 1.0
        literal = np.linalg.matrix_rank(np.vstack([matrix, indicator])) == base
        vector = attack.as_atoms(chosen)
        reduced = vector is not None and bool(attack.isolated(vector[None, :])[0])
        assert literal == reduced, sorted(chosen)
        agreed += 1
        isolated += literal
    assert agreed > 200 and isolated > 0  # the sample held isolated sets, not only safe ones


def test_count_checks_catch_exact_small_counts_and_thin_cells() -> None:
    tree = Tree({"org": None, "team": "org"})
    responses = team_answers("team", 3, weeks(10, 12))  # 3 people, 9 responses
    thin = Cell("team", "2026-W10", "2026-W12", "wellbeing", 50.0, "5-9", "hand-built")
    exact = Cell("team", "2026-W10", "2026-W12", "wellbeing", 50.0, 9, "hand-built")
    attacks = build_attacks(responses, [thin, exact], tree, K)
    problems = count_problems([thin, exact], attacks.__getitem__, K)
    assert any("3 distinct people" in p for p in problems)  # counts responses, not people
    assert any("exact below 10" in p for p in problems)
    assert not count_problems([], attacks.__getitem__, K)


def test_mean_check_catches_a_cell_the_harness_models_wrongly() -> None:
    tree = Tree({"org": None, "a": "org", "b": "org"})
    responses = team_answers("a", 6, weeks(10, 10)) + team_answers("b", 6, weeks(10, 10))
    true_means = {u: np.mean([r.scores["wellbeing"] for r in responses if r.unit == u]) for u in "ab"}
    right = [
        Cell(u, "2026-W10", "2026-W10", "wellbeing", round(true_means[u]), "5-9", "x") for u in "ab"
    ]
    org_mean = round(float(np.mean([r.scores["wellbeing"] for r in responses])))
    right.append(Cell("org", "2026-W10", "2026-W10", "wellbeing", org_mean, "10-14", "x"))
    attacks = build_attacks(responses, right, tree, K)
    assert mean_problems(right, attacks.__getitem__) == []
    swapped = [
        Cell("a", "2026-W10", "2026-W10", "wellbeing", true_means["a"] + 30, "5-9", "x"),
        *right[1:],
    ]
    assert mean_problems(swapped, attacks.__getitem__)


@pytest.mark.parametrize(
    ("shown", "band"),
    [
        (12, (12, 12)),
        ("5-9", (5, 9)),
        ("10+", (10, float("inf"))),
        ("14", (14, 14)),
        (None, None),
        ("many", None),
    ],
)
def test_band_reading(shown: object, band: tuple[float, float] | None) -> None:
    assert band_of(shown) == band


def test_band_undone_by_an_exact_mean_is_caught_and_a_whole_number_is_not() -> None:
    """Issue 16, leak 4: WHO-5 totals are multiples of 4, so 400 / 7 = 57.14 fits n = 7 only."""
    lattice = score_lattice(get_composition(DEFAULT_COMPOSITION_ID), "wellbeing")
    assert lattice == (Fraction(4), Fraction(0), Fraction(100))
    record = {
        "unit": "t",
        "period_start": "2026-W10",
        "period_end": "2026-W10",
        "construct": "wellbeing",
    }
    exact = {**record, "mean": round(400 / 7, 2), "n": "5-9"}
    assert decimals_of([exact["mean"]]) == 2
    assert undone_bands([exact], {"wellbeing": lattice}, {"wellbeing": 2}) != []
    whole = {**record, "mean": float(round(400 / 7)), "n": "5-9"}
    assert undone_bands([whole], {"wellbeing": lattice}, {"wellbeing": 0}) == []


def test_spread_on_a_small_cell_is_caught() -> None:
    small = {"unit": "t", "period_start": "2026-W10", "construct": "wellbeing", "n": "5-9"}
    assert own_spread_problems([{**small, "ci_low": 40.0}]) != []
    assert own_spread_problems([{**small, "ci_low": None}, {**small, "n": 12, "sd": 3.0}]) == []


def test_one_persons_change_is_found_though_no_set_is_isolated() -> None:
    """svc W12 - svc W10, with b's and c's other cells taken off, is a.p0's W12 answer minus their
    W10 answer: nothing whole is isolated (the issue's property holds), yet one person's change
    from one week to another is out. The stronger search must see it."""
    tree = Tree({"org": None, "svc": "org", "a": "svc", "b": "svc", "c": "svc"})
    responses = [*team_answers("a", 1, weeks(10, 12))]
    responses += team_answers("b", 6, weeks(10, 12)) + team_answers("c", 6, weeks(10, 12))
    cells = [
        cell("svc", "2026-W10"),
        cell("svc", "2026-W12"),
        cell("b", "2026-W10"),
        cell("b", "2026-W11"),
        cell("b", "2026-W11", "2026-W12"),
        cell("c", "2026-W10", "2026-W11"),
        cell("c", "2026-W11", "2026-W12"),
    ]
    attack = only(responses, cells, tree)
    assert find_leaks(attack) == [] and smallest_leak(attack) is None
    change = smallest_combination(attack)
    assert change is not None and change.people == ("a.p0",)
    assert {(unit, week) for unit, week, _ in change.atoms} == {("a", "2026-W10"), ("a", "2026-W12")}
    safe = only(
        responses, [cell("svc", "2026-W10"), cell("svc", "2026-W12"), cell("b", "2026-W11")], tree
    )
    assert smallest_combination(safe) is None
