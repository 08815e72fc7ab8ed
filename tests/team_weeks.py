"""Set-up for tests that read released team figures (the strain tests): the pulse weeks, a team's
week of answers as the aggregates hold them, and the release of those weeks; one place, so the
tests' organisations are built the same way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from analytics.privacy import PrivacyRules, ReleaseSchedule, release_due
from models.base import week_monday
from models.org import Unit
from models.pulse import PulsePeriod, TeamWeekResponses, TeamWeekScore

#: The spread of answers within a team, per construct (a WHO-5 0-100 score, the rest 1-5 scales).
WITHIN_SD = {
    "wellbeing": 15.0,
    "demands": 0.6,
    "control": 0.6,
    "manager_support": 0.6,
    "peer_support": 0.6,
}
#: The Wednesday after 2026-W12 closes: every week W01-W12 is due for release by then.
RELEASED_AT = datetime(2026, 3, 25, 12, tzinfo=UTC)


def add_pulse_periods(session: Session, weeks: Iterable[str]) -> None:
    """A pulse period, Monday to Sunday, for each ISO week in ``weeks``."""
    for week in weeks:
        monday = week_monday(week)
        session.add(PulsePeriod(week=week, starts_on=monday, ends_on=monday + timedelta(days=6)))


def add_one_service(session: Session) -> Unit:
    """An organisation with one service, flushed (its id set): the parent of a test's teams."""
    root = Unit(code="ORG", name="Council", kind="organisation")
    session.add(root)
    session.flush()
    service = Unit(code="S", name="Service", kind="service", parent_id=root.id)
    session.add(service)
    session.flush()
    return service


def add_week_scores(
    session: Session, team_id: int, week: str, n: int, means: Mapping[str, float]
) -> None:
    """``n`` answers from the team in ``week`` with these construct ``means`` (and the usual
    within-team spread), stored as the running totals the aggregates keep."""
    for construct, mean in means.items():
        spread = WITHIN_SD[construct]
        session.add(
            TeamWeekScore(
                team_id=team_id,
                week=week,
                construct_id=construct,
                work_pattern="hybrid",
                n=n,
                total=n * mean,
                total_sq=n * (mean**2 + spread**2),
            )
        )
    session.add(TeamWeekResponses(team_id=team_id, week=week, n=n, comments=0))


def release_weeks(session: Session, rules: PrivacyRules) -> None:
    """Release what is due at ``RELEASED_AT`` under ``rules``: the tests read released weeks only."""
    release_due(
        session.get_bind(),  # type: ignore[arg-type]
        now=RELEASED_AT,
        rules=rules,
        schedule=ReleaseSchedule(),
    )
