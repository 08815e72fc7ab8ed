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
        "ci_low": None if suppressed else mean - 2,
        "ci_high": None if suppressed else mean + 2,
        "n": None if suppressed else 12,
        "suppressed": suppressed,
        "reason": "too few responses" if suppressed else None,
        "basis": "team",
        **extra,
    }


def datasets(chart) -> list[dict]:  # type: ignore[no-untyped-def]
    spec = chart.to_dict()
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def test_trend_chart_draws_only_released_means_with_bands() -> None:
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
    marks = [
        layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
        for layer in spec["layer"]
    ]
    assert marks == ["area", "line"]
    assert spec["layer"][0]["encoding"]["y2"]["field"] == "ci_high"


def test_heatmap_shows_suppressed_cells_grey_with_their_reason() -> None:
    frame = pd.DataFrame([figure("Alpha", "wellbeing", 70.0), figure("Beta", "wellbeing", None)])
    spec = heatmap_chart(frame).to_dict()
    grey = [layer for layer in spec["layer"] if layer["mark"].get("color") == SUPPRESSED_GREY]
    assert len(grey) == 1
    hidden_rows = spec["datasets"][grey[0]["data"]["name"]]
    assert [(r["unit_name"], r["shown"], r["why"]) for r in hidden_rows] == [
        ("Beta", "suppressed", "too few responses")
    ]
    assert "why" in json.dumps(grey[0]["encoding"]["tooltip"])
    coloured = [layer for layer in spec["layer"] if layer["encoding"].get("color")]
    coloured_rows = spec["datasets"][coloured[0]["data"]["name"]]
    assert [(r["unit_name"], r["position"]) for r in coloured_rows] == [("Alpha", 70.0)]


def test_participation_chart_plots_exact_rates_only() -> None:
    rates = pd.DataFrame(
        [
            {
                "unit_name": "Alpha",
                "response_rate": 0.8,
                "rate_label": "80%",
                "members": 15,
                "basis": "unit",
            },
            {
                "unit_name": "Beta",
                "response_rate": None,
                "rate_label": "42-75%",
                "members": 12,
                "basis": "unit",
            },
        ]
    )
    rows = datasets(participation_chart(rates))
    assert {r["unit_name"]: r["rate"] for r in rows}["Alpha"] == 0.8
    assert {r["unit_name"]: r["rate_label"] for r in rows}["Beta"] == "42-75%"


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
