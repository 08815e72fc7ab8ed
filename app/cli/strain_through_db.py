"""``wellbeing strain-evaluate --through-database``: the flags users see, scored.

Per seed, the demo council is written to its own SQLite file as ``wellbeing seed-demo`` writes it
(migrate, seed, release every closed period under the configured rules), and strain is read back
as ``wellbeing strain`` reads it (``compute_strain_report``: released figures only, teams not
released for enough of the window listed as not assessed). The flags are scored against the plan
``demo-plan`` prints. Files are kept in ``--database-dir`` (one per seed and plan) and reused when
present, so the detector can be re-scored without seeding again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from analytics.alerts import AlertRules
from analytics.privacy import release_due
from analytics.strain_evaluate import score_alerts, score_flags
from analytics.strain_features import compute_strain_report, with_suppressed
from analytics.strain_measures import DELIVERY_FEATURES, detect_from_measures, strain_measures
from analytics.strain_released import strain_inputs_from_database
from app.cli.common import load_settings, open_engine
from models.db import read_session
from models.migrate import upgrade_to_head
from surveys.demo import demo_weeks, plan_demo, seed_demo
from surveys.demo_strain import EFFECTS

WINDOW_WEEKS = 8


def seeded_database(
    directory: Path, *, seed: int, teams: int, weeks: int, until: str, no_strain: bool
) -> str:
    """The URL of a SQLite file holding the demo council for these arguments, seeded and
    released as ``wellbeing seed-demo`` does; an existing file is reused."""
    name = f"demo-s{seed}-t{teams}-w{weeks}-{until}{'-nostrain' if no_strain else ''}.db"
    path = directory / name
    done = directory / (name + ".done")
    url = f"sqlite:///{path}"
    if path.exists() and done.exists():
        return url
    # Seeded in place, and marked done only when complete: renaming a finished file under a
    # background WAL checkpoint still holding its old name made that checkpoint fail.
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in (path, directory / (name + "-wal"), directory / (name + "-shm")):
        leftover.unlink(missing_ok=True)
    upgrade_to_head(url)
    settings = load_settings(url)
    engine = open_engine(settings)
    try:
        seed_demo(
            engine,
            participation_key=settings.participation_key.get_secret_value().encode(),
            seed=seed,
            teams=teams,
            weeks=weeks,
            until=until,
            no_strain=no_strain,
        )
        release_due(
            engine,
            now=datetime.now(UTC),
            rules=settings.privacy_rules(),
            schedule=settings.release_schedule(),
        )
    finally:
        engine.dispose()
    done.touch()
    return url


def evaluate_seed_through_database(
    directory: Path,
    seed: int,
    teams: int,
    weeks: int,
    until: str,
    *,
    no_strain: bool = False,
    alert_rules: AlertRules | None = None,
) -> dict[str, object]:
    """Like ``evaluate_seed``, on what ``wellbeing strain`` reads from the seeded database: the
    'with delivery' flags are the report's own; 'pulse only' drops the delivery measures from the
    same inputs."""
    url = seeded_database(
        directory, seed=seed, teams=teams, weeks=weeks, until=until, no_strain=no_strain
    )
    settings = load_settings(url)
    engine = open_engine(settings)
    rules = settings.privacy_rules()
    try:
        with read_session(engine) as session:
            report = compute_strain_report(
                session=session,
                rules=rules,
                window_weeks=WINDOW_WEEKS,
                seed=seed,
                alert_rules=alert_rules or AlertRules(),
            )
            if report is None:
                raise ValueError(f"seed {seed}: no released weeks in {url}")
            inputs = strain_inputs_from_database(
                session=session, rules=rules, end_week=report.end_week, window_weeks=WINDOW_WEEKS
            )
    finally:
        engine.dispose()
    features, variances = strain_measures(inputs)
    pulse = with_suppressed(
        detect_from_measures(features.drop(columns=list(DELIVERY_FEATURES)), variances, seed),
        inputs.suppressed,
    )
    plan = plan_demo(seed, teams, no_strain=no_strain)
    labels = demo_weeks(weeks, date.today(), until)
    id_of = {code: team for team, (code, _, _) in report.units.items()}
    plants = {team.code: plan.plant_of(team.code) for team in plan.teams}
    pulse_positive = [id_of[c] for c, p in plants.items() if p.in_pulse and c in id_of]
    all_positive = [id_of[c] for c, p in plants.items() if p.planted and c in id_of]
    distractor = [id_of[c] for c, p in plants.items() if p.kind == "mild decline" and c in id_of]
    onsets = {
        id_of[c]: labels[len(labels) - p.onset_weeks_before_end]
        for c, p in plants.items()
        if c in id_of and "wellbeing" in EFFECTS.get(p.kind, {}) and p.onset_weeks_before_end is not None
    }
    planted = {c: p.kind for c, p in plants.items() if p.kind != "none"}
    assessed = {report.team_code(r.team) for r in report.result.teams if r.probability is not None}
    flagged = {report.team_code(r.team) for r in report.result.flagged}
    flagged_pulse = {report.team_code(r.team) for r in pulse.flagged}
    return {
        "seed": seed,
        "no_strain": no_strain,
        "through_database": True,
        "weeks": f"{report.start_week}..{report.end_week}",
        "assessed": len(assessed),
        "teams": teams,
        "pulse": score_flags(pulse, pulse_positive, distractor).to_dict(),
        "with_delivery": score_flags(report.result, all_positive, distractor).to_dict(),
        "alerts": score_alerts(
            report.alerts, onsets, labels, {id_of[c]: p.kind for c, p in plants.items() if c in id_of}
        ).to_dict(),
        "planted": planted,
        "planted_not_assessed": sorted(c for c in planted if c not in assessed),
        # Recall over every planted team, a team not assessed counting as missed (what HR sees).
        "pulse_planted_flagged": [
            sum(c in flagged_pulse for c, p in plants.items() if p.in_pulse),
            sum(p.in_pulse for p in plants.values()),
        ],
        "planted_flagged": [
            sum(c in flagged for c, p in plants.items() if p.planted),
            sum(p.planted for p in plants.values()),
        ],
        "flagged_pulse": sorted(flagged_pulse),
        "flagged": sorted(flagged),
    }
