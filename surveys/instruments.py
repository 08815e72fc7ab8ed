"""Instruments as data: one TOML file per instrument in ``surveys/instruments/``.

A file names its items (id, wording, construct, response scale, reverse keying), its recall period,
licence and source, and how each construct is scored (``sum`` with an optional multiplier, ``mean``
or ``conversion`` through a raw-to-metric table). Loading validates the whole file and reports every
problem at once, so an organisation adding an instrument sees all its mistakes in one go.

Wording that may not be redistributed (SWEMWBS) is left out of the shipped file; a licensed
organisation puts ``<instrument id>.wording.toml`` (``[items]`` table of item id = wording) next to
it. Items without wording can be scored (imports) but not shown in a form.

An official translation the organisation is licensed to use goes in the same file as a
``[translations.<language>]`` table (``surveys/instrument_translations.py``); none is shipped.

Loaded instruments are cached per directory: parsing happens once per process.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from surveys.instrument_translations import InstrumentTranslation, parse_translations

INSTRUMENTS_DIR = Path(__file__).resolve().parent / "instruments"
SCORING_METHODS = ("sum", "mean", "conversion")
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Every answer is a whole number from 0 to 10 (stored in pulse_response.answers): scales must fit.
STORABLE_MIN, STORABLE_MAX = 0, 10


class InstrumentError(ValueError):
    """An instrument file is invalid; ``problems`` lists every problem found."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


@dataclass(frozen=True)
class Scale:
    """A response scale: integer values ``min``..``max``, one label per value."""

    id: str
    min: int
    labels: tuple[str, ...]

    @property
    def max(self) -> int:
        return self.min + len(self.labels) - 1

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(range(self.min, self.max + 1))

    def label(self, value: int) -> str:
        return self.labels[value - self.min]


@dataclass(frozen=True)
class Item:
    """One question. ``text`` is None when the wording must come from a licensee."""

    id: str
    construct: str
    scale: Scale
    text: str | None
    reverse: bool = False


@dataclass(frozen=True)
class Construct:
    """What a group of items measures and how it is scored."""

    id: str
    name: str
    method: str
    min: float
    max: float
    multiplier: float = 1.0
    conversion: tuple[tuple[int, float], ...] = ()
    higher_is_better: bool = True

    def convert(self, raw_total: int) -> float:
        table = dict(self.conversion)
        if raw_total not in table:
            raise ValueError(f"{self.id}: raw total {raw_total} is not in the conversion table")
        return table[raw_total]


@dataclass(frozen=True)
class Instrument:
    id: str
    version: str
    name: str
    recall_period: str
    licence: str
    source: str
    items: tuple[Item, ...]
    constructs: tuple[Construct, ...]
    translations: tuple[InstrumentTranslation, ...] = ()

    def translation(self, language: str) -> InstrumentTranslation | None:
        """The organisation's official translation into ``language``, if it supplied one."""
        return next((t for t in self.translations if t.language == language), None)

    @property
    def label(self) -> str:
        """The ``instrument_version`` stored on a response that used the whole instrument."""
        return f"{self.id}:{self.version}"

    @property
    def has_wording(self) -> bool:
        return all(item.text for item in self.items)

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(f"{self.id} has no item {item_id!r}")

    def construct(self, construct_id: str) -> Construct:
        for construct in self.constructs:
            if construct.id == construct_id:
                return construct
        raise KeyError(f"{self.id} has no construct {construct_id!r}")

    def items_of(self, construct_id: str) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.construct == construct_id)


