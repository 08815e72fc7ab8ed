"""Team dashboard charts draw only released rows, and encode what the page says they do."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd

from analytics.outcomes import QuadrantPoint
from app.charts.team import (
    delivery_chart,
    pattern_mix_chart,
    quadrant_chart,
    response_rate_chart,
    wellbeing_chart,
)
from app.components.outcomes_data import wellbeing_note


def _rows(chart) -> list[dict]:  # type: ignore[no-untyped-def]
    spec = chart.to_dict()
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def _series(rows: list[tuple[str, float | None, str, bool]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "week": week,
                "mean": mean,
                "n": None if suppressed else "5-9",
                "suppressed": suppressed,
                "reason": "too few responses" if suppressed else None,
                "basis": basis,
            }
            for week, mean, basis, suppressed in rows
        ]
    )


def test_wellbeing_chart_leaves_out_what_the_gate_suppressed() -> None:
    series = _series(
        [
            ("2026-W01", 61.0, "pooled over 4 weeks", False),
            ("2026-W02", None, "team", True),
            ("2026-W03", 58.0, "rolled up into Housing", False),
        ]
    )
    rows = _rows(wellbeing_chart(series))
    assert {row["week"] for row in rows} == {"2026-W01", "2026-W03"}
    assert {row["basis"] for row in rows} == {"pooled over 4 weeks", "rolled up into Housing"}
    spec = wellbeing_chart(series).to_dict()
    assert spec["encoding"]["color"]["field"] == "basis"
    assert spec["encoding"]["y"]["field"] == "mean"
    # no interval: a cell's own spread is never released
    assert "ci_low" not in json.dumps(spec) and "y2" not in spec["encoding"]


def test_delivery_chart_has_progress_and_expected_per_objective() -> None:
    history = pd.DataFrame(
        [
            {
                "week_ending": date(2026, 1, 4),
                "objective_id": 1,
                "series": "Repairs",
                "kind": "objective",
                "progress": 0.0,
                "expected": 0.1,
            },
            {
                "week_ending": date(2026, 1, 11),
                "objective_id": 1,
                "series": "Repairs",
                "kind": "objective",
                "progress": 0.3,
                "expected": 0.2,
            },
            {
                "week_ending": date(2026, 1, 11),
                "objective_id": 1,
                "series": "Repairs: backlog",
                "kind": "key result",
                "progress": 0.5,
                "expected": 0.2,
            },
        ]
    )
    rows = _rows(delivery_chart(history))
    assert {(row["measure"], row["share"]) for row in rows} == {
        ("progress", 0.0),
        ("expected", 0.1),
        ("progress", 0.3),
        ("expected", 0.2),
    }
    assert {row["series"] for row in _rows(delivery_chart(history, kind="key result"))} == {
        "Repairs: backlog"
    }
    encoding = delivery_chart(history).to_dict()["encoding"]
    assert encoding["strokeDash"]["field"] == "measure" and encoding["y"]["axis"]["format"] == "%"


def test_pattern_mix_and_response_rate_show_only_released_values() -> None:
    mix = pd.DataFrame(
        [
            {
                "work_pattern": p,
                "share": None,
                "n": None,
                "suppressed": True,
                "reason": "too few responses",
                "basis": "team",
            }
            for p in ("home", "office")
        ]
    )
    assert _rows(pattern_mix_chart(mix)) == []
    released = mix.assign(share=[0.25, 0.75], n=["5-9", 12], suppressed=False)
    assert sorted(row["share"] for row in _rows(pattern_mix_chart(released))) == [0.25, 0.75]
    rates = pd.DataFrame(
        [
            {"week": "2026-W01", "response_rate": None, "rate_label": "42-75%", "basis": "team"},
            {"week": "2026-W02", "response_rate": 0.8, "rate_label": "80%", "basis": "team"},
        ]
    )
    assert [row["week"] for row in _rows(response_rate_chart(rates))] == ["2026-W02"]


def test_quadrant_plots_only_teams_with_their_own_released_wellbeing() -> None:
    points = [
        QuadrantPoint("Repairs", 0.05, 64.0, "thriving", ""),
        QuadrantPoint("Lettings", -0.3, 41.0, "struggling", "pooled over 4 weeks"),
        QuadrantPoint("Tiny", 0.1, None, None, "wellbeing suppressed (too few responses)"),
    ]
    plotted = {row["team"]: row for row in _rows(quadrant_chart(points)) if "team" in row}
    assert set(plotted) == {"Repairs", "Lettings"}
    assert plotted["Lettings"]["quadrant"] == "struggling"
    labels = {row["label"] for row in _rows(quadrant_chart(points)) if "label" in row}
    assert labels == {"thriving", "delivering at a cost", "coasting", "struggling"}


def test_wellbeing_note_says_when_no_weekly_team_figure_is_released() -> None:
    small = _series(
        [
            ("2026-W01", 61.0, "pooled over 4 weeks", False),
            ("2026-W02", 60.0, "pooled over 4 weeks", False),
        ]
    )
    note = wellbeing_note(small, 5)
    assert "no weekly figure for the team alone" in note and "pooled over 4 weeks" in note
    rolled = wellbeing_note(_series([("2026-W01", 58.0, "rolled up into Housing", False)]), 5)
    assert "no weekly figure for the team alone" in rolled and "rolled up into Housing" in rolled
    mixed = wellbeing_note(
        _series([("2026-W01", 61.0, "team", False), ("2026-W02", 60.0, "pooled over 4 weeks", False)]), 5
    )
    assert "In 1 of 2 weeks fewer than 5 people answered" in mixed
    nothing = wellbeing_note(_series([("2026-W01", None, "team", True)]), 5)
    assert "No wellbeing figure is released" in nothing
    assert wellbeing_note(_series([("2026-W01", 61.0, "team", False)]), 5) is None
