"""Official translations of an instrument, supplied by the organisation in the instrument file.

A validated questionnaire may only be shown in another language in a translation its owner
published or licensed: a translation of our own would be a different, unvalidated instrument. So
none is shipped, and the file format takes one per language as a ``[translations.<code>]`` table
that says where it comes from and under what licence, and gives every item's wording and every
scale's labels::

    [translations.cy]
    licence = "Licensed to Example Council by ... for internal use"
    source = "Official Welsh translation, ..., https://..."
    recall_period = "Dros y pythefnos diwethaf"   # optional
    [translations.cy.items]
    who5_1 = "..."
    [translations.cy.scales]
    frequency6 = ["...", "...", ...]

A partial translation is refused (a half-translated questionnaire is neither version): every item
and every scale the items use must be given, with as many labels as the English scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from models.language import ENGLISH, LANGUAGES

if TYPE_CHECKING:
    from surveys.instruments import Item

KNOWN_KEYS = {"licence", "source", "recall_period", "items", "scales"}


@dataclass(frozen=True)
class InstrumentTranslation:
    """One language's official wording of an instrument, with its licence and source."""

    language: str
    licence: str
    source: str
    items: tuple[tuple[str, str], ...]
    scales: tuple[tuple[str, tuple[str, ...]], ...]
    recall_period: str | None = None

    def text(self, item_id: str) -> str:
        return dict(self.items)[item_id]

    def labels(self, scale_id: str) -> tuple[str, ...]:
        return dict(self.scales)[scale_id]

    def label(self, scale_id: str, value: int, minimum: int) -> str:
        return self.labels(scale_id)[value - minimum]


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _one(
    language: str, spec: Any, items: Sequence[Item], problems: list[str]
) -> InstrumentTranslation | None:
    where = f"[translations.{language}]"
    if language == ENGLISH or language not in LANGUAGES:
        offered = ", ".join(code for code in LANGUAGES if code != ENGLISH)
        problems.append(f"{where}: the language must be one the interface offers ({offered})")
        return None
    if not isinstance(spec, dict):
        problems.append(f"{where} must be a table")
        return None
    before = len(problems)
    for key in ("licence", "source"):
        if not _text(spec.get(key)):
            problems.append(f"{where}: {key} is missing (say under what licence and from where)")
    if "recall_period" in spec and not _text(spec["recall_period"]):
        problems.append(f"{where}: recall_period must be a non-empty string")
    unknown = set(spec) - KNOWN_KEYS
    if unknown:
        problems.append(f"{where}: unknown keys {sorted(unknown)}")
    texts = spec.get("items")
    if not isinstance(texts, dict):
        problems.append(f"{where}: needs an [items] table of item id = wording")
        texts = {}
    ids = [item.id for item in items]
    missing = [item_id for item_id in ids if not _text(texts.get(item_id))]
    if texts and missing:
        problems.append(f"{where}: no wording for items {missing} (a translation must be whole)")
    for item_id in sorted(set(texts) - set(ids)):
        problems.append(f"{where}: names unknown item {item_id!r}")
    labels = spec.get("scales")
    if not isinstance(labels, dict):
        problems.append(f"{where}: needs a [scales] table of scale id = list of labels")
        labels = {}
    used = {item.scale.id: item.scale for item in items}
    for scale_id, scale in sorted(used.items()):
        given = labels.get(scale_id)
        if not isinstance(given, list) or not all(_text(label) for label in given):
            problems.append(f"{where}: scale {scale_id!r} needs its labels as a list of strings")
        elif len(given) != len(scale.labels):
            problems.append(
                f"{where}: scale {scale_id!r} has {len(given)} labels; the instrument has "
                f"{len(scale.labels)}"
            )
    for scale_id in sorted(set(labels) - set(used)):
        problems.append(f"{where}: names unknown scale {scale_id!r}")
    if len(problems) > before:
        return None
    return InstrumentTranslation(
        language=language,
        licence=" ".join(spec["licence"].split()),
        source=" ".join(spec["source"].split()),
        items=tuple((item_id, texts[item_id]) for item_id in ids),
        scales=tuple((scale_id, tuple(labels[scale_id])) for scale_id in sorted(used)),
        recall_period=spec.get("recall_period"),
    )


def parse_translations(
    raw: Any, items: Sequence[Item], problems: list[str]
) -> tuple[InstrumentTranslation, ...]:
    """The ``[translations]`` table of an instrument file, every problem added to ``problems``."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        problems.append("[translations] must be a table of language code = translation")
        return ()
    parsed = (_one(language, spec, items, problems) for language, spec in raw.items())
    return tuple(translation for translation in parsed if translation is not None)
