"""Instrument files: the shipped ones load, bad ones are refused with every problem named, and
SWEMWBS wording comes only from a licensee's file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from surveys.composition import Composition
from surveys.instruments import INSTRUMENTS_DIR, InstrumentError, load_instrument, load_instruments
from tests.instrument_files import MINI, write_instrument


def test_shipped_instruments_load_with_licence_and_source() -> None:
    instruments = load_instruments()
    assert set(instruments) == {"who5", "hse", "ons4", "swemwbs"}
    assert len(instruments["who5"].items) == 5
    assert len(instruments["hse"].items) == 35
    assert len(instruments["ons4"].items) == 4
    assert len(instruments["swemwbs"].items) == 7
    for instrument in instruments.values():
        assert instrument.licence and instrument.source and instrument.recall_period


def test_swemwbs_wording_is_not_shipped() -> None:
    swemwbs = load_instruments()["swemwbs"]
    assert all(item.text is None for item in swemwbs.items)
    assert not swemwbs.has_wording
    shipped = (INSTRUMENTS_DIR / "swemwbs.toml").read_text().lower()
    assert "text =" not in shipped


def test_licensee_wording_file_supplies_swemwbs_text(tmp_path: Path) -> None:
    shutil.copy(INSTRUMENTS_DIR / "swemwbs.toml", tmp_path / "swemwbs.toml")
    lines = "\n".join(f'swemwbs_{n} = "Licensed wording {n}"' for n in range(1, 8))
    (tmp_path / "swemwbs.wording.toml").write_text(f"[items]\n{lines}\n")
    swemwbs = load_instrument(tmp_path / "swemwbs.toml")
    assert swemwbs.has_wording
    assert swemwbs.item("swemwbs_3").text == "Licensed wording 3"
    assert Composition.whole(swemwbs).available


def test_wording_file_with_unknown_item_is_refused(tmp_path: Path) -> None:
    shutil.copy(INSTRUMENTS_DIR / "swemwbs.toml", tmp_path / "swemwbs.toml")
    (tmp_path / "swemwbs.wording.toml").write_text('[items]\nswemwbs_9 = "Oops"\n')
    with pytest.raises(InstrumentError, match="unknown item 'swemwbs_9'"):
        load_instrument(tmp_path / "swemwbs.toml")


def test_a_valid_custom_instrument_scores_with_reverse_keying(tmp_path: Path) -> None:
    instrument = load_instrument(write_instrument(tmp_path, MINI))
    assert instrument.label == "mini:2"
    # mini_2 is reversed on 1-3: 1 -> 3; mean of 3 and 3
    assert Composition.whole(instrument).score({"mini_1": 3, "mini_2": 1}) == {"fine": 3.0}


def test_every_problem_in_a_bad_file_is_reported(tmp_path: Path) -> None:
    bad = (
        MINI.replace('licence = "CC0"\n', "")
        .replace('scale = "agree"\nreverse = true', 'scale = "nope"')
        .replace('method = "mean"', 'method = "median"')
    )
    with pytest.raises(InstrumentError) as caught:
        load_instrument(write_instrument(tmp_path, bad))
    problems = caught.value.problems
    assert "licence is missing (a non-empty string is required)" in problems
    assert "item 'mini_2': scale 'nope' is not defined in [scales]" in problems
    assert any("method must be one of sum, mean, conversion" in p for p in problems)
    assert str(tmp_path / "mini.toml") in str(caught.value)


def test_duplicate_items_out_of_range_scales_and_broken_toml(tmp_path: Path) -> None:
    duplicate = MINI.replace('id = "mini_2"', 'id = "mini_1"')
    with pytest.raises(InstrumentError, match="item 'mini_1' is defined twice"):
        load_instrument(write_instrument(tmp_path, duplicate))
    too_wide = MINI.replace("min = 1\nlabels", "min = 9\nlabels")
    with pytest.raises(InstrumentError, match="must lie within 0-10"):
        load_instrument(write_instrument(tmp_path, too_wide))
    with pytest.raises(InstrumentError, match="not valid TOML"):
        load_instrument(write_instrument(tmp_path, "id = ["))


def test_conversion_table_must_cover_every_raw_total(tmp_path: Path) -> None:
    text = (INSTRUMENTS_DIR / "swemwbs.toml").read_text().replace("29 = 26.02\n", "")
    with pytest.raises(InstrumentError, match=r"lacks raw totals \[29\]"):
        load_instrument(write_instrument(tmp_path, text, "swemwbs.toml"))


def test_readme_documents_every_shipped_item_id() -> None:
    readme = (INSTRUMENTS_DIR.parents[1] / "README.md").read_text()
    section = readme.split("<!-- section:pulse -->")[1].split("<!-- /section:pulse -->")[0]
    for instrument in load_instruments().values():
        for item in instrument.items:
            assert f"`{item.id}`" in section, f"README does not list {item.id}"
