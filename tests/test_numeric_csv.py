"""Numeric tables from elsewhere (``wellbeing strain --features``, ``wellbeing drivers --table``):
a spreadsheet's dialect is read, not refused; a hostile or broken file is refused with where and
why, never with a traceback."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.cli.drivers import read_person_table
from app.cli.numeric_csv import read_numeric_csv, to_number
from app.cli.strain import read_feature_table


def _write(tmp_path: Path, content: str | bytes, name: str = "teams.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_a_european_spreadsheet_export_reads_as_the_same_numbers(tmp_path: Path) -> None:
    comma = _write(tmp_path, "team,n,wellbeing,share\nA,10,3.5,45\nB,12,4.25,50\n", "comma.csv")
    semicolon = _write(tmp_path, "team;n;wellbeing;share\nA;10;3,5;45%\nB;12;4,25;50 %\n", "semi.csv")
    tab = _write(tmp_path, "team\tn\twellbeing\tshare\nA\t10\t3.5\t45\nB\t12\t4.25\t50\n", "tab.tsv")
    expected, _ = read_feature_table(comma, 5)
    for path in (semicolon, tab):
        table, too_small = read_feature_table(path, 5)
        pd.testing.assert_frame_equal(table, expected)
        assert too_small == []


def test_suppression_markers_are_blanks_and_a_team_called_na_is_a_team(tmp_path: Path) -> None:
    path = _write(tmp_path, "team,n,a,b\nA,10,*,2\nB,12,[c],3\nNA,9,1,\u22122\nC,11,..,#DIV/0!\n")
    table, _ = read_feature_table(path, 5)
    assert list(table.index) == ["A", "B", "NA", "C"]
    assert table["a"].isna().tolist() == [True, True, False, True]
    assert table.loc["NA", "b"] == -2.0 and np.isnan(table.loc["C", "b"])


def test_to_number_reads_percentages_and_leaves_words_missing() -> None:
    values = pd.Series(["45%", " 12.5 ", "\u22123", "high", None, "inf", "-Infinity"])
    assert to_number(values).tolist()[:3] == [45.0, 12.5, -3.0]
    assert to_number(values).isna().tolist()[3:] == [True, True, True, True]
    assert to_number(pd.Series(["3,5"]), decimal_comma=True).tolist() == [3.5]
    assert to_number(pd.Series(["3,5"])).isna().all()  # a comma is not a decimal mark by default


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"team,a\nA,1\nB,\xe9\n", "not UTF-8 text"),
        ("team,a,a\nA,1,2\n", "appears twice"),
        ("team,a\nA,1\x1b[31m\n", "control character"),
        ("team,a\nA,1\nA,2\n", "more than once"),
        ("team,a\nA,1\nB,high\n", "must be numeric"),
        ("", "is empty"),
        ("team," + ",".join(f"m{i}" for i in range(1001)) + "\n", "at most 1000"),
        # One value too many on the first row: pandas would take the ids as an index and shift
        # every column one to the left (the sizes became team ids).
        ("team,n,a\nA,10,1,9\nB,12,2\nC,11,3\n", "line 2: has 4 values; the header has 3"),
        ("team,n,a\nA,10,1\nB,12,2,9\n", "line 3: has 4 values"),
        ("team,n,a\nA,10,1\nB,12\n", "line 3: has 2 values"),
    ],
)
def test_a_broken_or_hostile_file_is_refused_with_where_and_why(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = _write(tmp_path, content)
    result = CliRunner().invoke(cli, ["strain", "--features", str(path), "--format", "json"])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_ragged_row_in_a_person_table_is_refused_not_shifted(tmp_path: Path) -> None:
    path = _write(tmp_path, "wellbeing,demands,unit\n55,,3,A\n60,4,B\n")
    result = CliRunner().invoke(cli, ["drivers", "--table", str(path), "--outcome", "wellbeing"])
    assert result.exit_code == 1
    assert "line 2: has 4 values; the header has 3 columns" in result.output


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("models.csv_input.MAX_FILE_BYTES", 100)
    path = _write(tmp_path, "team,a\n" + "".join(f"T{i},{i}\n" for i in range(50)))
    with pytest.raises(ValueError, match="too big"):
        read_numeric_csv(path)


def test_a_folder_or_a_missing_file_gets_a_message(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot be read"):
        read_numeric_csv(tmp_path)
    with pytest.raises(ValueError, match="no such file"):
        read_numeric_csv(tmp_path / "absent.csv")


def test_an_extreme_value_does_not_print_warnings_or_break_the_json(tmp_path: Path) -> None:
    rows = "".join(f"T{i},{i % 4},{(i * 7) % 5}\n" for i in range(12))
    path = _write(tmp_path, "team,a,b\n" + rows + "BIG,1e308,2\nINF,inf,3\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(cli, ["strain", "--features", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 14
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]


def test_the_drivers_table_types_numbers_read_with_markers(tmp_path: Path) -> None:
    path = _write(tmp_path, "wellbeing;demands;unit\n55,5;3;A\n*;2,5;B\n60;4;C\n")
    table = read_person_table(path)
    assert pd.api.types.is_numeric_dtype(table["wellbeing"])
    assert table["wellbeing"].tolist()[0] == 55.5 and np.isnan(table["wellbeing"].tolist()[1])
    assert table["demands"].tolist() == [3.0, 2.5, 4.0]
    assert table["unit"].tolist() == ["A", "B", "C"]
