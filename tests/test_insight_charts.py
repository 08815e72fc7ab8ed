"""Insight charts as data (chart.to_dict()), the priority order, the CSV export and the words of an
effect, without a browser."""

from __future__ import annotations

import pandas as pd

from analytics.action_effects import MonthCell, did_effect
from analytics.action_report import OVERVIEW_COLUMNS, overview_csv
from analytics.driver_release import priority
from app.charts.insight import driver_chart, effects_chart, priority_chart

RECORDS = [
    {
        "driver": "demands",
        "label": "Demands",
        "importance": 0.06,
        "low": 0.03,
        "high": 0.09,
        "score": 2.6,
    },
    {
        "driver": "control",
        "label": "Control",
        "importance": 0.02,
        "low": 0.01,
        "high": 0.04,
        "score": 3.9,
    },
    {"driver": "role", "label": "Role", "importance": 0.01, "low": 0.0, "high": 0.02, "score": 2.4},
]


def _datasets(spec: dict) -> list[dict]:
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def test_the_driver_chart_ranks_drivers_and_draws_their_intervals() -> None:
    spec = driver_chart(RECORDS).to_dict()
    bars, whiskers = spec["layer"]
    assert bars["mark"]["type"] == "bar" and whiskers["mark"]["type"] == "rule"
    assert bars["encoding"]["y"]["sort"] == ["Demands", "Control", "Role"]
    assert whiskers["encoding"]["x"]["field"] == "low" and whiskers["encoding"]["x2"]["field"] == "high"
    assert {row["label"] for row in _datasets(spec)} == {"Demands", "Control", "Role"}


def test_the_priority_matrix_puts_important_low_scores_in_the_work_on_first_corner() -> None:
    spec = priority_chart(RECORDS).to_dict()
    points = spec["layer"][0]
    assert (
        points["encoding"]["x"]["field"] == "importance" and points["encoding"]["y"]["field"] == "score"
    )
    zones = {row["label"]: row["zone"] for row in _datasets(spec) if "zone" in row}
    assert zones["Demands"] == "Work on first"
    assert zones["Control"] == "Keep an eye on"
    assert [r["driver"] for r in priority(RECORDS)][0] == "demands"


def test_charts_say_so_when_nothing_is_released() -> None:
    assert driver_chart([]).to_dict()["mark"]["type"] == "text"
    assert priority_chart([{**RECORDS[0], "score": None}]).to_dict()["mark"]["type"] == "text"
    assert effects_chart(pd.DataFrame(columns=OVERVIEW_COLUMNS)).to_dict()["mark"]["type"] == "text"


def test_the_effects_chart_draws_each_measured_action_against_zero() -> None:
    overview = pd.DataFrame(
        [
            [1, "Dir", "Repairs", "Rota", "", "done", "2026-03-02", "improved", 12.0, 3.0, 21.0, 20, ""],
            [2, "Dir", "Lettings", "Day", "", "planned", "2026-09-02", "not yet measurable"]
            + [None, None, None, 0, ""],
        ],
        columns=OVERVIEW_COLUMNS,
    )
    spec = effects_chart(overview).to_dict()
    rows = [row for row in _datasets(spec) if "action" in row]
    assert [row["action"] for row in rows] == ["Repairs: Rota"]
    assert spec["layer"][0]["encoding"]["x2"]["field"] == "high"


def test_the_actions_export_is_safe_in_a_spreadsheet() -> None:
    frame = pd.DataFrame({"title": ["=HYPERLINK(1)", "Rota"], "estimate": [-3.0, 2.0]})
    text = overview_csv(frame)
    assert "\n'=HYPERLINK(1),-3.0\n" in text  # text quoted, numbers left as numbers


def test_a_team_already_drifting_apart_before_the_action_gets_a_caution() -> None:
    months = ["2026-01", "2026-02", "2026-03", "2026-05", "2026-06"]
    comparison = {
        t: [MonthCell(t, m, 60.0 + (t % 3) - 1 + (i % 2), "12") for i, m in enumerate(months)]
        for t in range(1, 21)
    }
    rising = [MonthCell(0, m, 50.0 + 6 * i, "12") for i, m in enumerate(months)]
    effect = did_effect(rising, comparison, month="2026-04", released_months=months)
    assert effect.pre_trend is not None and effect.pre_trend.startswith("Caution")
    assert "Only a change of about" in effect.describe()
