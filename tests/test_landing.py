"""Each role lands on its own first page after signing in (app/main.py)."""

from __future__ import annotations

import pytest

from app.main import landing_path
from models.access import Viewer


def viewer(*roles: str, manages: bool = False) -> Viewer:
    return Viewer(
        email="someone@example.org",
        display_name="Someone",
        person_id=1,
        team_id=1 if "staff" in roles else None,
        roles=frozenset(roles),
        managed_unit_ids=frozenset({7}) if manages else frozenset(),
    )


@pytest.mark.parametrize(
    ("who", "path"),
    [
        (viewer("staff"), "pulse"),
        (viewer("staff", "manager", manages=True), "team_dashboard"),
        (viewer("hr"), "org_trends"),
        (viewer("staff", "hr"), "org_trends"),
        (viewer("admin"), "admin"),
        (viewer("admin", "hr"), "admin"),
        (viewer("staff", "manager"), "pulse"),  # a manager of no unit has no dashboard
    ],
)
def test_each_role_lands_on_its_widest_page(who: Viewer, path: str) -> None:
    assert landing_path(who) == path


def test_a_person_with_no_role_has_no_landing_page() -> None:
    assert landing_path(viewer()) is None
