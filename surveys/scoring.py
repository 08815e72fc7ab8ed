"""Scoring: the one place where raw answers become construct scores.

- An item's score is its raw value, reverse-keyed items as ``min + max - value`` (6 - x on 1-5), so
  a higher item score always points the same way as its construct.
- ``sum``: the item scores added up, times ``multiplier`` (WHO-5 percentage = raw sum x 4).
- ``mean``: the mean of the item scores asked (HSE domain mean; a single ONS4 item is its own mean).
- ``conversion``: the raw sum looked up in the instrument's table (SWEMWBS metric score).

``sum`` and ``conversion`` need every item of the construct; ``mean`` needs at least one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from surveys.instruments import Construct, Item


def item_score(item: Item, value: int) -> int:
    """The item's score with reverse keying applied (raw value must already be validated)."""
    return item.scale.min + item.scale.max - value if item.reverse else value


def construct_score(construct: Construct, items: Sequence[Item], answers: Mapping[str, int]) -> float:
    """Score one construct from the answers to ``items`` (the construct's items that were asked)."""
    scores = [item_score(item, answers[item.id]) for item in items]
    if not scores:
        raise ValueError(f"{construct.id}: no answered items to score")
    if construct.method == "sum":
        return float(sum(scores)) * construct.multiplier
    if construct.method == "mean":
        return sum(scores) / len(scores)
    if construct.method == "conversion":
        return construct.convert(sum(scores))
    raise ValueError(f"{construct.id}: unknown scoring method {construct.method!r}")
