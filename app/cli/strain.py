"""``wellbeing strain``: strain detection over the database, or over a team-level CSV from elsewhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from sqlalchemy.exc import SQLAlchemyError

from analytics.privacy import SYSTEM_VIEWER
from analytics.strain import StrainResult, detect_strain
from analytics.strain_features import strain_report
from app.cli import strain_evaluate  # noqa: F401  (registers strain-evaluate and demo-plan)
from app.cli.common import (
    DatabaseUrlOption,
    OutputFormat,
    cli,
    fail,
    load_settings,
    open_engine,
)
from app.cli.numeric_csv import read_numeric_csv, to_number
from app.settings import Settings
from models.csv_input import quote
from models.db import read_session


def read_feature_table(path: Path, min_n: int) -> tuple[pd.DataFrame, list[str]]:
    """The CSV as a feature table indexed by team, and the teams left out for too few respondents.

    First column: the team id; an optional column ``n``: respondents; every other column: a numeric
    feature (blanks and suppression markers allowed, ``app.cli.numeric_csv``); a column with no
    number at all (a name, a group) is a label and is left out. An ``n`` that is missing, has
    blanks or cannot be a count (a placeholder) is ignored: no shrinkage and no ``--min-n``
    filter. Raises ValueError with a message that says what is wrong with the file.
    """
    table, decimal_comma = read_numeric_csv(path)
    if table.shape[1] < 2:
        raise ValueError("the CSV needs a team id column and at least one feature column")
    team_column = table.columns[0]
    if table[team_column].isna().any():
        raise ValueError(f"every row needs a team id in the first column ({team_column!r})")
    if table[team_column].duplicated().any():
        duplicates = table.loc[table[team_column].duplicated(), team_column].astype(str).unique()
        raise ValueError(f"team ids appear more than once: {', '.join(duplicates[:5])}")
    table[team_column] = table[team_column].astype(str)
    table = table.set_index(team_column)
    if "n" in table.columns:
        counts = to_number(table["n"], decimal_comma=decimal_comma)
        usable = counts.notna().all() and (counts >= 1).all() and counts.nunique() > 1
        table = table.drop(columns="n")
        if usable:
            table["n"] = counts
    for column in list(table.columns):
        converted = to_number(table[column], decimal_comma=decimal_comma)
        bad = table[column].notna() & converted.isna()
        if column != "n" and bad.all() and bad.any():
            table = table.drop(columns=column)  # a label column (a name, a group): not a measure
            continue
        if bad.any():
            team = bad[bad].index[0]
            raise ValueError(
                f"column {quote(str(column))} must be numeric; team {quote(str(team))} has "
                f"{quote(str(table.at[team, column]))}"
            )
        table[column] = converted
    if table.drop(columns="n", errors="ignore").shape[1] == 0:
        raise ValueError("the CSV needs at least one feature column besides the team id and n")
    if "n" not in table.columns:
        return table, []
    too_small = table.index[table["n"] < min_n].tolist()
    return table[table["n"] >= min_n], too_small


def strain_records(result: StrainResult, too_small: list[str], min_n: int) -> list[dict[str, object]]:
    """JSON records: one per team, including teams not assessed for too few respondents."""
    records = result.to_records()
    for team in too_small:
        records.append(
            {
                "team": team,
                "flagged": False,
                "cluster": "not assessed",
                "score": None,
                "reasons": [{"feature": "n", "text": f"not assessed: fewer than {min_n} respondents"}],
            }
        )
    return records


def print_result(records: list[dict[str, object]], result: StrainResult, output: OutputFormat) -> None:
    if output is OutputFormat.json:
        typer.echo(json.dumps(records, indent=2))
        return
    threshold = "n/a" if result.threshold is None else f"{result.threshold:.2f}"
    share = "n/a" if result.strain_share is None else f"{result.strain_share:.2f}"
    typer.echo(
        f"{len(records)} teams, {sum(bool(r['flagged']) for r in records)} flagged; "
        f"{result.k} mixture components (steady + one per construct + general), fitted strain "
        f"share {share}, flagged at probability >= {threshold}"
    )
    for cluster in result.clusters:
        typer.echo(f"  cluster {cluster.cluster!r}: {cluster.size} teams, score {cluster.score:+.2f}")
    for note in result.notes:
        typer.echo(f"  note: {note}")
    for record in sorted(records, key=lambda r: (not r["flagged"], -(r["score"] or -99))):
        if not record["flagged"]:
            continue
        typer.echo(
            f"FLAGGED {record['team']} ({record['cluster']}, probability {record['probability']:.2f})"
        )
        for reason in record["reasons"]:  # type: ignore[union-attr]
            typer.echo(f"    - {reason['text']}")


@cli.command("strain")
def strain_command(
    features: Annotated[
        Path | None,
        typer.Option(
            "--features",
            help="Team-level CSV: team id, optional n, numeric features (instead of the database)",
        ),
    ] = None,
    worse_when_higher: Annotated[
        str,
        typer.Option(
            "--worse-when-higher", help="Comma-separated feature columns that are bad when high"
        ),
    ] = "",
    window: Annotated[
        int, typer.Option("--window", min=2, max=52, help="The latest N released (closed) weeks")
    ] = 8,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json")] = OutputFormat.table,
    seed: Annotated[int, typer.Option("--seed", help="Clustering seed (results are deterministic)")] = 0,
    min_n: Annotated[
        int | None,
        typer.Option(
            "--min-n", help="Fewest respondents for a team to be assessed (default: the k setting)"
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Flag teams under strain, with reasons, from the database or from a CSV of team features."""
    settings = load_settings(database_url)
    threshold = settings.min_group_size if min_n is None else min_n
    if threshold < 3:
        fail("--min-n cannot be below the privacy floor of 3 respondents")
    if features is not None:
        worse = [name.strip() for name in worse_when_higher.split(",") if name.strip()]
        try:
            table, too_small = read_feature_table(features, threshold)
            result = detect_strain(table, worse, seed=seed)
        except ValueError as error:
            fail(str(error))
        print_result(strain_records(result, too_small, threshold), result, output)
        return
    _strain_from_database(settings, window=window, output=output, seed=seed)


def _strain_from_database(settings: Settings, *, window: int, output: OutputFormat, seed: int) -> None:
    rules = settings.privacy_rules()
    engine = open_engine(settings)
    try:
        with read_session(engine) as session:
            report = strain_report(
                session=session, viewer=SYSTEM_VIEWER, rules=rules, window_weeks=window, seed=seed
            )
    except SQLAlchemyError as error:
        fail(f"cannot read the database (run `wellbeing init-db` first?): {error.__class__.__name__}")
    if report is None:
        fail("there are no pulse answers in the database yet")
    records = report.records()
    if output is OutputFormat.json:
        typer.echo(json.dumps(records, indent=2, default=str))
        return
    typer.echo(
        f"Window {report.start_week} to {report.end_week} ({report.window_weeks} weeks); a team is"
    )
    typer.echo(
        "assessed when its own figures are released for at least half of its weeks, one of them "
        "among the latest four (weeks withheld are left out, never imputed)."
    )
    print_result(records, report.result, output)
    alerts = [r for r in records if r["alert"]]
    rate = report.alert_rules.false_alarm_rate
    typer.echo(
        f"Sustained-drop alerts: {len(alerts)} team(s) (EWMA, limits calibrated to {rate:.0%} "
        "false alarms per team over the monitored weeks)"
    )
    for record in alerts:
        typer.echo(f"  ALERT {record['team']} since {record['alert_since']}")
