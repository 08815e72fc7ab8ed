"""Counts and precision of released records: the checks beside the rank test.

Counts: no released n below k, n exact only from 10, n never more than the people behind the cell,
and each released mean equal to the mean of the responses the harness says the cell covers (a cover
model that is wrong would make the rank test prove nothing).

Issue 16, leaks 3 and 4: an interval with a mean gives a small cell's sum of squares, and the
decimals of an exact mean give back a banded count (WHO-5 totals are multiples of 4, so a mean to
two decimals fits one n only). Here the attacker knows the instrument (every score a response can
have) and the rounding (read off the released means), and asks, for each week cell with a banded
n, which counts of responses could produce the released mean: exactly one means the band is undone.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
from privacy_attack import Attack, Cell, present

from surveys.composition import Composition
from surveys.scoring import construct_score

SMALL_CELL_STATISTICS = (
    "ci_low",
    "ci_high",
    "sd",
    "std",
    "stdev",
    "variance",
    "se",
    "min",
    "max",
    "median",
    "distribution",
)


def score_lattice(composition: Composition, construct: str) -> tuple[Fraction, Fraction, Fraction]:
    """(step, lowest, highest) of the scores one response can have on a construct: every score
    is lowest + j x step (all answers to the construct's items enumerated)."""
    for found, items in composition.scored_constructs:
        if found.id != construct:
            continue
        scores = {
            Fraction(
                construct_score(found, items, dict(zip((i.id for i in items), combo, strict=True)))
            ).limit_denominator(1000)
            for combo in itertools.product(*(range(i.scale.min, i.scale.max + 1) for i in items))
        }
        low, high = min(scores), max(scores)
        step = Fraction(0)
        for score in scores:
            step = _gcd(step, score - low)
        return (step or Fraction(1), low, high)
    raise KeyError(f"{construct} is not scored by {composition.id}")


def _gcd(a: Fraction, b: Fraction) -> Fraction:
    denominator = a.denominator * b.denominator // math.gcd(a.denominator, b.denominator)
    return Fraction(math.gcd(int(a * denominator), int(b * denominator)), denominator)


def decimals_of(values: Iterable[Any]) -> int:
    """The most decimals any released mean shows (the rounding the attacker reads off)."""
    most = 0
    for value in values:
        if value is None or value == "":
            continue
        text = repr(float(value))
        if "e" not in text and "." in text:
            fraction = text.split(".")[1].rstrip("0")
            most = max(most, len(fraction))
    return most


def counts_fitting(
    mean: float, counts: Sequence[int], lattice: tuple[Fraction, Fraction, Fraction], decimals: int
) -> list[int]:
    """The counts of responses r for which some total of r scores rounds to ``mean``."""
    step, low, high = lattice
    shown = Fraction(str(round(float(mean), decimals)))
    half = Fraction(1, 2 * 10**decimals)
    fitting = []
    for r in counts:
        lowest_j = max(0, math.ceil((r * (shown - half) - r * low) / step))
        highest_j = min(
            math.floor(r * (high - low) / step), math.floor((r * (shown + half) - r * low) / step)
        )
        if lowest_j <= highest_j:
            fitting.append(r)
    return fitting


def undone_bands(
    records: Iterable[Mapping[str, Any]],
    lattices: Mapping[str, tuple[Fraction, Fraction, Fraction]],
    decimals: Mapping[str, int],
) -> list[str]:
    """Week records whose banded n the mean pins to one count (in a week, responses = people)."""
    problems = []
    for record in records:
        band = band_of(record.get("n"))
        mean = record.get("mean")
        construct = str(record.get("construct"))
        if band is None or mean in (None, "") or construct not in lattices:
            continue
        if record.get("period_start") != record.get("period_end") or band[0] == band[1]:
            continue
        low, high = int(band[0]), int(min(band[1], 10_000))
        fitting = counts_fitting(
            float(mean), range(low, high + 1), lattices[construct], decimals[construct]
        )
        if len(fitting) == 1:
            problems.append(
                f"{record['unit']} {record['period_start']} {construct}: mean {mean} with n "
                f"{record['n']} fits {fitting[0]} people only"
            )
    return problems


def own_spread_problems(records: Iterable[Mapping[str, Any]], exact_from: int = 10) -> list[str]:
    """Records under ``exact_from`` people that carry any spread statistic (interval, SD, min,
    max, median, distribution) at all: one computed from a small cell's own answers leaks its
    sum of squares, and a pooled one needs no column per cell."""
    problems = []
    for record in records:
        band = band_of(record.get("n"))
        if band is None or band[0] >= exact_from:
            continue
        for column in SMALL_CELL_STATISTICS:
            if record.get(column) not in (None, ""):
                problems.append(
                    f"{record['unit']} {record['period_start']} {record['construct']}: {column} "
                    f"{record[column]} on n {record['n']}"
                )
    return problems


def band_of(n: Any) -> tuple[float, float] | None:
    """A released n as (low, high): an exact count, a band such as '5-9', or 'N+'; None if unreadable."""
    if isinstance(n, bool) or not present(n):
        return None
    if isinstance(n, int | float):
        return (float(n), float(n))
    text = str(n).strip()
    for low_high in (text.split("-"), text.split("–")):
        if len(low_high) == 2 and all(part.strip().isdigit() for part in low_high):
            return (float(low_high[0]), float(low_high[1]))
    if text.endswith("+") and text[:-1].strip().isdigit():
        return (float(text[:-1]), math.inf)
    if text.replace(".", "", 1).isdigit():
        return (float(text), float(text))
    return None


def count_problems(
    cells: Sequence[Cell], attack_of: Callable[[str], Attack], k: int, exact_from: int = 10
) -> list[str]:
    """Released n below k, n below ``exact_from`` given exactly, n above the people behind the
    cell (a lower bound is fine: the gate cannot link weeks of one person), and cells standing on
    fewer than k distinct people (whatever n says)."""
    problems = []
    for cell in cells:
        attack = attack_of(cell.construct)
        behind = attack.cell_responses(cell)
        people = len({r.person for r in behind})
        if people < k:
            problems.append(f"{cell.label()} is released on {people} distinct people (k = {k})")
        if not present(cell.n):
            continue
        band = band_of(cell.n)
        if band is None:
            problems.append(f"{cell.label()}: n {cell.n!r} is neither a count nor a band")
            continue
        low, high = band
        if low < k:
            problems.append(f"{cell.label()}: released n {cell.n!r} is below k = {k}")
        if low == high and low < exact_from:
            problems.append(f"{cell.label()}: n {cell.n!r} is exact below {exact_from} (must be a band)")
        if low > people:  # a lower bound on people is safe; more than there are is not
            problems.append(
                f"{cell.label()}: n {cell.n!r} claims more than its {people} distinct people "
                f"({len(behind)} responses): responses counted as people, or the harness's "
                "model of the cell is wrong"
            )
    return problems


def mean_problems(
    cells: Sequence[Cell], attack_of: Callable[[str], Attack], tolerance: float = 0.5 + 1e-6
) -> list[str]:
    """Cells whose released mean is not the mean of the responses the harness says they cover (up
    to rounding and one affine change of scale per construct, e.g. 1-5 shown as 0-100). A cover
    model that is wrong would make the rank test prove nothing, so it must agree with the figures."""
    problems = []
    by_construct: dict[str, list[tuple[Cell, float]]] = defaultdict(list)
    for cell in cells:
        if cell.mean is None:
            continue
        behind = attack_of(cell.construct).cell_responses(cell)
        if not behind:
            problems.append(f"{cell.label()}: a mean {cell.mean} is released over no responses at all")
            continue
        by_construct[cell.construct].append(
            (cell, float(np.mean([r.scores[cell.construct] for r in behind])))
        )
    for pairs in by_construct.values():
        model = np.array([m for _, m in pairs])
        shown = np.array([c.mean for c, _ in pairs], dtype=float)
        scale, offset = 1.0, 0.0
        if np.abs(shown - model).max() > tolerance and len(pairs) > 1 and np.ptp(model) > 0:
            scale, offset = np.polyfit(model, shown, 1)
        for (cell, m), s in zip(pairs, shown, strict=True):
            if abs(scale * m + offset - s) > tolerance:
                problems.append(f"{cell.label()}: released mean {s} but its responses' mean is {m:.3f}")
    return problems