def _parse_scales(raw: Any, problems: list[str]) -> dict[str, Scale]:
    scales: dict[str, Scale] = {}
    if not isinstance(raw, dict) or not raw:
        problems.append("[scales] is missing or empty: define at least one response scale")
        return scales
    for scale_id, spec in raw.items():
        if not isinstance(spec, dict):
            problems.append(f"scale {scale_id!r} must be a table with min and labels")
            continue
        minimum, labels = spec.get("min"), spec.get("labels")
        if not isinstance(minimum, int) or isinstance(minimum, bool):
            problems.append(f"scale {scale_id!r}: min must be an integer")
            continue
        if (
            not isinstance(labels, list)
            or len(labels) < 2
            or not all(isinstance(x, str) for x in labels)
        ):
            problems.append(f"scale {scale_id!r}: labels must be a list of at least two strings")
            continue
        scale = Scale(id=scale_id, min=minimum, labels=tuple(labels))
        if scale.min < STORABLE_MIN or scale.max > STORABLE_MAX:
            problems.append(
                f"scale {scale_id!r}: values {scale.min}-{scale.max} must lie within "
                f"{STORABLE_MIN}-{STORABLE_MAX}"
            )
            continue
        scales[scale_id] = scale
    return scales


def _parse_items(
    raw: Any, scales: dict[str, Scale], wording: dict[str, str], problems: list[str]
) -> list[Item]:
    items: list[Item] = []
    if not isinstance(raw, list) or not raw:
        problems.append("[[items]] is missing: an instrument needs at least one item")
        return items
    seen: set[str] = set()
    for number, spec in enumerate(raw, start=1):
        where = f"item {number}"
        if not isinstance(spec, dict):
            problems.append(f"{where} must be a table")
            continue
        item_id = spec.get("id")
        if not isinstance(item_id, str) or not ID_PATTERN.match(item_id):
            problems.append(f"{where}: id must be lower-case letters, digits and _ (got {item_id!r})")
            continue
        where = f"item {item_id!r}"
        if item_id in seen:
            problems.append(f"{where} is defined twice")
            continue
        seen.add(item_id)
        construct, scale_id = spec.get("construct"), spec.get("scale")
        if not isinstance(construct, str) or not construct:
            problems.append(f"{where}: construct is missing")
            continue
        if scale_id not in scales:
            problems.append(f"{where}: scale {scale_id!r} is not defined in [scales]")
            continue
        text = wording.get(item_id, spec.get("text"))
        if text is not None and (not isinstance(text, str) or not text.strip()):
            problems.append(f"{where}: text must be a non-empty string")
            continue
        reverse = spec.get("reverse", False)
        if not isinstance(reverse, bool):
            problems.append(f"{where}: reverse must be true or false")
            continue
        unknown = set(spec) - {"id", "text", "construct", "scale", "reverse"}
        if unknown:
            problems.append(f"{where}: unknown keys {sorted(unknown)}")
        items.append(
            Item(id=item_id, construct=construct, scale=scales[scale_id], text=text, reverse=reverse)
        )
    return items


def _parse_constructs(raw: Any, items: list[Item], problems: list[str]) -> list[Construct]:
    constructs: list[Construct] = []
    if not isinstance(raw, list) or not raw:
        problems.append("[[constructs]] is missing: say how each construct is scored")
        return constructs
    for number, spec in enumerate(raw, start=1):
        if not isinstance(spec, dict) or not isinstance(spec.get("id"), str):
            problems.append(f"construct {number}: must be a table with an id")
            continue
        construct_id = spec["id"]
        where = f"construct {construct_id!r}"
        method = spec.get("method")
        if method not in SCORING_METHODS:
            problems.append(
                f"{where}: method must be one of {', '.join(SCORING_METHODS)} (got {method!r})"
            )
            continue
        members = [item for item in items if item.construct == construct_id]
        if not members:
            problems.append(f"{where}: no item measures it")
            continue
        conversion: tuple[tuple[int, float], ...] = ()
        if method == "conversion":
            table = spec.get("conversion")
            if not isinstance(table, dict) or not table:
                problems.append(f"{where}: method conversion needs a [constructs.conversion] table")
                continue
            try:
                conversion = tuple(sorted((int(raw_total), float(v)) for raw_total, v in table.items()))
            except (TypeError, ValueError):
                problems.append(f"{where}: conversion keys must be whole raw totals and values numbers")
                continue
            low = sum(item.scale.min for item in members)
            high = sum(item.scale.max for item in members)
            missing = sorted(set(range(low, high + 1)) - {raw_total for raw_total, _ in conversion})
            if missing:
                problems.append(f"{where}: conversion table lacks raw totals {missing}")
                continue
        try:
            construct = Construct(
                id=construct_id,
                name=str(spec.get("name", construct_id)),
                method=method,
                min=float(spec["min"]),
                max=float(spec["max"]),
                multiplier=float(spec.get("multiplier", 1.0)),
                conversion=conversion,
                higher_is_better=bool(spec.get("higher_is_better", True)),
            )
        except (KeyError, TypeError, ValueError):
            problems.append(f"{where}: min and max (the score range) must be numbers")
            continue
        constructs.append(construct)
    scored = {construct.id for construct in constructs}
    for construct_id in sorted({item.construct for item in items} - scored):
        if not any(f"construct {construct_id!r}" in problem for problem in problems):
            problems.append(
                f"construct {construct_id!r} is used by items but has no [[constructs]] entry"
            )
    return constructs


