"""``wellbeing strain-evaluate`` and ``wellbeing demo-plan``: strain detection scored on the demo
council's known answers (generated in memory, no database) and checked on the real tables.

The in-memory council is the one ``seed-demo`` writes: the same plan and the same weekly answers
(``surveys.demo_strain.simulate_pulse``); the key-result check-ins follow the same rule with their
own random stream. The assessment rule is applied as the database read applies it (a figure of the
team's own, weekly or pooled over four weeks, for at least half of the window's weeks, one of them
among the latest four; the other weeks left out); other teams are not assessed.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer

from analytics.alerts import AlertRules, sustained_drop_alerts
from analytics.privacy import PrivacyRules
from analytics.strain import detect_strain
from analytics.strain_evaluate import (
    plain_badness,
    pooled_alerts,
    pooled_flags,
    real_table_summary,
    score_alerts,
    score_flags,
)
from analytics.strain_measures import (
    DELIVERY_FEATURES,
    detect_from_measures,
    strain_measures,
    weekly_wellbeing,
)
from analytics.strain_released import (
    BASELINE_WINDOWS,
    MIN_WEEK_SHARE,
    RECENT_WEEKS,
    StrainInputs,
    recent_weeks,
)
from app.cli.common import OutputFormat, cli, fail
from app.cli.strain_through_db import evaluate_seed_through_database
from models.base import week_monday
from surveys.composition import DEFAULT_COMPOSITION_ID, get_composition
from surveys.demo import DemoPlan, demo_weeks, plan_demo
from surveys.demo_strain import EFFECTS, check_in_series, simulate_pulse

DEFAULT_SEEDS = (1, 7, 23, 101, 2, 3, 5)
DEFAULT_UNTIL = "2026-W48"
FIXED_TODAY = date(2026, 11, 30)  # only used when no --until is given: keeps runs reproducible
WINDOW_WEEKS = 8
EXTERNAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "external"
NHS_MEASURES = (
    "Autonomy_rate",
    "Burned_out_rate",
    "Emotionally_exhausting_rate",
    "Enough_staff_rate",
    "Frustration_rate",
    "Stress_rate",
    "Time_demands_meet_rate",
    "Physical_public_rate",
    "Emotional_public_rate",
    "Discrimination_internal_rate",
    "Mastery_meaning_rate",
)
NHS_WORSE = (
    "Burned_out_rate",
    "Emotionally_exhausting_rate",
    "Frustration_rate",
    "Stress_rate",
    "Physical_public_rate",
    "Emotional_public_rate",
    "Discrimination_internal_rate",
)


@dataclass(frozen=True)
class SimulatedCouncil:
    """The demo council in memory: the plan, its weeks, the strain inputs and weekly wellbeing."""

    plan: DemoPlan
    weeks: list[str]
    inputs: StrainInputs
    weekly_all: pd.DataFrame  # team_id, week, n, total, total_sq over every seeded week
    code_of: dict[int, str]


def simulate_council(
    seed: int, teams: int, weeks: int, until: str | None, *, no_strain: bool = False
) -> SimulatedCouncil:
    """Run the generator and aggregate it as the database's weekly tables would."""
    plan = plan_demo(seed, teams, no_strain=no_strain)
    labels = demo_weeks(weeks, FIXED_TODAY, until)
    ids = {team.code: index + 1 for index, team in enumerate(plan.teams)}
    frontline = {t.code: t.frontline_share for t in plan.teams}
    people = [(p.email, p.team_code, frontline[p.team_code]) for p in plan.people if p.team_code]
    sums: dict[tuple[int, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for _, week, answers in simulate_pulse(
        seed=seed,
        people=people,
        plants=plan.plants,
        week_labels=labels,
        composition=get_composition(DEFAULT_COMPOSITION_ID),
    ):
        for answer in answers:
            team = ids[answer.member.team]
            for construct, score in answer.scores.items():
                pooled = "support" if construct in ("manager_support", "peer_support") else construct
                cell = sums[(team, week, pooled)]
                cell[0] += 1
                cell[1] += score
                cell[2] += score * score
    frame = pd.DataFrame(
        [(t, w, c, *v) for (t, w, c), v in sums.items()],
        columns=["team_id", "week", "construct", "n", "total", "total_sq"],
    )
    weekly_all = frame[frame["construct"] == "wellbeing"].drop(columns="construct")
    window_weeks = labels[-WINDOW_WEEKS:]
    released = _released_weeks(weekly_all, labels, PrivacyRules())
    eligible = _eligible(released, window_weeks)
    # Weeks without a figure of the team's own are left out, as the database read leaves them.
    shown = released.stack()
    shown = {key for key, ok in shown.items() if ok}
    frame = frame[[(t, w) in shown for t, w in zip(frame["team_id"], frame["week"], strict=True)]]
    in_window = frame[frame["week"].isin(window_weeks) & frame["team_id"].isin(eligible)]
    window = in_window.groupby(["team_id", "construct"])[["n", "total", "total_sq"]].sum()
    latest = in_window[in_window["week"].isin(recent_weeks(window_weeks))]
    recent = latest.groupby(["team_id", "construct"])[["n", "total", "total_sq"]].sum()
    base_weeks = labels[-(1 + BASELINE_WINDOWS) * WINDOW_WEEKS : -WINDOW_WEEKS]
    in_base = frame[frame["week"].isin(base_weeks) & frame["team_id"].isin(eligible)]
    baseline = in_base.groupby(["team_id", "construct"])[["n", "total", "total_sq"]].sum()
    shown_weekly = frame[frame["construct"] == "wellbeing"].drop(columns="construct")
    weekly = shown_weekly[
        shown_weekly["week"].isin(window_weeks) & shown_weekly["team_id"].isin(eligible)
    ]
    answered = _answers(weekly_all, base_weeks, window_weeks)
    answered_recent = _answers(weekly_all, base_weeks, recent_weeks(window_weeks))
    members = pd.Series({ids[t.code]: t.size for t in plan.teams}, dtype=float)
    inputs = StrainInputs(
        weeks=window_weeks,
        eligible=eligible,
        suppressed=sorted(set(ids.values()) - set(eligible)),
        window=window,
        baseline=baseline,
        weekly=weekly,
        answered=answered,
        members={False: members, True: members},
        delivery=_delivery(plan, ids, labels, seed),
        recent=recent,
        answered_recent=answered_recent,
    )
    return SimulatedCouncil(plan, labels, inputs, weekly_all, {v: k for k, v in ids.items()})


WEEKS_IN_A_MONTH = 4


def _answers(weekly: pd.DataFrame, before: list[str], late: list[str]) -> pd.DataFrame:
    """Answers per team before the window (``late`` False) and in ``late`` (True), every week
    counted (``StrainInputs.answered``)."""
    spans = weekly[weekly["week"].isin(before + late)]
    spans = spans.assign(late=spans["week"].isin(late))
    return spans.groupby(["team_id", "late"])["n"].sum().reset_index()


def _released_weeks(weekly: pd.DataFrame, labels: list[str], rules: PrivacyRules) -> pd.DataFrame:
    """Per team and week, whether a figure of the team's own would stand for the week: at least k
    answers in the week, or pooled over the four weeks ending in it (an approximation, without a
    database, of the gate's week and month releases; complementary suppression aside)."""
    counts = weekly.pivot_table(index="team_id", columns="week", values="n", aggfunc="sum")
    counts = counts.reindex(columns=labels).fillna(0)
    pooled = counts.T.rolling(WEEKS_IN_A_MONTH, min_periods=1).sum().T
    return (counts >= rules.min_group_size) | (pooled >= rules.min_group_size)


def _eligible(released: pd.DataFrame, window_weeks: list[str]) -> list[int]:
    """Teams the assessment rule admits (``analytics.strain_released.assessed_teams``): a figure
    of their own for at least half of the window's weeks, one of them among the latest four."""
    shown = released[window_weeks]
    needed = math.ceil(MIN_WEEK_SHARE * len(window_weeks))
    ok = (shown.sum(axis=1) >= needed) & shown[window_weeks[-RECENT_WEEKS:]].any(axis=1)
    return sorted(int(t) for t in ok[ok].index)


def _delivery(plan: DemoPlan, ids: dict[str, int], labels: list[str], seed: int) -> pd.DataFrame:
    """Per team: the live objective's delivery gap and confidence trend, as the database path
    computes them from the seeded check-ins (same rule, own random stream)."""
    rng = np.random.default_rng([seed, 5])
    last_monday = week_monday(labels[-1])
    starts = last_monday - timedelta(weeks=9)
    ends = starts + timedelta(weeks=13) - timedelta(days=1)
    until = last_monday + timedelta(days=4)
    window_start = until - timedelta(weeks=WINDOW_WEEKS)
    rows = []
    for team in plan.teams:
        plant = plan.plant_of(team.code)
        stall = None
        if plant.kind == "delivery" and plant.onset_weeks_before_end is not None:
            stall = week_monday(labels[len(labels) - plant.onset_weeks_before_end]) + timedelta(days=4)
        pace = float(np.clip(rng.normal(1.0, 0.15), 0.55, 1.35))
        gaps, confidence = [], defaultdict(list)
        for _ in range(int(rng.integers(2, 4))):
            series = check_in_series(
                starts, ends, until, pace=pace * float(rng.normal(1.0, 0.1)), stall_from=stall, rng=rng
            )
            elapsed = min(1.0, (until - starts).days / (ends - starts).days)
            gaps.append(elapsed - series[-1][1])
            for day, _, level in series:
                if day > window_start:
                    confidence[day].append(level)
        days = sorted(confidence)
        x = np.array([(day - days[0]).days / 7 for day in days])
        y = np.array([np.mean(confidence[day]) for day in days])
        trend = float(np.polyfit(x, y, 1)[0]) if len(days) >= 2 else math.nan
        rows.append((ids[team.code], float(np.mean(gaps)), trend))
    return pd.DataFrame(rows, columns=["team_id", "delivery_gap", "confidence_trend"])


def evaluate_seed(
    seed: int,
    teams: int,
    weeks: int,
    until: str | None,
    *,
    no_strain: bool = False,
    alert_rules: AlertRules | None = None,
) -> dict[str, object]:
    """Flags scored on pulse features alone and with delivery, and the alerts, for one seed."""
    council = simulate_council(seed, teams, weeks, until, no_strain=no_strain)
    features, variances = strain_measures(council.inputs)
    pulse = features.drop(columns=list(DELIVERY_FEATURES))
    plants = {council.code_of[t]: council.plan.plant_of(council.code_of[t]) for t in council.code_of}
    id_of = {code: team for team, code in council.code_of.items()}
    pulse_positive = [id_of[c] for c, p in plants.items() if p.in_pulse]
    all_positive = [id_of[c] for c, p in plants.items() if p.planted]
    distractor = [id_of[c] for c, p in plants.items() if p.kind == "mild decline"]
    pulse_result = detect_from_measures(pulse, variances, seed)
    full_result = detect_from_measures(features, variances, seed)
    weekly = weekly_wellbeing(council.weekly_all, council.inputs.eligible)
    alerts = sustained_drop_alerts(weekly, alert_rules or AlertRules())
    onsets = {
        id_of[c]: council.weeks[len(council.weeks) - p.onset_weeks_before_end]
        for c, p in plants.items()
        if "wellbeing" in EFFECTS.get(p.kind, {}) and p.onset_weeks_before_end is not None
    }
    kinds = {id_of[c]: p.kind for c, p in plants.items()}
    return {
        "seed": seed,
        "no_strain": no_strain,
        "weeks": f"{council.weeks[0]}..{council.weeks[-1]}",
        "pulse": score_flags(pulse_result, pulse_positive, distractor).to_dict(),
        "with_delivery": score_flags(full_result, all_positive, distractor).to_dict(),
        "alerts": score_alerts(alerts, onsets, council.weeks, kinds).to_dict(),
        "planted": {c: p.kind for c, p in plants.items() if p.kind != "none"},
        "flagged_pulse": sorted(council.code_of[r.team] for r in pulse_result.flagged),
    }


def real_tables(external: Path = EXTERNAL) -> list[dict[str, object]]:
    """The detector on the real tables (bh1996 companies, NHS trusts by year) and on noise."""
    out: list[dict[str, object]] = []
    bh_path = external / "bh1996.csv"
    if bh_path.exists():
        bh = (
            pd.read_csv(bh_path)
            .groupby("GRP")
            .agg(
                n=("WBEING", "size"),
                WBEING=("WBEING", "mean"),
                HRS=("HRS", "mean"),
                LEAD=("LEAD", "mean"),
                COHES=("COHES", "mean"),
            )
        )
        out.append(
            {"table": "bh1996 companies", **real_table_summary(bh, ["HRS"], detect_strain(bh, ["HRS"]))}
        )
    nhs_path = external / "nhs_staff_survey_org_wellbeing_2021_2024.csv"
    if nhs_path.exists():
        nhs = pd.read_csv(nhs_path)
        for year in sorted(nhs["Year"].unique()):
            trusts = nhs[nhs["Year"] == year].set_index("ODS code")
            table = trusts[["Respondents", *NHS_MEASURES]].rename(columns={"Respondents": "n"})
            result = detect_strain(table, NHS_WORSE)
            flagged = [r.team for r in result.flagged]
            ambulance = int((trusts.loc[flagged, "Benchmarking group"] == "Ambulance Trusts").sum())
            out.append(
                {
                    "table": f"NHS trusts {year}",
                    **real_table_summary(table, NHS_WORSE, result),
                    "ambulance_flagged": ambulance,
                    "ambulance_trusts": int((trusts["Benchmarking group"] == "Ambulance Trusts").sum()),
                }
            )
        out.extend(_hundred_trust_samples(nhs))
    rng = np.random.default_rng(0)
    flagged = units = 0
    for _ in range(30):
        noise = pd.DataFrame(rng.normal(size=(100, 6)), columns=[f"x{i}" for i in range(6)])
        noise["n"] = rng.integers(5, 60, size=100)
        flagged += len(detect_strain(noise, []).flagged)
        units += 100
    out.append(
        {"table": "noise (30 tables x 100 units x 6 measures)", "units": units, "flagged": flagged}
    )
    return out


def _hundred_trust_samples(nhs: pd.DataFrame, samples: int = 5) -> list[dict[str, object]]:
    """Tables like the holdout the issue describes: 100 organisations drawn at random from one
    year, eleven measures, without ``n``; how many flagged units lie outside the worst quarter on
    the plain item average."""
    rng = np.random.default_rng(2026)
    rows = []
    for year in (2023, 2024):
        trusts = nhs[nhs["Year"] == year].set_index("ODS code")
        for sample in range(samples):
            chosen = trusts.loc[rng.choice(trusts.index, size=100, replace=False), list(NHS_MEASURES)]
            result = detect_strain(chosen, NHS_WORSE)
            badness = plain_badness(chosen, NHS_WORSE)
            worst_quarter = set(badness.sort_values(ascending=False).index[:25])
            flagged = [r.team for r in result.flagged]
            rows.append(
                {
                    "table": f"NHS {year}, 100 random trusts #{sample + 1}, no n",
                    **real_table_summary(chosen, NHS_WORSE, result),
                    "flagged_outside_worst_quarter": len(set(flagged) - worst_quarter),
                }
            )
    return rows


def _interval(bounds: list[float | None], *, percent: bool = False) -> str:
    low, high = bounds
    if low is None or high is None:
        return "n/a"
    return f"{100 * low:.1f}-{100 * high:.1f}%" if percent else f"{low:.2f}-{high:.2f}"


@cli.command("strain-evaluate")
def strain_evaluate_command(
    seeds: Annotated[str, typer.Option("--seeds", help="Comma-separated demo seeds")] = ",".join(
        map(str, DEFAULT_SEEDS)
    ),
    teams: Annotated[int, typer.Option("--teams", min=5, max=5000)] = 60,
    weeks: Annotated[int, typer.Option("--weeks", min=12, max=260)] = 26,
    until: Annotated[str, typer.Option("--until", help="Last seeded ISO week")] = DEFAULT_UNTIL,
    alert_rate: Annotated[
        float,
        typer.Option(
            "--alert-false-alarm-rate",
            min=0.001,
            max=0.5,
            help="The alerts' chance of any false alarm per team over the monitored weeks",
        ),
    ] = AlertRules().false_alarm_rate,
    through_database: Annotated[
        bool,
        typer.Option(
            "--through-database",
            help="Seed a SQLite file per seed and score what `wellbeing strain` reads from it",
        ),
    ] = False,
    database_dir: Annotated[
        Path | None,
        typer.Option(
            "--database-dir",
            help="Where --through-database keeps its files (reused when present; default: a "
            "temporary directory removed afterwards)",
        ),
    ] = None,
    with_real: Annotated[
        bool, typer.Option("--real/--no-real", help="Also run the detector on the real tables")
    ] = True,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json")] = OutputFormat.table,
) -> None:
    """Score strain flags and alerts on the demo council (in memory, or through the database) and
    show them on real tables."""
    seed_list = [int(s) for s in seeds.split(",") if s.strip()]
    rules = AlertRules(false_alarm_rate=alert_rate)
    if through_database:
        with tempfile.TemporaryDirectory(prefix="strain-eval-") as scratch:
            directory = database_dir or Path(scratch)
            planted = [
                evaluate_seed_through_database(directory, s, teams, weeks, until, alert_rules=rules)
                for s in seed_list
            ]
            quiet = [
                evaluate_seed_through_database(
                    directory, s, teams, weeks, until, no_strain=True, alert_rules=rules
                )
                for s in seed_list
            ]
    else:
        planted = [evaluate_seed(s, teams, weeks, until, alert_rules=rules) for s in seed_list]
        quiet = [
            evaluate_seed(s, teams, weeks, until, no_strain=True, alert_rules=rules) for s in seed_list
        ]
    real = real_tables() if with_real else []
    pooled = {**pooled_flags(planted, quiet), "alerts": pooled_alerts(planted + quiet)}
    if output is OutputFormat.json:
        payload = {"planted": planted, "no_strain": quiet, "pooled": pooled, "real": real}
        typer.echo(json.dumps(payload, indent=2))
        return
    where = "through the database" if through_database else "in memory"
    typer.echo(
        f"Demo council {where}, {teams} teams, {weeks} weeks to {until}, window {WINDOW_WEEKS} weeks"
    )
    typer.echo("seed | pulse P / R / FFR | with delivery P / R / FFR | no-strain flagged | alerts")
    for run, null in zip(planted, quiet, strict=True):
        p, d, a = run["pulse"], run["with_delivery"], run["alerts"]
        n = null["pulse"]
        typer.echo(
            f"{run['seed']:>4} | {p['precision']} / {p['recall']} / {p['false_flag_rate']} "
            f"({p['true_positives']}/{p['positives']}) | {d['precision']} / {d['recall']} / "
            f"{d['false_flag_rate']} ({d['true_positives']}/{d['positives']}) | "
            f"{n['flagged']}/{n['assessed']} | false {a['false_alarms']} on {a['null_teams']} teams, "
            f"caught {a['detected']}/{a['drops']} drops, delays {a['delays']}"
            + (
                f" | assessed {run['assessed']}/{run['teams']}; of all planted, flagged "
                f"{'/'.join(map(str, run['pulse_planted_flagged']))} pulse, "
                f"{'/'.join(map(str, run['planted_flagged']))} with delivery"
                if run.get("through_database")
                else ""
            )
        )
    for key, name in (("pulse", "pulse only"), ("with_delivery", "with delivery")):
        row = pooled[key]
        typer.echo(
            f"pooled, {name}: caught {row['caught']} of {row['positives']} planted, recall "
            f"{row['recall']} (95% {_interval(row['recall_95'])}); precision {row['precision']} "
            f"(95% {_interval(row['precision_95'])}); no strain: {row['no_strain_flagged']} of "
            f"{row['no_strain_assessed']} flagged "
            f"(95% {_interval(row['no_strain_rate_95'], percent=True)})"
        )
    met, runs = pooled["seeds_meeting_target"]
    typer.echo(f"seeds with precision and recall >= 0.8, pulse only and with delivery: {met} of {runs}")
    alerts = pooled["alerts"]
    caught = ", ".join(f"{kind} {c} of {d}" for kind, (c, d) in alerts["caught_by_kind"].items())
    typer.echo(
        f"alerts: {alerts['false_alarms']} false alarms in all runs; per team-year "
        f"{alerts['per_team_year']} (target <= 0.5); drops caught {alerts['caught']} of "
        f"{alerts['drops']} (median {alerts['median_delay_weeks']} weeks after onset): {caught}"
    )
    for row in real:
        typer.echo("real: " + ", ".join(f"{k} {v}" for k, v in row.items()))


@cli.command("demo-plan")
def demo_plan_command(
    seed: Annotated[int, typer.Option("--seed")] = 1,
    teams: Annotated[int, typer.Option("--teams", min=5, max=5000)] = 60,
    weeks: Annotated[int, typer.Option("--weeks", min=1, max=260)] = 26,
    until: Annotated[str | None, typer.Option("--until", help="Last seeded ISO week")] = None,
    no_strain: Annotated[bool, typer.Option("--no-strain", help="Plant nothing")] = False,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json")] = OutputFormat.table,
) -> None:
    """What ``seed-demo`` with the same arguments plants: per team, the strain kind and its onset."""
    try:
        plan = plan_demo(seed, teams, no_strain=no_strain)
        labels = demo_weeks(weeks, date.today(), until)
    except ValueError as error:
        fail(str(error))
    rows = []
    for team in plan.teams:
        plant = plan.plant_of(team.code)
        onset = plant.onset_weeks_before_end
        from_week = labels[max(0, len(labels) - onset)] if onset is not None else None
        rows.append(
            {
                "team": team.code,
                "planted": plant.planted,
                "kind": plant.kind,
                "from_week": from_week if plant.kind != "none" else None,
            }
        )
    if output is OutputFormat.json:
        typer.echo(json.dumps({"teams": rows}, indent=2))
        return
    for row in rows:
        if row["kind"] != "none":
            typer.echo(
                f"{row['team']}: {row['kind']} from {row['from_week']} (planted: {row['planted']})"
            )
