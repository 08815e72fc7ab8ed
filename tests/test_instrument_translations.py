"""An organisation's official translation of an instrument, in the instrument file: loaded only
when it is whole and says its licence and source; none is shipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from surveys.instruments import INSTRUMENTS_DIR, InstrumentError, load_instrument, load_instruments
from tests.instrument_files import MINI, write_instrument

WELSH = """
[translations.cy]
licence = "Licensed to Example Council for internal use"
source = "Official Welsh version, Example Publisher, 2026"
recall_period = "Yr wythnos hon"
[translations.cy.items]
mini_1 = "Rwy'n iawn"
mini_2 = "Dydw i ddim yn iawn"
[translations.cy.scales]
agree = ["Na", "Wel", "Ie"]
"""


def _load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    return load_instrument(write_instrument(tmp_path, text))


def _problems(tmp_path: Path, text: str) -> str:
    with pytest.raises(InstrumentError) as caught:
        _load(tmp_path, text)
    return "; ".join(caught.value.problems)


def test_a_whole_licensed_translation_is_loaded(tmp_path: Path) -> None:
    instrument = _load(tmp_path, MINI + WELSH)
    welsh = instrument.translation("cy")
    assert welsh is not None and instrument.translation("en") is None
    assert welsh.text("mini_2") == "Dydw i ddim yn iawn"
    assert welsh.labels("agree") == ("Na", "Wel", "Ie")
    assert welsh.label("agree", 3, minimum=1) == "Ie"
    assert welsh.recall_period == "Yr wythnos hon"
    assert welsh.licence.startswith("Licensed to Example Council")
    assert instrument.item("mini_1").text == "I am fine"  # the English wording stays as it was


def test_no_shipped_instrument_carries_a_translation() -> None:
    """We hold no licence to ship one: an organisation supplies its own."""
    assert all(not instrument.translations for instrument in load_instruments(INSTRUMENTS_DIR).values())


def test_a_partial_translation_is_refused_naming_what_is_missing(tmp_path: Path) -> None:
    partial = WELSH.replace('mini_2 = "Dydw i ddim yn iawn"\n', "")
    assert "no wording for items ['mini_2']" in _problems(tmp_path, MINI + partial)


def test_a_translation_without_licence_or_source_is_refused(tmp_path: Path) -> None:
    unlicensed = WELSH.replace('licence = "Licensed to Example Council for internal use"\n', "")
    unsourced = WELSH.replace('source = "Official Welsh version, Example Publisher, 2026"\n', "")
    assert "licence is missing" in _problems(tmp_path, MINI + unlicensed)
    assert "source is missing" in _problems(tmp_path, MINI + unsourced)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('agree = ["Na", "Wel", "Ie"]', 'agree = ["Na", "Ie"]'), "has 2 labels; the instrument has 3"),
        (
            (
                "mini_1 =",
                "mini_9 =",
            ),
            "names unknown item 'mini_9'",
        ),
        (('agree = ["Na"', 'other = ["x"]\nagree = ["Na"'), "names unknown scale 'other'"),
        (("[translations.cy]", "[translations.fr]"), "the language must be one the interface offers"),
        (("[translations.cy]", "[translations.en]"), "the language must be one the interface offers"),
        (('recall_period = "Yr wythnos hon"', 'recall_period = " "'), "recall_period must be"),
        (('recall_period = "Yr wythnos hon"', 'author = "x"'), "unknown keys ['author']"),
    ],
)
def test_a_translation_that_does_not_fit_the_instrument_is_refused(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in WELSH
    problems = _problems(tmp_path, MINI + WELSH.replace(old, new, 1))
    assert expected in problems and problems.startswith("[translations.")
