"""Driver analysis on a table: the method (dominance weights), its interval and the CLI interface."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analytics.drivers import (
    DriverError,
    analyse_table,
    dominance_weights,
    relative_weights,
)
from app.cli import cli

BH1996 = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "external" / "bh1996.csv"


def planted(n: int, seed: int, groups: int = 40) -> pd.DataFrame:
    """Four correlated drivers; wellbeing depends mostly on ``support``, a little on ``demands``."""
    rng = np.random.default_rng(seed)
    common = rng.normal(size=n)
    frame = pd.DataFrame(
        {name: 0.5 * common + rng.normal(size=n) for name in ("support", "demands", "control", "role")}
    )
    frame["wellbeing"] = 0.6 * frame["support"] + 0.2 * frame["demands"] + rng.normal(size=n)
    frame["team"] = rng.integers(0, groups, size=n)
    return frame


def ols_r2(frame: pd.DataFrame, outcome: str, drivers: list[str]) -> float:
    x = np.column_stack([np.ones(len(frame)), frame[drivers].to_numpy()])
    y = frame[outcome].to_numpy()
    residual = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    return 1 - residual.var() / y.var()


def test_weights_sum_to_the_r2_of_the_full_regression() -> None:
    frame = planted(500, seed=1)
    drivers = ["support", "demands", "control", "role"]
    result = analyse_table(frame, outcome="wellbeing", drivers=drivers, resamples=0)
    assert result.r2 == pytest.approx(ols_r2(frame, "wellbeing", drivers), abs=1e-9)
    assert sum(d.importance for d in result.drivers) == pytest.approx(result.r2, abs=1e-9)


def test_dominance_with_uncorrelated_drivers_is_each_squared_correlation() -> None:
    corr = np.eye(4)
    corr[:3, 3] = corr[3, :3] = [0.5, 0.3, 0.1]
    assert dominance_weights(corr) == pytest.approx([0.25, 0.09, 0.01])
    assert relative_weights(corr) == pytest.approx([0.25, 0.09, 0.01])


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_a_planted_driver_comes_out_first_with_an_interval_above_the_rest(seed: int) -> None:
    result = analyse_table(planted(400, seed), outcome="wellbeing", group="team", resamples=300)
    assert result.drivers[0].driver == "support"
    top, second = result.drivers[0], result.drivers[1]
    assert top.low > second.high
    assert all(d.low <= d.importance <= d.high for d in result.drivers)
    assert result.top_agreement == 1.0


def test_rows_with_blanks_are_dropped_and_counted_and_text_columns_are_not_drivers() -> None:
    frame = planted(200, seed=6)
    frame["name"] = "someone"
    frame.loc[[3, 8, 20], "control"] = np.nan
    result = analyse_table(frame, outcome="wellbeing", group="team", resamples=50)
    assert result.dropped == 3 and result.n == 197
    assert {d.driver for d in result.drivers} == {"support", "demands", "control", "role"}


def test_a_named_driver_that_is_not_a_number_is_refused() -> None:
    frame = planted(50, seed=7).assign(grade=["A"] * 50)
    with pytest.raises(DriverError, match="grade"):
        analyse_table(frame, outcome="wellbeing", drivers=["grade", "support"])
    with pytest.raises(DriverError, match="no such column"):
        analyse_table(frame, outcome="happiness")


@pytest.mark.skipif(not BH1996.exists(), reason="shared/data/external/bh1996.csv is not present")
def test_bh1996_leadership_leads_and_the_weights_agree_with_relative_weights() -> None:
    """The published figures in docs/INSIGHT.md: 7,382 people in 99 companies."""
    table = pd.read_csv(BH1996)
    result = analyse_table(table, outcome="WBEING", group="GRP", resamples=300)
    assert result.n == 7382 and result.groups == 99
    assert [d.driver for d in result.drivers] == ["LEAD", "COHES", "HRS"]
    assert result.r2 == pytest.approx(0.1964, abs=5e-4)
    assert result.drivers[0].importance == pytest.approx(0.1491, abs=5e-4)
    corr = np.corrcoef(table[["LEAD", "COHES", "HRS", "WBEING"]].to_numpy().T)
    assert relative_weights(corr) == pytest.approx(dominance_weights(corr), abs=2e-3)


def test_the_group_bootstrap_is_wider_than_resampling_people_when_groups_differ() -> None:
    rng = np.random.default_rng(8)
    frame = planted(600, seed=8, groups=20)
    shift = rng.normal(0, 1.0, size=20)
    frame["wellbeing"] += shift[frame["team"]] * frame["support"]
    by_group = analyse_table(frame, outcome="wellbeing", group="team", resamples=400)
    by_row = analyse_table(frame.drop(columns="team"), outcome="wellbeing", resamples=400)
    width = {d.driver: d.high - d.low for d in by_group.drivers}
    row_width = {d.driver: d.high - d.low for d in by_row.drivers}
    assert width["support"] > row_width["support"]


def test_cli_prints_the_documented_json(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    frame = planted(300, seed=9)
    frame.loc[0, "role"] = np.nan
    frame.to_csv(path, index=False)
    result = CliRunner().invoke(
        cli,
        [
            "drivers",
            "--table",
            str(path),
            "--outcome",
            "wellbeing",
            "--group",
            "team",
            "--drivers",
            "support,demands,role",
            "--format",
            "json",
            "--resamples",
            "200",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["outcome"] == "wellbeing" and payload["n"] == 299 and payload["dropped"] == 1
    assert [d["driver"] for d in payload["drivers"]] == ["support", "demands", "role"]
    assert set(payload["drivers"][0]) == {"driver", "importance", "low", "high"}
    assert sum(d["importance"] for d in payload["drivers"]) == pytest.approx(payload["r2"], abs=1e-3)


def test_cli_explains_a_bad_table(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    planted(30, seed=10).to_csv(path, index=False)
    result = CliRunner().invoke(cli, ["drivers", "--table", str(path), "--outcome", "nope"])
    assert result.exit_code == 1
    assert "no such column: nope" in result.output


def test_a_saved_row_index_is_not_taken_for_a_driver(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    planted(120, seed=11).to_csv(path)  # pandas writes the index as an unnamed first column
    result = analyse_table(pd.read_csv(path), outcome="wellbeing", group="team", resamples=0)
    assert {d.driver for d in result.drivers} == {"support", "demands", "control", "role"}


def test_a_driver_that_does_not_vary_explains_nothing_and_a_flat_outcome_is_refused() -> None:
    frame = planted(200, seed=12).assign(constant=1.0, rare=0.0)
    frame.loc[[5], "rare"] = 1.0  # one person: most resamples leave it out, so it is flat there
    result = analyse_table(frame, outcome="wellbeing", group="team", resamples=200)
    found = {d.driver: d for d in result.drivers}
    assert found["constant"].importance == pytest.approx(0, abs=1e-12)
    assert found["constant"].high == pytest.approx(0, abs=1e-12)
    assert all(np.isfinite([d.low, d.high]).all() for d in result.drivers)
    assert result.drivers[0].driver == "support"
    with pytest.raises(DriverError, match="does not vary"):
        analyse_table(frame.assign(wellbeing=3.0), outcome="wellbeing")


def test_a_value_too_large_to_analyse_is_named_not_called_flat() -> None:
    """1e308 (a spreadsheet error, a wrong unit) overflows the variance: the message says which
    column, instead of calling the outcome flat."""
    frame = planted(200, seed=12)
    frame.loc[3, "wellbeing"] = 1e308
    with pytest.raises(DriverError, match="too large to analyse in 'wellbeing'"):
        analyse_table(frame, outcome="wellbeing", group="team")


def test_the_group_bootstrap_interval_holds_the_true_importance_near_the_stated_rate() -> None:
    """95% percentile intervals over 40 teams of 10 (docs/INSIGHT.md: 92-96% per driver): within
    the binomial spread of 200 runs, never below 88%."""
    from analytics.driver_simulation import coverage as driver_coverage

    found = driver_coverage(groups=40, size=10, runs=200, resamples=200)
    assert (found >= 0.88).all() and (found <= 0.99).all()
