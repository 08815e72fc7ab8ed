"""The privacy gate's rules on hand-made trees and the small-team scenario (SQLite and PostgreSQL)."""

from __future__ import annotations

import math

import pytest
from sqlmodel import Session
from test_gate_support import HR, add_people, add_scores, add_unit, grant, small_team_org, weeks

from analytics.aggregates import OrgTree, UnitInfo
from analytics.gate import (
    REASON_NEIGHBOUR,
    REASON_TOO_FEW,
    PrivacyRules,
    band,
    decide,
    eligible_teams,
    released_comments,
    t_interval,
    team_pattern_mix,
    team_response_rate,
    team_series,
)
from models.access import AccessDenied, load_viewer

RULES = PrivacyRules()


def tree_of(edges: dict[str, str | None]) -> tuple[OrgTree, dict[str, int]]:
    ids = {code: index + 1 for index, code in enumerate(edges)}
    units = [
        UnitInfo(ids[code], code, code, "unit", ids[parent] if parent else None)
        for code, parent in edges.items()
    ]
    return OrgTree(units), ids


def test_rules_refuse_thresholds_below_the_floor() -> None:
    with pytest.raises(ValueError, match="min_group_size"):
        PrivacyRules(min_group_size=2)
    with pytest.raises(ValueError, match="min_comment_group_size"):
        PrivacyRules(min_comment_group_size=4)
    assert PrivacyRules(min_group_size=3, min_comment_group_size=5).min_group_size == 3


def test_counts_below_ten_are_banded_never_exact() -> None:
    assert [band(n) for n in (3, 4, 5, 9, 10, 37)] == ["3-4", "3-4", "5-9", "5-9", 10, 37]


def test_interval_matches_the_sample_statistics() -> None:
    scores = [40.0, 52.0, 60.0, 64.0, 68.0]
    mean, low, high = t_interval(len(scores), sum(scores), sum(s * s for s in scores))
    sd = math.sqrt(sum((s - 56.8) ** 2 for s in scores) / 4)
    assert mean == pytest.approx(56.8)
    assert high - mean == pytest.approx(2.776445 * sd / math.sqrt(5), rel=1e-5)
    assert mean - low == pytest.approx(high - mean)


def test_one_small_child_forces_the_next_smallest_to_be_hidden() -> None:
    tree, ids = tree_of({"p": None, "a": "p", "b": "p", "c": "p"})
    reasons = decide(tree, {ids["a"]: (20,), ids["b"]: (6,), ids["c"]: (2,)}, 5)
    assert reasons[ids["p"]] is None and reasons[ids["a"]] is None
    assert reasons[ids["c"]] == REASON_TOO_FEW
    assert reasons[ids["b"]] == REASON_NEIGHBOUR  # else p - a - b would reveal c's 2 responses


def test_a_rolled_up_team_cannot_be_recovered_through_a_grandparent() -> None:
    # org > (dir1 > (t1: 10, t2: 2)), (dir2: 30). dir1 is released (12) but t2 must be hidden by
    # hiding t1 too, else org - dir2 - t1 = t2 reveals 2 responses.
    tree, ids = tree_of({"org": None, "dir1": "org", "t1": "dir1", "t2": "dir1", "dir2": "org"})
    reasons = decide(tree, {ids["t1"]: (10,), ids["t2"]: (2,), ids["dir2"]: (30,)}, 5)
    assert reasons[ids["t1"]] == REASON_NEIGHBOUR
    assert reasons[ids["dir1"]] is None and reasons[ids["org"]] is None


def test_people_attached_to_a_parent_count_in_its_residual() -> None:
    tree, ids = tree_of({"p": None, "a": "p", "b": "p"})
    reasons = decide(tree, {ids["p"]: (2,), ids["a"]: (10,), ids["b"]: (12,)}, 5)
    assert reasons[ids["a"]] == REASON_NEIGHBOUR and reasons[ids["b"]] is None


def test_slice_vectors_need_every_pattern_to_pass() -> None:
    tree, ids = tree_of({"p": None, "a": "p", "b": "p"})
    reasons = decide(tree, {ids["a"]: (5, 5), ids["b"]: (6, 4)}, 5)
    assert reasons[ids["b"]] == REASON_TOO_FEW
    assert reasons[ids["a"]] == REASON_NEIGHBOUR  # p's second pattern minus a's would reveal 4
    assert reasons[ids["p"]] is None


def test_small_team_scenario_pools_then_rolls_up_with_reasons(session: Session) -> None:
    org = small_team_org(session)
    frame = team_series(
        session=session,
        viewer=HR,
        rules=RULES,
        team_id=org["four"],
        start_week="2026-W01",
        end_week="2026-W06",
        constructs=["wellbeing"],
    )
    by_week = frame.set_index("week")
    # Week 1: the 4-person team has 4 responses and no history: rolled up into its directorate.
    first = by_week.loc["2026-W01"]
    assert first["basis"] == "rolled up into Adult Care" and not first["suppressed"]
    assert first["mean"] == pytest.approx((10 * 60 + 4 * 50 + 3 * 40) / 17, abs=0.01)
    assert first["n"] == 17
    # From week 2 its own pooled window reaches k.
    second = by_week.loc["2026-W02"]
    assert second["basis"] == "pooled over 4 weeks" and second["mean"] == pytest.approx(50.0)
    assert (second["period_start"], second["period_end"]) == ("2025-W51", "2026-W02")
    assert second["n"] == "5-9"
    sixth = by_week.loc["2026-W06"]
    assert sixth["basis"] == "pooled over 4 weeks" and sixth["n"] == 16
    big = team_series(
        session=session,
        viewer=HR,
        rules=RULES,
        team_id=org["big"],
        start_week="2026-W01",
        end_week="2026-W06",
        constructs=["wellbeing"],
    )
    assert set(big["basis"]) == {"team"} and set(big["n"]) == {10}
    assert big["mean"].tolist() == pytest.approx([60.0] * 6)


