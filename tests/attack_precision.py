"""Precision attacks on single released records: bands undone by means, a small cell's own spread.

Issue 16, leaks 3 and 4: an interval with a mean gives a small cell's sum of squares, and the
decimals of an exact mean give back a banded count (WHO-5 totals are multiples of 4, so a mean to
two decimals fits one n only). Here the attacker knows the instrument (every score a response can
have) and the rounding (read off the released means), and asks, for each week cell with a banded
n, which counts of responses could produce the released mean: exactly one means the band is undone.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from privacy_attack import band_of

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
