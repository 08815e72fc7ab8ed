"""The effect of an action as a comparison: known effects recovered at the stated rate, and the
effect read from released figures only (both databases)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_gate_support import HR, add_people, add_scores, add_unit, weeks
from typer.testing import CliRunner

from analytics.action_effects import MonthCell, did_effect
from analytics.action_report import actions_overview, team_action_effects
from analytics.effect_simulation import Scenario, coverage
from analytics.privacy import PrivacyRules, ReleaseSchedule, release_due
from app.cli import cli
from models.access import AccessDenied, Viewer
from models.outcomes import Action, AuditEntry

RUNS = 300


@pytest.mark.parametrize(
    "scenario",
    [
        Scenario(true_effect=0.0),
        Scenario(true_effect=10.0),
        Scenario(true_effect=0.0, seasonal_dip=8.0),
        Scenario(true_effect=10.0, seasonal_dip=8.0, comparison_teams=19),
    ],
    ids=["no effect", "ten points", "seasonal dip for everyone", "ten points, dip, 19 teams"],
)
def test_the_interval_holds_the_true_effect_at_the_stated_rate(scenario: Scenario) -> None:
    """95% intervals: over 300 simulated councils the truth is inside 91-99% of the time (the
    binomial spread of 300 runs at 95% is about +-2.5 points)."""
    found = coverage(scenario, RUNS, seed=11)
    assert found.measured > 0.8 * RUNS
    assert 0.91 <= found.covered <= 0.99
    assert abs(found.mean_estimate - scenario.true_effect) < 1.0
    if scenario.true_effect == 0:
        assert found.improved <= 0.05 and found.worse <= 0.05


def test_a_team_that_acts_after_its_worst_month_rarely_reads_as_improved() -> None:
    """No true effect, the acting team chosen for its bad last month (regression to the mean): the
    comparison, not matched on the level before, says "improved" about as rarely as the nominal
    2.5% (docs/INSIGHT.md: 4.2% over 1,000 councils)."""
    found = coverage(Scenario(after_a_dip=True), RUNS, seed=11)
    assert found.improved <= 0.06
    assert 0.90 <= found.covered <= 0.99


def test_a_seasonal_dip_for_everyone_is_not_read_as_the_actions_effect() -> None:
    """Before/after alone would call this team worse; against the comparison it did not change."""
    rng = np.random.default_rng(2)
    months = ["2026-01", "2026-02", "2026-03", "2026-05", "2026-06"]
    dip = {"2026-05": -12.0, "2026-06": -12.0}

    def cells(team: int) -> list[MonthCell]:
        level = rng.normal(60, 6)
        return [
            MonthCell(team, m, float(round(level + dip.get(m, 0) + rng.normal(0, 2))), "12")
            for m in months
        ]

    treated = [MonthCell(0, m, 60.0 + dip.get(m, 0), "12") for m in months]  # dipped like everyone
    effect = did_effect(
        treated, {t: cells(t) for t in range(1, 25)}, month="2026-04", released_months=months
    )
    assert effect.verdict == "no clear change"
    assert effect.low < 0 < effect.high
    assert effect.comparison_teams == 24
    assert "compared with 24 similar teams" in effect.describe().lower()


def test_fewer_than_19_comparison_teams_say_the_smallest_p_possible() -> None:
    months = ["2026-01", "2026-02", "2026-04", "2026-05"]
    rng = np.random.default_rng(3)
    comparison = {
        t: [MonthCell(t, m, float(round(rng.normal(60, 3))), "5-9") for m in months] for t in range(1, 9)
    }
    treated = [MonthCell(0, m, 60.0, "5-9") for m in months]
    effect = did_effect(treated, comparison, month="2026-03", released_months=months)
    assert effect.comparison_teams == 8
    assert effect.smallest_p == pytest.approx(1 / 9)
    assert "smallest p-value possible is 0.11" in effect.describe()


def test_too_few_released_months_is_not_yet_measurable() -> None:
    months = ["2026-01", "2026-02", "2026-04"]
    cells = {t: [MonthCell(t, m, 60.0, "12") for m in months] for t in range(10)}
    effect = did_effect(cells[0], cells, month="2026-03", released_months=months)
    assert effect.verdict == "not yet measurable"
    assert "2 released months before and after" in effect.describe()


# Weeks 1-26 of 2026 are January to June; everything is released by 3 July.
AFTER_JUNE = datetime(2026, 7, 3, 12, tzinfo=UTC)


def _council(engine: Engine, *, effect: float) -> dict[str, int]:
    """24 teams of 12; team-00 acts in March (+``effect`` from April); team-01 acts in April;
    everyone dips 10 points in May. A team of four is never released, and protects its sibling in
    a second directorate (never a comparison team either)."""
    rng = np.random.default_rng(5)
    with Session(engine) as session:
        org = add_unit(session, "org", "organisation", None, "Council")
        directorate = add_unit(session, "dir", "directorate", org, "Directorate")
        second = add_unit(session, "dir-2", "directorate", org, "Second")
        ids = {"org": org}
        for index in range(26):
            code = f"team-{index:02d}"
            ids[code] = add_unit(session, code, "team", second if index >= 24 else directorate)
            add_people(session, ids[code], 4 if index == 24 else 12, code)
        for code, team_id in ids.items():
            if code == "org":
                continue
            level = rng.normal(62, 6)
            for week in weeks(1, 26):
                number = int(week[-2:])
                shift = -10.0 if 19 <= number <= 22 else 0.0
                if code == "team-00" and number >= 14:
                    shift += effect
                size = 4 if code == "team-24" else 12
                add_scores(session, team_id, week, list(level + shift + rng.normal(0, 12, size=size)))
        session.add(Action(team_id=ids["team-00"], title="Fixed the rota", taken_on=date(2026, 3, 18)))
        session.add(Action(team_id=ids["team-01"], title="Team day", taken_on=date(2026, 4, 15)))
        session.commit()
    release_due(engine, now=AFTER_JUNE, rules=PrivacyRules(), schedule=ReleaseSchedule())
    return ids


def test_an_action_is_compared_with_released_teams_that_took_no_action(engine: Engine) -> None:
    ids = _council(engine, effect=15.0)
    with Session(engine) as session:
        effects = team_action_effects(session=session, viewer=HR, team_id=ids["team-00"])
    (effect,) = effects.values()
    # 24 released teams, less the acting team and the team that acted inside the window (team-24
    # is too small and team-25 protects it).
    assert effect.comparison_teams == 22
    assert effect.pre_months == ("2026-01", "2026-02")
    assert effect.post_months == ("2026-04", "2026-05", "2026-06")
    assert effect.low <= 15.0 <= effect.high
    assert effect.verdict == "improved"


def test_the_team_sees_its_effect_and_hr_sees_every_action(engine: Engine) -> None:
    ids = _council(engine, effect=0.0)
    member = Viewer(
        email="m@x", display_name="M", person_id=None, team_id=ids["team-00"], roles=frozenset({"staff"})
    )
    outsider = Viewer(
        email="o@x", display_name="O", person_id=None, team_id=ids["team-05"], roles=frozenset({"staff"})
    )
    with Session(engine) as session:
        assert team_action_effects(session=session, viewer=member, team_id=ids["team-00"])
        with pytest.raises(AccessDenied):
            team_action_effects(session=session, viewer=outsider, team_id=ids["team-00"])
        with pytest.raises(AccessDenied):
            actions_overview(session=session, viewer=member)
        table = actions_overview(session=session, viewer=HR)
    assert list(table["title"]) == ["Fixed the rota", "Team day"]
    assert set(table["effect"]) <= {"improved", "no clear change", "worse", "not yet measurable"}
    assert table.loc[0, "comparison_teams"] == 22


def test_cli_exports_every_action_with_its_effect(engine: Engine, db_url: str) -> None:
    _council(engine, effect=15.0)
    runner = CliRunner()
    result = runner.invoke(cli, ["export", "actions", "--format", "json", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["title"] for row in rows] == ["Fixed the rota", "Team day"]
    assert rows[0]["effect"] == "improved" and rows[0]["comparison_teams"] == 22
    assert rows[0]["taken_on"] == "2026-03-18"
    text = runner.invoke(cli, ["export", "actions", "--database-url", db_url]).stdout
    assert text.splitlines()[0].startswith("action_id,unit,team,title")
    with Session(engine) as session:
        audited = session.exec(select(AuditEntry).where(AuditEntry.action == "export.actions")).all()
    assert [entry.actor for entry in audited] == ["cli", "cli"]
