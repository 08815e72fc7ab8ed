"""Compositions: which items a weekly pulse asks, drawn from one or more instruments.

The default, ``weekly-core``, is WHO-5 plus five HSE items (two for demands, one each for control,
manager support and peer support): ten taps plus the hybrid question, well under a minute. An
admin picks another composition per organisation (``pulse_composition`` org setting), effective
from the next week. ``Composition.whole(instrument)`` asks a whole instrument (imports use it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from surveys.instruments import Construct, Instrument, Item, get_instrument
from surveys.scoring import construct_score

DEFAULT_COMPOSITION_ID = "weekly-core"
HSE_CORE = ("hse_06", "hse_09", "hse_15", "hse_23", "hse_07")


class InvalidAnswers(ValueError):
    """Answers that do not fit the composition; ``problems`` says what, item by item."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Composition:
    """An ordered selection of items from instruments, scored by each instrument's own rules."""

    id: str
    version: str
    title: str
    description: str
    parts: tuple[tuple[Instrument, tuple[str, ...]], ...]

    @classmethod
    def whole(cls, instrument: Instrument) -> Composition:
        return cls(
            id=instrument.id,
            version=instrument.version,
            title=instrument.name,
            description=f"All {len(instrument.items)} items of {instrument.name}",
            parts=((instrument, tuple(item.id for item in instrument.items)),),
        )

    def __post_init__(self) -> None:
        for instrument, item_ids in self.parts:
            for construct in {instrument.item(item_id).construct for item_id in item_ids}:
                needs_all = instrument.construct(construct).method in ("sum", "conversion")
                if needs_all and not {i.id for i in instrument.items_of(construct)} <= set(item_ids):
                    raise ValueError(
                        f"{self.id}: {construct} is scored by {instrument.id} only on all its items"
                    )

    @property
    def label(self) -> str:
        """Stored as ``pulse_response.instrument_version``."""
        return f"{self.id}:{self.version}"

    @cached_property
    def items(self) -> tuple[tuple[Instrument, Item], ...]:
        return tuple(
            (instrument, instrument.item(item_id)) for instrument, ids in self.parts for item_id in ids
        )

    @cached_property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for _, item in self.items)

    @cached_property
    def _items_by_id(self) -> dict[str, Item]:
        return {item.id: item for _, item in self.items}

    @cached_property
    def scored_constructs(self) -> tuple[tuple[Construct, tuple[Item, ...]], ...]:
        """Each construct this composition scores, with the items it asks for it (sorted by id)."""
        found: dict[str, tuple[Construct, list[Item]]] = {}
        for instrument, item in self.items:
            construct = instrument.construct(item.construct)
            found.setdefault(construct.id, (construct, []))[1].append(item)
        return tuple((c, tuple(items)) for _, (c, items) in sorted(found.items()))

    @property
    def available(self) -> bool:
        """Every item has wording (a licensee's wording file supplies what we may not ship)."""
        return all(item.text for _, item in self.items)

    def validate(self, answers: Mapping[str, Any]) -> dict[str, int]:
        """Every item answered once, with a whole number on its scale; ``InvalidAnswers`` otherwise."""
        problems: list[str] = []
        clean: dict[str, int] = {}
        for item_id in self.item_ids:
            item = self._items_by_id[item_id]
            value = answers.get(item_id)
            if value is None:
                problems.append(f"{item_id}: no answer given")
            elif isinstance(value, bool) or not isinstance(value, int):
                problems.append(f"{item_id}: {value!r} is not a whole number")
            elif not item.scale.min <= value <= item.scale.max:
                problems.append(f"{item_id}: {value} is outside {item.scale.min}-{item.scale.max}")
            else:
                clean[item_id] = value
        unknown = sorted(set(answers) - set(self.item_ids))
        if unknown:
            problems.append(f"not in the {self.id} pulse: {', '.join(map(str, unknown))}")
        if problems:
            raise InvalidAnswers(problems)
        return clean

    def score(self, answers: Mapping[str, int]) -> dict[str, float]:
        """Construct scores of validated answers."""
        return {c.id: construct_score(c, items, answers) for c, items in self.scored_constructs}


def _compositions() -> dict[str, Composition]:
    who5, hse, ons4, swemwbs = (get_instrument(i) for i in ("who5", "hse", "ons4", "swemwbs"))
    who5_ids = tuple(item.id for item in who5.items)
    defined = [
        Composition(
            id="weekly-core",
            version="1",
            title="Weekly pulse (WHO-5 and HSE core)",
            description="WHO-5 and five HSE items on demands, control, manager and peer support.",
            parts=((who5, who5_ids), (hse, HSE_CORE)),
        ),
        Composition(
            id="weekly-ons4",
            version="1",
            title="Weekly pulse (ONS4 and HSE core)",
            description="The four ONS personal wellbeing questions and five HSE items.",
            parts=((ons4, tuple(item.id for item in ons4.items)), (hse, HSE_CORE)),
        ),
        Composition(
            id="weekly-swemwbs",
            version="1",
            title="Weekly pulse (SWEMWBS and HSE core)",
            description="SWEMWBS (needs your organisation's licensed wording file) and five HSE items.",
            parts=((swemwbs, tuple(item.id for item in swemwbs.items)), (hse, HSE_CORE)),
        ),
        Composition(
            id="hse-full",
            version="1",
            title="Full HSE Management Standards Indicator Tool",
            description="All 35 HSE items (about five minutes): for a quarterly deep dive.",
            parts=((hse, tuple(item.id for item in hse.items)),),
        ),
    ]
    return {composition.id: composition for composition in defined}


_CACHE: dict[str, Composition] = {}


def all_compositions() -> dict[str, Composition]:
    """Every defined composition by id (built once; instruments are cached too)."""
    if not _CACHE:
        _CACHE.update(_compositions())
    return dict(_CACHE)


def available_compositions() -> dict[str, Composition]:
    """Compositions that can be shown to staff (all wording present)."""
    return {cid: c for cid, c in all_compositions().items() if c.available}


def get_composition(composition_id: str = DEFAULT_COMPOSITION_ID) -> Composition:
    compositions = all_compositions()
    if composition_id not in compositions:
        raise KeyError(
            f"unknown composition {composition_id!r}; known: {', '.join(sorted(compositions))}"
        )
    return compositions[composition_id]
