"""Strain detection on plain team tables: real data with known structure, no-structure data, and the
awkward cases (few teams, a constant feature, missing outcome data), plus the CSV command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analytics.strain import NOT_ASSESSED, STRAIN_PROFILES, detect_strain
from app.cli import cli

EXTERNAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "external"


def _external(name: str) -> Path:
    path = EXTERNAL / name
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


@pytest.fixture(scope="module")
def bh1996_companies() -> pd.DataFrame:
    people = pd.read_csv(_external("bh1996.csv"))
    return people.groupby("GRP").agg(
        n=("WBEING", "size"),
        WBEING=("WBEING", "mean"),
        HRS=("HRS", "mean"),
        LEAD=("LEAD", "mean"),
        COHES=("COHES", "mean"),
    )


@pytest.fixture(scope="module")
def nhs_2023() -> pd.DataFrame:
    trusts = pd.read_csv(_external("nhs_staff_survey_org_wellbeing_2021_2024.csv"))
    year = trusts[trusts["Year"] == 2023].set_index("ODS code")
    return year[
        [
            "Respondents",
            "Benchmarking group",
            "Burned_out_rate",
            "Stress_rate",
            "Autonomy_rate",
            "Enough_staff_rate",
        ]
    ].rename(columns={"Respondents": "n"})


def _flag_split(table: pd.DataFrame, flagged: list[object]) -> tuple[pd.DataFrame, pd.DataFrame]:
    mask = table.index.isin(flagged)
    return table[mask], table[~mask]


def test_bh1996_flags_companies_worse_in_the_direction_the_correlations_predict(
    bh1996_companies: pd.DataFrame,
) -> None:
    """The data's own correlations with wellbeing say which side is bad: flagged companies must be
    on that side of the rest on every feature, wellbeing first."""
    result = detect_strain(bh1996_companies, ["HRS"], seed=0)
    flagged = [record.team for record in result.flagged]
    assert 1 <= len(flagged) <= 30, "a handful of companies, not none and not a third of them"
    inside, rest = _flag_split(bh1996_companies, flagged)
    correlations = bh1996_companies[["WBEING", "HRS", "LEAD", "COHES"]].corr()["WBEING"]
    assert correlations["HRS"] < 0 < correlations["LEAD"]
    assert inside["WBEING"].mean() < rest["WBEING"].mean()
    for feature in ["HRS", "LEAD", "COHES"]:
        difference = inside[feature].mean() - rest[feature].mean()
        # Lower wellbeing in the flagged group, so each feature moves opposite to its correlation.
        assert np.sign(difference) == -np.sign(correlations[feature]), feature
    assert all(record.cluster in STRAIN_PROFILES for record in result.flagged)


def test_bh1996_reasons_name_the_features_with_values(bh1996_companies: pd.DataFrame) -> None:
    result = detect_strain(bh1996_companies, ["HRS"], seed=0)
    for record in result.flagged:
        assert record.reasons, f"company {record.team} is flagged without a reason"
        for reason in record.reasons:
            value = bh1996_companies.at[record.team, reason.feature]
            assert reason.value == pytest.approx(value)
            assert f"{value:.2f}"[:3] in reason.text or f"{value:.1f}" in reason.text
            assert reason.sd_worse >= 0.5
            worse = value > reason.typical if reason.feature == "HRS" else value < reason.typical
            assert worse, f"{reason.feature} of {record.team} is listed as a reason but is not worse"


def test_nhs_flags_burned_out_trusts_and_ambulance_trusts_stand_out(nhs_2023: pd.DataFrame) -> None:
    features = nhs_2023.drop(columns=["Benchmarking group"])
    result = detect_strain(features, ["Burned_out_rate", "Stress_rate"], seed=0)
    flagged = [record.team for record in result.flagged]
    assert 3 <= len(flagged) <= len(features) // 5
    inside, rest = _flag_split(features, flagged)
    correlations = features.drop(columns=["n"]).corr()["Burned_out_rate"]
    assert correlations["Stress_rate"] > 0 and correlations["Autonomy_rate"] < 0
    for feature in ["Burned_out_rate", "Stress_rate", "Autonomy_rate", "Enough_staff_rate"]:
        difference = inside[feature].mean() - rest[feature].mean()
        assert np.sign(difference) == np.sign(correlations[feature]), feature
    groups = nhs_2023.loc[flagged, "Benchmarking group"]
    ambulance_share_flagged = (groups == "Ambulance Trusts").mean()
    ambulance_share_all = (nhs_2023["Benchmarking group"] == "Ambulance Trusts").mean()
    assert ambulance_share_flagged > 3 * ambulance_share_all


@pytest.mark.parametrize("columns", [2, 4, 8])
def test_random_columns_flag_few_or_no_teams(columns: int) -> None:
    """No structure, no wolf: over 10 random tables of 200 teams, at most 3% flagged on average and
    never more than 5% in one table."""
    shares = []
    for seed in range(10):
        rng = np.random.default_rng(1000 + seed)
        table = pd.DataFrame(rng.normal(size=(200, columns)), columns=[f"f{i}" for i in range(columns)])
        table["n"] = rng.integers(5, 40, size=200)
        result = detect_strain(table, ["f0"], seed=0)
        shares.append(len(result.flagged) / len(table))
    assert max(shares) <= 0.05
    assert np.mean(shares) <= 0.03


def test_planted_strained_teams_are_found_in_a_table_with_structure() -> None:
    rng = np.random.default_rng(7)
    table = pd.DataFrame(rng.normal(size=(120, 4)), columns=["wellbeing", "demands", "support", "hours"])
    planted = list(range(10))
    table.loc[planted, ["wellbeing", "support"]] -= 2.5
    table.loc[planted, "hours"] += 2.5
    result = detect_strain(table, ["hours"], seed=0)
    flagged = {record.team for record in result.flagged}
    assert len(flagged & set(planted)) >= 8
    assert len(flagged - set(planted)) <= 2


def test_results_are_deterministic_and_do_not_depend_on_row_order(
    bh1996_companies: pd.DataFrame,
) -> None:
    first = detect_strain(bh1996_companies, ["HRS"], seed=3).to_frame().set_index("team")
    again = detect_strain(bh1996_companies, ["HRS"], seed=3).to_frame().set_index("team")
    shuffled = bh1996_companies.sample(frac=1.0, random_state=11)
    reordered = detect_strain(shuffled, ["HRS"], seed=3).to_frame().set_index("team").loc[first.index]
    pd.testing.assert_frame_equal(first, again)
    assert (first["flagged"] == reordered["flagged"]).all()
    assert np.allclose(first["score"], reordered["score"])


def test_fewer_teams_than_clusters_are_not_assessed_rather_than_crashing() -> None:
    table = pd.DataFrame({"wellbeing": [40.0, 70.0, 65.0], "n": [6, 8, 9]}, index=["a", "b", "c"])
    result = detect_strain(table, [], seed=0)
    assert [record.cluster for record in result.teams] == [NOT_ASSESSED] * 3
    assert not result.flagged
    assert any("at least" in note for note in result.notes)


def test_flags_do_not_depend_on_the_seed(nhs_2023: pd.DataFrame) -> None:
    """The mixture has no random restarts: the same table gives the same flags for every seed."""
    features = nhs_2023.drop(columns=["Benchmarking group"])
    flags = {
        seed: sorted(
            r.team for r in detect_strain(features, ["Burned_out_rate", "Stress_rate"], seed).flagged
        )
        for seed in (0, 1, 7, 23, 101)
    }
    assert len({tuple(v) for v in flags.values()}) == 1 and flags[0]


def test_without_n_the_worse_units_are_still_the_flagged_ones(nhs_2023: pd.DataFrame) -> None:
    """No respondent counts: nothing is shrunk, and the flags still point at the units that are
    worse on a plain average of direction-corrected z-scores."""
    features = nhs_2023.drop(columns=["Benchmarking group", "n"])
    worse = ["Burned_out_rate", "Stress_rate"]
    result = detect_strain(features, worse, seed=0)
    flagged = [r.team for r in result.flagged]
    assert 1 <= len(flagged) <= len(features) // 5
    z = (features - features.mean()) / features.std()
    z[["Autonomy_rate", "Enough_staff_rate"]] *= -1
    badness = z.mean(axis=1)
    assert badness.loc[flagged].min() > badness.median()
    assert badness.loc[flagged].mean() - badness.drop(index=flagged).mean() > badness.std()


def test_a_feature_with_no_variance_is_left_out_and_changes_nothing(
    bh1996_companies: pd.DataFrame,
) -> None:
    with_constant = bh1996_companies.assign(SITE=3.0)
    plain = detect_strain(bh1996_companies, ["HRS"], seed=0).to_frame()
    constant = detect_strain(with_constant, ["HRS"], seed=0)
    assert "SITE" not in constant.features_used
    assert any("SITE" in note and "same for every team" in note for note in constant.notes)
    pd.testing.assert_frame_equal(plain, constant.to_frame())


def test_missing_outcome_data_is_skipped_not_counted_as_good_or_bad() -> None:
    rng = np.random.default_rng(3)
    table = pd.DataFrame(rng.normal(size=(60, 3)), columns=["wellbeing", "support", "delivery_gap"])
    table.loc[0, ["wellbeing", "support"]] = [-3.5, -3.5]
    table.loc[0, "delivery_gap"] = np.nan
    table.loc[1:20, "delivery_gap"] = np.nan
    result = detect_strain(table, ["delivery_gap"], seed=0, delivery_features=["delivery_gap"])
    record = result.for_team(0)
    assert record is not None and record.flagged
    assert {reason.feature for reason in record.reasons} <= {"wellbeing", "support"}
    without = [result.for_team(team) for team in range(1, 21)]
    assert all(r is not None and r.cluster != NOT_ASSESSED for r in without)
    assert sum(r.flagged for r in without if r is not None) <= 1


def test_a_team_with_no_values_at_all_is_not_assessed() -> None:
    rng = np.random.default_rng(4)
    table = pd.DataFrame(rng.normal(size=(30, 2)), columns=["wellbeing", "support"])
    table.loc[5] = [np.nan, np.nan]
    record = detect_strain(table, [], seed=0).for_team(5)
    assert record is not None and record.cluster == NOT_ASSESSED and not record.flagged


def test_wellbeing_bad_but_delivery_good_is_named_delivering_at_a_cost() -> None:
    """Delivering ahead of plan must not cancel out poor wellbeing: those teams are still flagged."""
    rng = np.random.default_rng(5)
    table = pd.DataFrame(
        rng.normal(scale=0.5, size=(80, 3)), columns=["wellbeing", "support", "delivery_gap"]
    )
    planted = list(range(8))
    table.loc[planted, ["wellbeing", "support"]] -= 2.0
    table.loc[planted, "delivery_gap"] -= 2.0  # ahead of plan
    result = detect_strain(table, ["delivery_gap"], seed=0, delivery_features=["delivery_gap"])
    flagged = {record.team for record in result.flagged}
    assert len(flagged & set(planted)) >= 6 and len(flagged - set(planted)) <= 1
    assert {result.for_team(team).cluster for team in flagged & set(planted)} == {  # type: ignore[union-attr]
        "delivering at a cost"
    }


def test_unknown_worse_when_higher_column_is_a_clear_error(bh1996_companies: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="HOURS"):
        detect_strain(bh1996_companies, ["HOURS"])


# --- command line -----------------------------------------------------------------------------


def _write_companies(path: Path, companies: pd.DataFrame) -> Path:
    table = companies.reset_index().rename(columns={"GRP": "company"})
    table["company"] = "C" + table["company"].astype(int).astype(str)
    table.to_csv(path, index=False)
    return path


def test_cli_features_json_has_one_object_per_team(
    tmp_path: Path, bh1996_companies: pd.DataFrame
) -> None:
    csv = _write_companies(tmp_path / "companies.csv", bh1996_companies)
    result = CliRunner().invoke(
        cli, ["strain", "--features", str(csv), "--worse-when-higher", "HRS", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert len(records) == len(bh1996_companies)
    assert {tuple(sorted(record)) for record in records} == {
        ("cluster", "flagged", "probability", "reasons", "score", "team")
    }
    direct = detect_strain(
        bh1996_companies.set_axis("C" + bh1996_companies.index.astype(int).astype(str)), ["HRS"], seed=0
    )
    assert sorted(r["team"] for r in records if r["flagged"]) == sorted(t.team for t in direct.flagged)
    assert all(r["reasons"] and "SD worse" in r["reasons"][0]["text"] for r in records if r["flagged"])


def test_cli_reports_teams_below_the_minimum_as_not_assessed(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"team": [f"T{i}" for i in range(20)], "n": [3] + [12] * 19})
    table["wellbeing"] = rng.normal(size=20)
    table["demands"] = rng.normal(size=20)
    table.to_csv(tmp_path / "teams.csv", index=False)
    result = CliRunner().invoke(
        cli, ["strain", "--features", str(tmp_path / "teams.csv"), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    small = next(record for record in json.loads(result.stdout) if record["team"] == "T0")
    assert small["cluster"] == "not assessed" and small["flagged"] is False
    assert "fewer than 5" in small["reasons"][0]["text"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("team,n,wellbeing\nA,10,high\nB,10,2\n", "must be numeric"),
        ("team,n,wellbeing\nA,10,1\nA,10,2\n", "more than once"),
    ],
)
def test_cli_bad_csv_gets_a_clear_message(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = CliRunner().invoke(cli, ["strain", "--features", str(path), "--format", "json"])
    assert result.exit_code != 0
    assert message in result.output


@pytest.mark.parametrize("n_column", [None, "", "0", "n/a"])
def test_cli_without_a_usable_n_assesses_every_row(
    tmp_path: Path, nhs_2023: pd.DataFrame, n_column: str | None
) -> None:
    """A missing or placeholder n column: one object per row, none refused for its size."""
    table = nhs_2023.drop(columns=["Benchmarking group", "n"]).reset_index()
    if n_column is not None:
        table.insert(1, "n", n_column)
    table.loc[3, "Stress_rate"] = np.nan  # a blank cell
    table["Benchmarking group"] = nhs_2023["Benchmarking group"].to_numpy()  # a label column
    path = tmp_path / "trusts.csv"
    table.to_csv(path, index=False)
    result = CliRunner().invoke(
        cli,
        [
            "strain",
            "--features",
            str(path),
            "--worse-when-higher",
            "Burned_out_rate,Stress_rate",
            "--min-n",
            "10",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert len(records) == len(table)
    assert all(isinstance(r["flagged"], bool) and isinstance(r["reasons"], list) for r in records)
    assert not any(r["cluster"] == "not assessed" for r in records)
    flagged = [r["team"] for r in records if r["flagged"]]
    groups = nhs_2023.loc[flagged, "Benchmarking group"]
    assert flagged and (groups == "Ambulance Trusts").mean() >= 0.5


def test_the_detector_itself_stays_quiet_on_a_value_near_the_float_limit() -> None:
    """Any caller, not only the command line, is spared numpy's overflow warnings."""
    import warnings

    table = pd.DataFrame(
        {"a": [float(i % 4) for i in range(12)] + [1e308], "b": [float(i * 7 % 5) for i in range(13)]},
        index=[f"T{i}" for i in range(13)],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = detect_strain(table, [])
    assert len(result.teams) == 13


def test_a_value_near_the_float_limit_beside_team_sizes_does_not_stop_the_table() -> None:
    """With ``n`` the funnel is read off squared deviations, which overflow: that measure is then
    used as it is (no funnel), and every team still gets a verdict."""
    import warnings

    rng = np.random.default_rng(4)
    table = pd.DataFrame(
        {
            "n": rng.integers(5, 60, 30).astype(float),
            "a": np.r_[rng.normal(60, 5, 29), 1e308],
            "b": rng.normal(3, 0.3, 30),
        },
        index=[f"T{i}" for i in range(30)],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = detect_strain(table, [])
    assert len(result.teams) == 30
    assert all(record.probability is not None for record in result.teams)
