"""The evaluation machinery and the demo interfaces a user scripts against: the plan printed by
``demo-plan`` is the council ``seed-demo`` builds, ``--no-strain`` plants nothing, the funnel
estimate of shrinkage reproduces what bh1996 says about its own noise, and ``strain-evaluate``
prints the scores it promises."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analytics.norms import WHO5_CUTOFF, who5_poor
from analytics.outcomes import WELLBEING_CUT_OFF
from analytics.shrinkage import sampling_variance_from_n, shrink
from analytics.strain_evaluate import pooled_alerts, pooled_flags, score_alerts, wilson_interval
from app.cli import cli
from surveys.demo import demo_weeks, plan_demo
from surveys.demo_strain import PULSE_KINDS, STRAIN_KINDS

EXTERNAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "external"


def test_the_who5_cut_off_is_one_constant_with_the_published_boundary() -> None:
    assert WELLBEING_CUT_OFF is WHO5_CUTOFF or WELLBEING_CUT_OFF == WHO5_CUTOFF
    assert who5_poor(50.0) and not who5_poor(50.5)


def test_demo_plan_json_lists_every_team_with_its_plant() -> None:
    args = ["demo-plan", "--seed", "7", "--teams", "60", "--weeks", "26", "--until", "2026-W48"]
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    teams = json.loads(result.stdout)["teams"]
    plan = plan_demo(7, 60)
    assert [t["team"] for t in teams] == [t.code for t in plan.teams]
    planted = {t["team"] for t in teams if t["planted"]}
    assert planted == set(plan.strained_team_codes) and planted
    weeks = demo_weeks(26, date(2026, 1, 1), "2026-W48")
    for team in teams:
        assert isinstance(team["planted"], bool)
        assert team["planted"] == (team["kind"] in STRAIN_KINDS)
        assert (team["from_week"] is None) == (team["kind"] == "none")
        assert team["from_week"] is None or team["from_week"] in weeks
    again = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert again.stdout == result.stdout
    quiet = CliRunner().invoke(cli, [*args, "--no-strain", "--format", "json"])
    assert not any(t["planted"] for t in json.loads(quiet.stdout)["teams"])


def test_seeded_plans_mix_partial_patterns_over_seeds() -> None:
    kinds = [p.kind for seed in (1, 7, 23, 101) for p in plan_demo(seed, 60).plants]
    assert set(PULSE_KINDS) | {"delivery", "mild decline"} <= set(kinds)


def test_the_funnel_finds_noise_only_where_small_teams_scatter_more() -> None:
    """Team means of people with variance 4 (as in a 1-5 scale) around team levels with variance
    0.04 (ICC 0.01): the funnel reads sigma^2 near 4. Levels that differ by size class alone, with
    no sampling noise, show no funnel; nothing is then shrunk."""
    rng = np.random.default_rng(3)
    sizes = pd.Series(rng.integers(5, 200, size=300))
    means = pd.Series(rng.normal(0, 0.2, size=300) + rng.normal(0, 2.0, size=300) / np.sqrt(sizes))
    variance = sampling_variance_from_n(means, sizes)
    assert variance is not None
    assert 2.0 < float((variance * sizes).median()) < 8.0
    no_noise = pd.Series(rng.normal(0, 1.0, size=300))
    assert sampling_variance_from_n(no_noise, sizes) is None
    assert sampling_variance_from_n(means, pd.Series(20, index=means.index)) is None


def test_shrinkage_pulls_noisy_small_teams_more_and_keeps_order_within_a_size() -> None:
    rng = np.random.default_rng(0)
    sizes = pd.Series(rng.integers(4, 40, size=80))
    truth = rng.normal(0, 1.0, size=80)
    values = pd.Series(truth + rng.normal(0, 3.0, size=80) / np.sqrt(sizes))
    result = shrink(values, 9.0 / sizes)
    pulled = (values - result.mean).abs() / (values - values.mean()).abs()
    small, large = pulled[sizes < 10].median(), pulled[sizes > 30].median()
    assert small > large
    assert result.tau2 is not None and 0.3 < result.tau2 < 3.0


@pytest.mark.slow
def test_strain_evaluate_prints_scores_for_each_seed_and_the_real_tables() -> None:
    result = CliRunner().invoke(cli, ["strain-evaluate", "--seeds", "1", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    run = report["planted"][0]
    for part in ("pulse", "with_delivery"):
        assert {"precision", "recall", "false_flag_rate"} <= set(run[part])
    assert "false_alarms_per_team_year" in run["alerts"] and "delays" in run["alerts"]
    assert report["no_strain"][0]["pulse"]["positives"] == 0
    pooled = report["pooled"]["pulse"]
    assert pooled["caught"] == run["pulse"]["true_positives"]
    assert pooled["no_strain_flagged"] == report["no_strain"][0]["pulse"]["flagged"]
    low, high = pooled["recall_95"]
    assert low <= pooled["recall"] <= high
    if EXTERNAL.exists():
        tables = {row["table"] for row in report["real"]}
        assert "bh1996 companies" in tables and any(t.startswith("NHS") for t in tables)


def test_the_wilson_interval_matches_the_textbook_values() -> None:
    low, high = wilson_interval(8, 10)  # Newcombe (1998): 0.490 to 0.943
    assert low == pytest.approx(0.4902, abs=5e-4) and high == pytest.approx(0.9433, abs=5e-4)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0


def _run(caught: int, positives: int, flagged: int) -> dict[str, object]:
    score = {
        "true_positives": caught,
        "positives": positives,
        "flagged": flagged,
        "assessed": 50,
        "precision": caught / flagged if flagged else None,
        "recall": caught / positives if positives else None,
    }
    return {"pulse": score, "with_delivery": score}


def test_pooled_flags_add_up_the_seeds_and_count_the_seeds_that_meet_the_target() -> None:
    planted = [_run(4, 4, 4), _run(3, 4, 3), _run(5, 5, 7)]
    quiet = [_run(0, 0, 1), _run(0, 0, 2), _run(0, 0, 0)]
    pooled = pooled_flags(planted, quiet)
    assert pooled["pulse"]["caught"] == 12 and pooled["pulse"]["positives"] == 13
    assert pooled["pulse"]["precision"] == round(12 / 14, 3)
    assert pooled["pulse"]["no_strain_flagged"] == 3 and pooled["pulse"]["no_strain_assessed"] == 150
    # Seed two misses one of four (recall 0.75); seed three flags seven for five (precision 0.71).
    assert pooled["seeds_meeting_target"] == [1, 3]


def test_alerts_are_scored_by_kind_and_pooled_over_team_years() -> None:
    """A drop caught before its onset is not a catch; false alarms are pooled over the team-years
    watched, not averaged over runs of different sizes."""
    weeks = [f"2026-W{w:02d}" for w in range(1, 21)]
    alerts = pd.DataFrame(
        {
            "team": [1, 2, 3, 4, 5],
            "weeks_monitored": [18, 18, 18, 18, 0],
            "alarm": [True, True, False, True, False],
            "first_alarm_week": ["2026-W15", "2026-W05", None, "2026-W12", None],
        }
    )
    onsets = {1: "2026-W10", 2: "2026-W10", 3: "2026-W10"}
    kinds = {1: "wellbeing", 2: "wellbeing", 3: "mild decline"}
    score = score_alerts(alerts, onsets, weeks, kinds)
    assert score.by_kind == (("mild decline", 0, 1), ("wellbeing", 1, 2))
    assert score.false_alarms == 1 and score.delays == (5,)
    small = {"alerts": score.to_dict()}
    quiet = {"alerts": score_alerts(alerts.assign(alarm=False), {}, weeks).to_dict()}
    pooled = pooled_alerts([small, quiet])
    assert pooled["caught_by_kind"] == {"mild decline": [0, 1], "wellbeing": [1, 2]}
    # 1 false alarm over 18 + 4 x 18 monitored team-weeks = 90 weeks, not the mean of two rates
    assert pooled["per_team_year"] == pytest.approx(1 / (90 / 52), abs=1e-3)