def parse_instrument(
    data: dict[str, Any], *, source: str, wording: dict[str, str] | None = None
) -> Instrument:
    """Validate parsed TOML; raise ``InstrumentError`` listing every problem."""
    problems: list[str] = []
    for key in ("id", "version", "name", "recall_period", "licence", "source"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            problems.append(f"{key} is missing (a non-empty string is required)")
    instrument_id = data.get("id")
    if isinstance(instrument_id, str) and not ID_PATTERN.match(instrument_id):
        problems.append(f"id {instrument_id!r} must be lower-case letters, digits and _")
    scales = _parse_scales(data.get("scales"), problems)
    items = _parse_items(data.get("items"), scales, wording or {}, problems)
    constructs = _parse_constructs(data.get("constructs"), items, problems)
    translations = parse_translations(data.get("translations"), items, problems)
    for item_id in sorted(set(wording or {}) - {item.id for item in items}):
        problems.append(f"wording file names unknown item {item_id!r}")
    if problems:
        raise InstrumentError(source, problems)
    return Instrument(
        id=data["id"],
        version=data["version"],
        name=data["name"],
        recall_period=data["recall_period"],
        licence=data["licence"],
        source=data["source"],
        items=tuple(items),
        constructs=tuple(constructs),
        translations=translations,
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise InstrumentError(str(path), [f"not valid TOML: {error}"]) from error


def load_instrument(path: Path) -> Instrument:
    """Load one instrument file and, if present, its licensee wording file beside it."""
    data = _read_toml(path)
    wording_path = path.with_name(f"{path.stem}.wording.toml")
    wording: dict[str, str] = {}
    if wording_path.exists():
        wording_items = _read_toml(wording_path).get("items")
        if not isinstance(wording_items, dict) or not all(
            isinstance(v, str) for v in wording_items.values()
        ):
            raise InstrumentError(str(wording_path), ['needs an [items] table of item id = "wording"'])
        wording = dict(wording_items)
    return parse_instrument(data, source=str(path), wording=wording)


@lru_cache(maxsize=8)
def load_instruments(directory: Path = INSTRUMENTS_DIR) -> dict[str, Instrument]:
    """Every instrument in ``directory`` by id (cached: files are parsed once per process)."""
    instruments: dict[str, Instrument] = {}
    for path in sorted(directory.glob("*.toml")):
        if path.name.endswith(".wording.toml"):
            continue
        instrument = load_instrument(path)
        if instrument.id in instruments:
            raise InstrumentError(str(path), [f"instrument id {instrument.id!r} is already used"])
        instruments[instrument.id] = instrument
    return instruments


def get_instrument(instrument_id: str, directory: Path = INSTRUMENTS_DIR) -> Instrument:
    """The instrument with this id; ``KeyError`` with the known ids otherwise."""
    instruments = load_instruments(directory)
    if instrument_id not in instruments:
        raise KeyError(f"unknown instrument {instrument_id!r}; known: {', '.join(sorted(instruments))}")
    return instruments[instrument_id]
