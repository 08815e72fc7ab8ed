"""The release calendar's gate (analytics.privacy): people rather than responses, suppression across
periods as well as units, frozen releases, and release precision (both backends)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_gate_support import HR, add_people, add_scores, add_unit, weeks

from analytics.privacy import PrivacyRules, ReleaseSchedule, organisation_figures, release_due
from analytics.privacy.rules import REASON_PERIOD, band, rate_text, released_mean
from models.outcomes import OrgSetting
from models.releases import PeriodRelease, ReleasedFigure

RULES = PrivacyRules()
SCHEDULE = ReleaseSchedule()
# Weeks 1-6 of 2026; January is W01-W05 (their Thursdays fall in January), February starts at W06.
AFTER_WEEK_6 = datetime(2026, 2, 11, 12, tzinfo=UTC)


def _org(session: Session, sizes: dict[str, int]) -> dict[str, int]:
    org = add_unit(session, "org", "organisation", None, "Council")
    directorate = add_unit(session, "dir", "directorate", org, "Directorate")
    ids = {"org": org, "dir": directorate}
    for code, size in sizes.items():
        ids[code] = add_unit(session, code, "team", directorate)
        add_people(session, ids[code], size, code)
    return ids


def _cells(engine: Engine, kind: str, construct: str = "wellbeing") -> dict[tuple[str, str], dict]:
    with Session(engine) as session:
        frame = organisation_figures(session=session, viewer=HR, kind=kind, constructs=[construct])  # type: ignore[arg-type]
    return {(row["unit"], row["period"]): row for row in frame.to_dict("records")}


def _release(engine: Engine, now: datetime = AFTER_WEEK_6) -> list[tuple[int, str]]:
    return release_due(engine, now=now, rules=RULES, schedule=SCHEDULE)


def test_people_not_responses_decide_k(engine: Engine) -> None:
    """One person answering five weeks is one person, not five responses: never released."""
    with Session(engine) as session:
        ids = _org(session, {"solo": 1, "big": 20, "other": 20})
        for week in weeks(1, 5):
            add_scores(session, ids["solo"], week, [40.0])
            add_scores(session, ids["big"], week, [60.0] * 12)
            add_scores(session, ids["other"], week, [50.0] * 11)
        session.commit()
    _release(engine)
    month = _cells(engine, "month")
    assert month[("solo", "2026-01")]["suppressed"]
    assert month[("big", "2026-01")]["n"] == "12"  # twelve people, not sixty responses


def test_a_team_below_k_is_never_released_whatever_an_import_claims(engine: Engine) -> None:
    """History without receipts counts as its largest week, never more than the team's people."""
    with Session(engine) as session:
        ids = _org(session, {"three": 3, "big": 20})
        for week in weeks(1, 5):
            add_scores(session, ids["three"], week, [50.0] * 8)  # more answers than people
            add_scores(session, ids["big"], week, [60.0] * 12)
        session.commit()
    _release(engine)
    for kind, period in (("week", "2026-W02"), ("month", "2026-01"), ("quarter", None)):
        cells = _cells(engine, kind)
        for (unit, label), cell in cells.items():
            if unit == "three" and (period is None or label == period):
                assert cell["suppressed"], (kind, label)


def test_a_month_is_withheld_when_it_minus_its_released_weeks_is_a_small_group(engine: Engine) -> None:
    with Session(engine) as session:
        ids = _org(session, {"team": 9, "other": 9, "third": 9})
        for week in weeks(1, 5):
            for code in ("other", "third"):
                add_scores(session, ids[code], week, [55.0] * 8)
        for week in weeks(1, 4):
            add_scores(session, ids["team"], week, [60.0] * 8)
        add_scores(session, ids["team"], "2026-W05", [10.0, 20.0])  # two people in week 5
        session.commit()
    _release(engine)
    weekly = _cells(engine, "week")
    assert not weekly[("team", "2026-W04")]["suppressed"]
    assert weekly[("team", "2026-W05")]["suppressed"]
    month = _cells(engine, "month")
    # January minus weeks 1-4 would be the two answers of week 5.
    assert month[("team", "2026-01")]["suppressed"]
    assert month[("team", "2026-01")]["reason"] == REASON_PERIOD


