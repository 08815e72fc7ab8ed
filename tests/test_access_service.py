"""Access decided by the services on every call, on SQLite and PostgreSQL: the viewer is read from
the database as it stands, so taking a manager off a team (or moving the team out from under the
unit they manage) refuses that team's delivery, wellbeing and strain at once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete
from sqlalchemy.engine import Engine

from analytics.objectives import team_actions, team_delivery
from analytics.privacy import PrivacyRules
from analytics.privacy.views import team_figures
from analytics.strain_features import compute_strain_report, team_status_in, team_strain_status
from models.access import (
    AccessDenied,
    load_viewer,
    load_viewer_by_id,
    managed_team_ids,
    require_teams_access,
)
from models.db import read_session, write_session
from models.org import Person, RoleGrant, Unit

RULES = PrivacyRules(min_group_size=5, min_comment_group_size=10)


@pytest.fixture
def organisation(engine: Engine) -> dict[str, int]:
    """A directorate with two teams; a manager of the directorate; a member of one team who
    manages the other."""
    with write_session(engine) as session:
        org = Unit(code="ORG", name="Council", kind="organisation")
        session.add(org)
        session.flush()
        directorate = Unit(code="DIR", name="Housing", kind="directorate", parent_id=org.id)
        elsewhere = Unit(code="ELS", name="Leisure", kind="directorate", parent_id=org.id)
        session.add_all([directorate, elsewhere])
        session.flush()
        repairs = Unit(code="REP", name="Repairs", kind="team", parent_id=directorate.id)
        lettings = Unit(code="LET", name="Lettings", kind="team", parent_id=directorate.id)
        session.add_all([repairs, lettings])
        session.flush()
        head = Person(email="head@council.test", display_name="Head")
        lead = Person(email="lead@council.test", display_name="Lead", team_id=repairs.id)
        session.add_all([head, lead])
        session.flush()
        session.add(RoleGrant(person_id=head.id, role="manager", unit_id=directorate.id))
        # Managing a team they are not in (their own team's actions they may see as staff).
        session.add(RoleGrant(person_id=lead.id, role="manager", unit_id=lettings.id))
        return {
            "directorate": directorate.id,
            "elsewhere": elsewhere.id,
            "repairs": repairs.id,
            "lettings": lettings.id,
            "lead": lead.id,
        }  # type: ignore[dict-item]


READS = {
    "delivery": lambda s, v, t: team_delivery(session=s, viewer=v, team_id=t, today=date(2026, 6, 1)),
    "actions": lambda s, v, t: team_actions(session=s, viewer=v, team_id=t),
    "wellbeing": lambda s, v, t: team_figures(
        session=s, viewer=v, team_id=t, weeks=["2026-W10", "2026-W11"]
    ),
    "strain": lambda s, v, t: team_strain_status(session=s, viewer=v, rules=RULES, team_id=t),
    "strain, shared report": lambda s, v, t: team_status_in(
        lambda: compute_strain_report(session=s, rules=RULES), session=s, viewer=v, team_id=t
    ),
}


def _reads(engine: Engine, email: str, team_id: int, *, allowed: bool) -> None:
    """Each service a manager's dashboard calls for one team, with the viewer as it is now."""
    for name, read in READS.items():
        with read_session(engine) as session:
            viewer = load_viewer(session, email)
            assert viewer is not None
            if allowed:
                read(session, viewer, team_id)
            else:
                with pytest.raises(AccessDenied):
                    read(session, viewer, team_id)
                    pytest.fail(f"{name} was served")


def test_the_shared_strain_report_is_not_even_read_for_a_viewer_refused_the_team(
    engine: Engine, organisation: dict[str, int]
) -> None:
    def must_not_load() -> None:
        pytest.fail("the organisation's report was read before access was decided")

    with write_session(engine) as session:
        session.execute(delete(RoleGrant).where(RoleGrant.person_id == organisation["lead"]))
    with read_session(engine) as session:
        viewer = load_viewer(session, "lead@council.test")
        assert viewer is not None
        with pytest.raises(AccessDenied):
            team_status_in(
                must_not_load, session=session, viewer=viewer, team_id=organisation["lettings"]
            )


def test_a_manager_taken_off_a_team_is_refused_its_figures_at_once(
    engine: Engine, organisation: dict[str, int]
) -> None:
    _reads(engine, "lead@council.test", organisation["lettings"], allowed=True)
    with write_session(engine) as session:
        session.execute(delete(RoleGrant).where(RoleGrant.person_id == organisation["lead"]))
    _reads(engine, "lead@council.test", organisation["lettings"], allowed=False)
    with read_session(engine) as session:
        viewer = load_viewer_by_id(session, organisation["lead"])
        assert viewer is not None and viewer.roles == {"staff"}
        assert managed_team_ids(session, viewer) == set()
        with pytest.raises(AccessDenied):
            require_teams_access(session, viewer, [organisation["lettings"]])


def test_a_team_moved_out_of_a_managed_unit_is_refused_to_its_old_manager(
    engine: Engine, organisation: dict[str, int]
) -> None:
    _reads(engine, "head@council.test", organisation["lettings"], allowed=True)
    with write_session(engine) as session:
        team = session.get(Unit, organisation["lettings"])
        team.parent_id = organisation["elsewhere"]  # type: ignore[union-attr]
        session.add(team)
    _reads(engine, "head@council.test", organisation["lettings"], allowed=False)
    with read_session(engine) as session:
        head = load_viewer(session, "head@council.test")
        require_teams_access(session, head, [organisation["repairs"]])  # type: ignore[arg-type]
        with pytest.raises(AccessDenied):
            require_teams_access(session, head, [organisation["repairs"], organisation["lettings"]])  # type: ignore[arg-type]
    _reads(engine, "head@council.test", organisation["repairs"], allowed=True)  # still theirs
