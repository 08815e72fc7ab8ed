"""HR charts and norms: what a chart draws is exactly what the gate released."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analytics.norms import HSE_BENCHMARKS, WHO5_CUTOFF, norm_band, norm_lines, with_norms
from app.charts.hr import SUPPRESSED_GREY, heatmap_chart, norms_chart, participation_chart, trend_chart


def figure(unit: str, construct: str, mean: float | None, week: str = "2026-W10", **extra) -> dict:
    suppressed = mean is None
    return {
        "unit": unit.lower(),
        "unit_name": unit,
        "parent": None,
        "level": "team",
        "period_start": week,
        "period_end": week,
        "construct": construct,
        "mean": mean,
        "period": week,
        "n": None if suppressed else 12,
        "suppressed": suppressed,
        "reason": "too few people" if suppressed else None,
        "basis": "team",
        **extra,
    }


def datasets(chart) -> list[dict]:  # type: ignore[no-untyped-def]
    spec = chart.to_dict()
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def test_trend_chart_draws_only_released_means_and_no_interval() -> None:
    frame = pd.DataFrame(
        [
            figure("Alpha", "wellbeing", 61.0),
            figure("Alpha", "wellbeing", 63.0, "2026-W11"),
            figure("Beta", "wellbeing", None),
            figure("Alpha", "control", 3.4),
        ]
    )
    chart = trend_chart(frame, "wellbeing")
    rows = datasets(chart)
    assert sorted(r["mean"] for r in rows) == [61.0, 63.0]
    spec = chart.to_dict()
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["x"]["field"] == "period"
    assert "ci_" not in json.dumps(spec)


def test_heatmap_shows_suppressed_cells_grey_with_their_reason() -> None:
    frame = pd.DataFrame([figure("Alpha", "wellbeing", 70.0), figure("Beta", "wellbeing", None)])
    spec = heatmap_chart(frame).to_dict()
    grey = [layer for layer in spec["layer"] if layer["mark"].get("color") == SUPPRESSED_GREY]
    assert len(grey) == 1
    hidden_rows = spec["datasets"][grey[0]["data"]["name"]]
    assert [(r["unit_name"], r["shown"], r["why"]) for r in hidden_rows] == [
        ("Beta", "suppressed", "too few people")
    ]
    assert "why" in json.dumps(grey[0]["encoding"]["tooltip"])
    coloured = [layer for layer in spec["layer"] if layer["encoding"].get("color")]
    coloured_rows = spec["datasets"][coloured[0]["data"]["name"]]
    assert [(r["unit_name"], r["position"]) for r in coloured_rows] == [("Alpha", 70.0)]


def test_participation_chart_draws_a_band_as_the_range_it_allows() -> None:
    rates = pd.DataFrame(
        [
            {"unit_name": "Alpha", "rate_label": "80%", "low": 0.8, "high": 0.8},
            {"unit_name": "Beta", "rate_label": "42-75%", "low": 0.42, "high": 0.75},
        ]
    )
    spec = participation_chart(rates).to_dict()
    rows = {r["unit_name"]: r for rows in spec["datasets"].values() for r in rows}
    assert (rows["Alpha"]["low"], rows["Alpha"]["high"]) == (0.8, 0.8)
    assert (rows["Beta"]["low"], rows["Beta"]["high"], rows["Beta"]["rate_label"]) == (
        0.42,
        0.75,
        "42-75%",
    )
    # one layer draws "at least", one the band's range: nothing claims an exact rate for Beta
    assert [layer["encoding"].get("x2", {}).get("field") for layer in spec["layer"]] == [None, "high"]


def test_norm_bands_follow_the_published_cut_offs() -> None:
    assert norm_band("wellbeing", WHO5_CUTOFF) == "at or below WHO-5 cut-off (50)"
    assert norm_band("wellbeing", 50.5) == "above WHO-5 cut-off (50)"
    p20, p50, p80 = HSE_BENCHMARKS["demands"]
    assert norm_band("demands", p20 - 0.01).startswith("below HSE p20")
    assert norm_band("demands", p50).startswith("HSE p50-p80")
    assert norm_band("demands", p80).startswith("HSE p80")
    assert norm_band("anxiety", 4.0) == "more anxious than UK average"
    assert norm_band("life_satisfaction", 7.6) == "above UK average"
    assert norm_band("swemwbs", 24.0) is None


def test_norms_chart_ticks_each_construct_at_its_norm() -> None:
    frame = with_norms(
        pd.DataFrame(
            [
                figure("Alpha", "wellbeing", 48.0),
                figure("Alpha", "demands", 3.0),
                figure("Beta", "demands", None),
            ]
        )
    )
    assert [None if pd.isna(value) else value for value in frame["norm"]] == [
        "at or below WHO-5 cut-off (50)",
        "HSE p20-p50: clear need for improvement",
        None,
    ]
    spec = norms_chart(frame).to_dict()
    values = {(r.get("construct"), r.get("label")): r.get("value") for r in datasets(norms_chart(frame))}
    assert values[("wellbeing", "WHO-5 cut-off")] == WHO5_CUTOFF
    assert values[("demands", "HSE p80")] == pytest.approx(HSE_BENCHMARKS["demands"][2])
    assert len(spec["vconcat"]) == 2
    assert {line.construct for line in norm_lines(["anxiety"])} == {"anxiety"}
