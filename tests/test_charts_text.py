"""Charts people can read without seeing them: each chart's summary and table say what the chart
draws (and nothing the gate did not release), under readable headings; every palette colour is at
least 3:1 against the page and every chart module takes its colours from the palette."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from analytics.outcomes import QuadrantPoint
from app.charts import palette
from app.charts.hr import participation_chart
from app.charts.hr_text import heatmap_text, participation_text, trend_text
from app.charts.insight_text import driver_text, effects_text, priority_text
from app.charts.team_text import quadrant_text, wellbeing_text
from app.charts.text import listing, people, readable

CHARTS = Path(__file__).resolve().parents[1] / "app" / "charts"


def figure(unit: str, construct: str, mean: float | None, period: str = "2026-W10") -> dict:
    hidden = mean is None
    return {
        "unit": unit.lower(),
        "unit_name": unit,
        "construct": construct,
        "period": period,
        "period_start": period,
        "period_end": period,
        "mean": mean,
        "n": None if hidden else 12.0,  # pandas makes a count float beside a missing one
        "suppressed": hidden,
        "reason": "too few people" if hidden else None,
    }


@pytest.mark.parametrize("colour", palette.ALL_COLOURS)
def test_every_palette_colour_has_3_to_1_contrast_with_the_page(colour: str) -> None:
    assert palette.contrast_ratio(colour) >= palette.MIN_CONTRAST


def test_contrast_ratio_matches_the_wcag_reference_values() -> None:
    assert palette.contrast_ratio("#000000") == pytest.approx(21.0)
    assert palette.contrast_ratio("#767676") == pytest.approx(4.54, abs=0.01)
    assert palette.contrast_ratio("#c8c8c8") < palette.MIN_CONTRAST  # the old suppressed grey


def test_no_chart_module_names_a_colour_of_its_own() -> None:
    for module in CHARTS.glob("*.py"):
        if module.name == "palette.py":
            continue
        source = module.read_text(encoding="utf-8")
        assert not re.search(r"#[0-9a-fA-F]{6}\b", source), module.name
        assert "scheme=" not in source, module.name


def test_counts_read_as_whole_numbers_and_missing_cells_as_blank() -> None:
    assert people(1493.0) == "1493"
    assert people(None) == "" and people(float("nan")) == ""
    table = readable(
        pd.DataFrame({"unit_name": ["A"], "n": [None]}), {"unit_name": "Unit", "n": "People"}
    )
    assert list(table.columns) == ["Unit", "People"]
    assert table.iloc[0].tolist() == ["A", ""]


def test_listing_names_a_few_and_counts_the_rest() -> None:
    assert listing(["A"]) == "A"
    assert listing(["A", "B", "C"]) == "A, B and C"
    assert listing(list("ABCDEF"), limit=4) == "A, B, C, D and 2 more"


def test_trend_text_tells_only_released_means() -> None:
    frame = pd.DataFrame(
        [
            figure("Alpha", "wellbeing", 61.0),
            figure("Alpha", "wellbeing", 64.0, "2026-W11"),
            figure("Beta", "wellbeing", 52.0, "2026-W11"),
            figure("Gamma", "wellbeing", None, "2026-W11"),
        ]
    )
    text = trend_text(frame, "wellbeing")
    assert "2 units over 2 released periods" in text.summary
    assert "highest Alpha (64.0), lowest Beta (52.0)" in text.summary
    assert "Gamma" not in text.summary
    assert "Gamma" not in set(text.table["Unit"])
    assert list(text.table.columns) == ["Unit", "Period", "From week", "To week", "Mean", "People"]
    assert set(text.table["People"]) == {"12"}


def test_heatmap_table_says_suppressed_without_a_value() -> None:
    frame = pd.DataFrame([figure("Alpha", "control", 3.4), figure("Beta", "control", None)])
    text = heatmap_text(frame)
    assert "1 of 2 cells released, 1 suppressed" in text.summary
    beta = text.table[text.table["Unit"] == "Beta"].iloc[0]
    assert (beta["Mean"], beta["People"], beta["Status"]) == ("suppressed", "", "too few people")
    assert text.table[text.table["Unit"] == "Alpha"].iloc[0]["Measure"] == "Control"


def test_participation_reads_in_words_and_the_chart_has_no_crashing_sort() -> None:
    rates = pd.DataFrame(
        [
            {"unit_name": "Alpha", "rate_label": "81%", "low": 0.81, "high": 0.81, "people": 1493.0},
            {"unit_name": "Beta", "rate_label": "40-70%", "low": 0.4, "high": 0.7, "people": None},
            {
                "unit_name": "Gamma",
                "rate_label": "not shown (too few)",
                "low": None,
                "high": None,
                "people": None,
            },
        ]
    )
    text = participation_text(rates)
    assert "2 units (1 exact, 1 as a range; 1 not shown)" in text.summary
    assert "highest Alpha (81%), lowest Beta (40-70%)" in text.summary
    assert list(text.table.columns) == ["Unit", "Response rate", "People"]
    assert text.table["People"].tolist() == ["1493", "", ""]
    assert "None" not in text.table.to_string()
    spec = participation_chart(rates[rates["low"].notna()]).to_dict()
    sorts = [layer["encoding"]["y"]["sort"] for layer in spec["layer"]]
    # vega/vega-lite#7418: sort="-x" in a layer throws "Cannot destructure property 'aggregate'"
    assert sorts == [["Alpha", "Beta"], ["Alpha", "Beta"]]


def test_wellbeing_text_leaves_out_what_the_gate_suppressed() -> None:
    series = pd.DataFrame(
        [
            {"week": "2026-W01", "mean": 60.0, "n": 9, "basis": "team", "suppressed": False},
            {"week": "2026-W02", "mean": None, "n": None, "basis": "team", "suppressed": True},
            {"week": "2026-W03", "mean": 48.0, "n": 11, "basis": "pooled", "suppressed": False},
        ]
    )
    text = wellbeing_text(series)
    assert "2 released weeks, 2026-W01 to 2026-W03" in text.summary
    assert "latest 48 (pooled)" in text.summary and "lowest 48 in 2026-W03" in text.summary
    assert list(text.table["Week"]) == ["2026-W01", "2026-W03"]


def test_quadrant_text_names_teams_by_quadrant_and_skips_unplaced() -> None:
    points = [
        QuadrantPoint("Roads", -0.3, 40.0, "struggling", ""),
        QuadrantPoint("Parks", 0.2, 70.0, "thriving", ""),
        QuadrantPoint("Tiny", None, None, None, "too few people"),
    ]
    text = quadrant_text(points)
    assert "2 teams" in text.summary and "struggling: Roads" in text.summary
    assert "Tiny" not in text.summary and "Tiny" not in set(text.table["Team"])


def test_insight_texts_rank_and_count() -> None:
    records = [
        {"label": "Demands", "importance": 0.3, "low": 0.1, "high": 0.5, "score": 2.5},
        {"label": "Control", "importance": 0.1, "low": 0.0, "high": 0.2, "score": 3.9},
        {"label": "Role", "importance": 0.2, "low": 0.1, "high": 0.3, "score": None},
    ]
    assert "most important first: Demands, Role and Control" in driver_text(records).summary
    priority = priority_text(records)
    assert "2 work conditions; work on first: Demands" in priority.summary
    overview = pd.DataFrame(
        [
            {
                "team": "T1",
                "title": "Rota",
                "estimate": 6.0,
                "low": 1.0,
                "high": 11.0,
                "effect": "improved",
                "comparison_teams": 20,
            },
            {
                "team": "T2",
                "title": "Day",
                "estimate": None,
                "low": None,
                "high": None,
                "effect": "not yet measurable",
                "comparison_teams": 0,
            },
        ]
    )
    effects = effects_text(overview)
    assert "1 measured actions" in effects.summary and "1 improved" in effects.summary
    assert effects.table.iloc[0].tolist() == ["T1: Rota", "improved", "+6", "+1", "+11", "20"]
