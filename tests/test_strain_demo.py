"""Strain detection evaluated on the in-memory demo council (the generator ``seed-demo`` writes),
whose planted patterns are the known answers. The figures are printed (run with -s); the
assertions are floors a user can rely on, over several seeds, not one lucky table."""

from __future__ import annotations

import pytest

from app.cli.strain_evaluate import evaluate_seed

pytestmark = pytest.mark.slow

SEEDS = (1, 7, 23)
UNTIL = "2026-W48"


@pytest.fixture(scope="module")
def runs() -> list[dict]:
    return [evaluate_seed(seed, 60, 26, UNTIL) for seed in SEEDS]


@pytest.fixture(scope="module")
def quiet_runs() -> list[dict]:
    return [evaluate_seed(seed, 60, 26, UNTIL, no_strain=True) for seed in SEEDS]


def _pooled(runs: list[dict], part: str) -> tuple[float, float]:
    tp = sum(r[part]["true_positives"] for r in runs)
    flagged = sum(r[part]["flagged"] for r in runs)
    positives = sum(r[part]["positives"] for r in runs)
    return tp / flagged, tp / positives


def test_pulse_flags_find_the_planted_patterns(runs: list[dict]) -> None:
    precision, recall = _pooled(runs, "pulse")
    print(f"\npulse features, seeds {SEEDS}: precision {precision:.2f}, recall {recall:.2f}")
    assert precision >= 0.8
    assert recall >= 0.7


def test_delivery_added_finds_delivery_only_strain_too(runs: list[dict]) -> None:
    precision, recall = _pooled(runs, "with_delivery")
    print(f"\nwith delivery, seeds {SEEDS}: precision {precision:.2f}, recall {recall:.2f}")
    assert precision >= 0.8
    assert recall >= 0.7


def test_a_council_with_nothing_planted_is_mostly_left_alone(quiet_runs: list[dict]) -> None:
    flagged = sum(r["pulse"]["flagged"] for r in quiet_runs)
    assessed = sum(r["pulse"]["assessed"] for r in quiet_runs)
    print(f"\nno strain planted: {flagged} of {assessed} team-assessments flagged")
    assert flagged <= 0.05 * assessed


def test_delivery_does_not_flag_a_council_with_nothing_planted(quiet_runs: list[dict]) -> None:
    """Teams differ in delivery pace without strain: half of them behind the typical team must
    not read as a strained group (it did while delivery was cut at the median)."""
    flagged = sum(r["with_delivery"]["flagged"] for r in quiet_runs)
    assessed = sum(r["with_delivery"]["assessed"] for r in quiet_runs)
    print(f"\nno strain planted, with delivery: {flagged} of {assessed} flagged")
    assert flagged <= 0.05 * assessed


def test_alerts_rarely_cry_wolf_and_catch_some_drops(runs: list[dict], quiet_runs: list[dict]) -> None:
    alerts = [r["alerts"] for r in runs + quiet_runs]
    false_alarms = sum(a["false_alarms"] for a in alerts)
    team_years = sum(
        a["false_alarms"] / a["false_alarms_per_team_year"]
        for a in alerts
        if a["false_alarms_per_team_year"]
    )
    detected = sum(a["detected"] for a in alerts)
    drops = sum(a["drops"] for a in alerts)
    print(f"\nalerts: {false_alarms} false alarms; caught {detected} of {drops} planted drops")
    assert false_alarms <= sum(a["null_teams"] for a in alerts) * 0.1
    assert detected >= 1
    assert team_years == 0 or false_alarms / team_years <= 0.5