def test_releases_are_frozen_and_only_closed_periods_are_released(engine: Engine) -> None:
    with Session(engine) as session:
        ids = _org(session, {"big": 20, "other": 20})
        for week in weeks(1, 6):
            add_scores(session, ids["big"], week, [60.0] * 12)
            add_scores(session, ids["other"], week, [50.0] * 12)
        session.commit()
    # Monday of week 7: week 6 has closed, but its grace period has not passed.
    released = _release(engine, datetime(2026, 2, 9, 12, tzinfo=UTC))
    assert "2026-W06" not in {period for _, period in released}
    _release(engine)
    before = _cells(engine, "week")
    with Session(engine) as session:
        add_scores(session, ids["big"], "2026-W03", [100.0])  # a late answer written behind our back
        session.commit()
    assert _release(engine) == []
    assert _cells(engine, "week") == before
    with Session(engine) as session:
        assert (
            len(session.exec(select(PeriodRelease).where(PeriodRelease.period == "2026-W06")).all()) == 1
        )


def test_precision_and_bands_reveal_nothing_extra(engine: Engine) -> None:
    with Session(engine) as session:
        ids = _org(session, {"six": 7, "big": 20})
        for week in weeks(1, 5):
            add_scores(session, ids["six"], week, [52.0, 56.0, 60.0, 64.0, 68.0, 44.0])
            add_scores(session, ids["six"], week, [3.2, 3.4, 3.0, 2.8, 3.6, 3.3], construct="demands")
            add_scores(session, ids["big"], week, [61.0] * 12)
            add_scores(session, ids["big"], week, [3.17] * 12, construct="demands")
        session.commit()
    _release(engine)
    six = _cells(engine, "week")[("six", "2026-W01")]
    assert six["n"] == "5-9" and six["mean"] == 57.0  # 344/6 = 57.33: whole number on 0-100
    demands = _cells(engine, "week", "demands")[("big", "2026-W01")]
    assert demands["mean"] == 3.2  # one decimal on the 1-5 scale
    assert (band(4), band(9), band(10)) == ("3-4", "5-9", "10")
    assert rate_text(7, 10) == "50-90%"  # the rate never undoes the band
    assert released_mean("wellbeing", 100.0, 3) == 33.0


def test_a_stricter_setting_inside_a_period_applies_to_the_whole_period(engine: Engine) -> None:
    with Session(engine) as session:
        ids = _org(session, {"eight": 10, "big": 30})
        for week in weeks(1, 5):
            add_scores(session, ids["eight"], week, [60.0] * 8)
            add_scores(session, ids["big"], week, [60.0] * 20)
        session.add(
            OrgSetting(
                organisation_id=ids["org"],
                key="min_group_size",
                value=json.dumps(9),
                effective_from="2026-W04",
            )
        )
        session.commit()
    _release(engine)
    weekly = _cells(engine, "week")
    assert not weekly[("eight", "2026-W03")]["suppressed"]  # k 5 in force
    assert weekly[("eight", "2026-W04")]["suppressed"]  # k 9 in force
    assert _cells(engine, "month")[("eight", "2026-01")]["suppressed"]  # strictest in January


def test_stored_cells_hold_no_exact_sums(engine: Engine) -> None:
    """The store keeps released values only: someone reading it learns no more than an export."""
    with Session(engine) as session:
        ids = _org(session, {"big": 20, "other": 20})
        for week in weeks(1, 5):
            add_scores(session, ids["big"], week, [61.5] * 12)
            add_scores(session, ids["other"], week, [40.0] * 11)
        session.commit()
    _release(engine)
    with Session(engine) as session:
        cells = session.exec(
            select(ReleasedFigure).where(ReleasedFigure.construct_id == "wellbeing")
        ).all()
    assert cells and all(c.mean is None or c.mean == int(c.mean) for c in cells)
    assert {c.n for c in cells if not c.suppressed} <= {"11", "12", "23"}


@pytest.mark.parametrize("hour", [0, 23])
def test_a_period_closes_at_midnight_in_the_organisations_zone(engine: Engine, hour: int) -> None:
    with Session(engine) as session:
        ids = _org(session, {"big": 20, "other": 20})
        for code in ("big", "other"):
            add_scores(session, ids[code], "2026-W27", [60.0] * 12)  # 29 June - 5 July, summer time
        session.commit()
    # Grace ends at 00:00 on Wednesday 8 July in London, which is 23:00 on Tuesday in UTC.
    moment = datetime(2026, 7, 7, hour, tzinfo=UTC)
    released = {period for _, period in _release(engine, moment)}
    assert ("2026-W27" in released) is (hour == 23)
