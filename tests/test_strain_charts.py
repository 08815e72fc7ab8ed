"""The strain charts draw exactly the verdicts they are given: cluster centres with their values,
each team's score with its flag, and the flag threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.strain import detect_strain
from app.charts import palette
from app.charts.strain import cluster_overview_chart, team_scores_chart


def _result():  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(9)
    table = pd.DataFrame(rng.normal(size=(50, 3)), columns=["wellbeing", "support", "hours"])
    table.loc[:4, ["wellbeing", "support"]] -= 3.0
    table.loc[:4, "hours"] += 3.0
    return detect_strain(table, ["hours"], labels={"hours": "Hours worked"})


def _values(spec: dict) -> list[dict]:
    datasets = spec["datasets"]
    return [row for rows in datasets.values() for row in rows]


def test_cluster_chart_has_one_cell_per_cluster_and_feature_with_the_centre_value() -> None:
    result = _result()
    spec = cluster_overview_chart(result.clusters, result.labels).to_dict()
    cells = [row for row in _values(spec) if "sd_worse" in row]
    assert len(cells) == len(result.clusters) * len(result.features_used)
    worst = result.clusters[0]
    hours = next(
        row
        for row in cells
        if row["cluster"].startswith(worst.cluster) and row["feature"] == "Hours worked"
    )
    assert hours["sd_worse"] == round(worst.centroid["hours"], 2)
    assert f"({worst.size} teams)" in hours["cluster"]
    color = spec["layer"][0]["encoding"]["color"]
    # worse than average (positive) is the palette's "bad" end, better its "good" end
    assert color["field"] == "sd_worse"
    assert color["scale"]["range"][0] == palette.GOOD and color["scale"]["range"][-1] == palette.BAD
    assert spec["layer"][1]["mark"]["type"] == "text", "values are written in the cells, not colour only"


def test_team_scores_chart_marks_flagged_teams_and_the_threshold() -> None:
    result = _result()
    table = result.to_frame().assign(name="", alert=False)
    spec = team_scores_chart(table, result.threshold).to_dict()
    rows = _values(spec)
    flagged_rows = {row["team"] for row in rows if row.get("status") == "flagged"}
    assert flagged_rows == {record.team for record in result.flagged}
    assert any(row.get("threshold") == round(result.threshold, 3) for row in rows)
    assert spec["layer"][1]["mark"]["type"] == "rule"


def test_team_scores_chart_without_a_threshold_has_no_rule() -> None:
    result = _result()
    table = result.to_frame().assign(name="", alert=False)
    spec = team_scores_chart(table, None).to_dict()
    assert len(spec["layer"]) == 1