def test_a_team_protecting_a_rolled_up_neighbour_says_so(session: Session) -> None:
    org = small_team_org(session, c_per_week=1)
    three = team_series(
        session=session,
        viewer=HR,
        rules=RULES,
        team_id=org["three"],
        start_week="2026-W04",
        end_week="2026-W06",
        constructs=["wellbeing"],
    )
    assert set(three["basis"]) == {"rolled up into Adult Care"}
    # The 4-person team's pooled window would leave the 1-a-week team recoverable as
    # directorate - big team - four team, so its pooled figure is withheld and it rolls up too.
    four = team_series(
        session=session,
        viewer=HR,
        rules=RULES,
        team_id=org["four"],
        start_week="2026-W04",
        end_week="2026-W06",
        constructs=["wellbeing"],
    )
    assert set(four["basis"]) == {"rolled up into Adult Care"}
    assert not four["suppressed"].any()


def test_a_team_too_small_everywhere_is_suppressed_with_its_reason(session: Session) -> None:
    org = add_unit(session, "solo-org", "organisation", None)
    team = add_unit(session, "solo", "team", org)
    add_scores(session, team, "2026-W01", [50, 60])
    session.commit()
    frame = team_series(
        session=session,
        viewer=HR,
        rules=RULES,
        team_id=team,
        start_week="2026-W01",
        end_week="2026-W01",
        constructs=["wellbeing"],
    )
    row = frame.iloc[0]
    assert row["suppressed"] and row["reason"] == REASON_TOO_FEW
    assert row["mean"] is None and row["n"] is None and row["ci_low"] is None


def test_response_rate_pattern_mix_and_access(session: Session) -> None:
    org = small_team_org(session)
    rates = team_response_rate(
        session=session,
        viewer=HR,
        rules=RULES,
        team_id=org["big"],
        start_week="2026-W02",
        end_week="2026-W03",
    )
    assert rates["response_rate"].tolist() == pytest.approx([10 / 12, 10 / 12], abs=0.001)
    assert set(rates["rate_label"]) == {"83%"}
    small = team_response_rate(
        session=session,
        viewer=HR,
        rules=RULES,
        team_id=org["four"],
        start_week="2026-W01",
        end_week="2026-W01",
    ).iloc[0]
    assert small["basis"] == "rolled up into Adult Care" and small["members"] == 19
    assert small["responses"] == 17 and small["rate_label"] == "89%"
    mix = team_pattern_mix(
        session=session,
        viewer=HR,
        rules=RULES,
        team_id=org["big"],
        start_week="2026-W01",
        end_week="2026-W06",
    )
    assert mix.set_index("work_pattern")["share"].to_dict() == {"hybrid": 1.0}

    staff_id = add_people(session, org["big"], 1, "staff-extra")[0]
    manager_id = add_people(session, org["four"], 1, "manager-four")[0]
    grant(session, manager_id, "manager", org["four"])
    session.commit()
    staff = load_viewer(session, "staff-extra0@example.org")
    manager = load_viewer(session, "manager-four0@example.org")
    assert staff is not None and manager is not None and staff_id
    args = {"session": session, "rules": RULES, "start_week": "2026-W01", "end_week": "2026-W02"}
    assert len(team_series(viewer=staff, team_id=org["big"], **args)) == 2  # own team
    with pytest.raises(AccessDenied):
        team_series(viewer=staff, team_id=org["four"], **args)
    assert len(team_response_rate(viewer=manager, team_id=org["four"], **args)) == 2
    with pytest.raises(AccessDenied):
        team_pattern_mix(viewer=manager, team_id=org["big"], **args)


def test_eligible_teams_need_k_in_every_window(session: Session) -> None:
    org = small_team_org(session, c_per_week=1)
    both = eligible_teams(session=session, rules=RULES, start_week="2026-W02", end_week="2026-W06")
    assert both == {org["big"], org["four"]}
    early = eligible_teams(session=session, rules=RULES, start_week="2026-W01", end_week="2026-W06")
    assert early == {org["big"]}  # the 4-person team has only 4 responses in week 1's window


def test_comments_need_the_comment_threshold(session: Session) -> None:
    org_id = add_unit(session, "c-org", "organisation", None)
    team = add_unit(session, "c-team", "team", org_id)
    add_scores(session, team, "2026-W01", [50] * 9, comments=1)
    session.commit()
    args = {"session": session, "viewer": HR, "rules": RULES, "unit_id": team}
    held = released_comments(start_week="2026-W01", end_week="2026-W01", **args)
    assert not held.released and held.comments == [] and held.reason == REASON_TOO_FEW
    add_scores(session, team, "2026-W02", [50] * 3)
    session.commit()
    released = released_comments(start_week="2026-W01", end_week="2026-W02", **args)
    assert released.released and released.responses == 12


def test_weeks_helper() -> None:
    assert weeks(52, 53, 2026)[0] == "2026-W52"
