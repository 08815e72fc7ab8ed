"""The organisations the attack test builds: issue 16's adversarial one, generated ones, and
imported history. Every answer is remembered with who wrote it (the attacker's worst case)."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from attack_world import World, run_cli
from hypothesis import strategies as st
from privacy_attack import Response

from models.base import iso_week, week_monday
from surveys.composition import DEFAULT_COMPOSITION_ID
from surveys.instruments import get_instrument
from surveys.scoring import construct_score


def adversarial_org(world: World) -> None:
    """Issue 16's organisation: teams of 14, 9, 6, 5, 4, 3, 2 and 1 person(s); the service of the
    6 also holds the 2 and the 1; the 3 sits directly under the organisation."""
    for code, kind, parent in [
        ("org", "organisation", None),
        ("dir-a", "directorate", "org"),
        ("svc-main", "service", "dir-a"),
        ("svc-tiny", "service", "dir-a"),
        ("dir-b", "directorate", "org"),
        ("svc-b", "service", "dir-b"),
    ]:
        world.add_unit(code, kind, parent)
    for team, parent, size in [
        ("t14", "svc-main", 14),
        ("t9", "svc-main", 9),
        ("t6", "svc-tiny", 6),
        ("t2", "svc-tiny", 2),
        ("t1", "svc-tiny", 1),
        ("t5", "svc-b", 5),
        ("t4", "svc-b", 4),
        ("t3", "org", 3),
    ]:
        world.add_unit(team, "team", parent)
        world.add_people(team, size)


def adversarial_answers(world: World, weeks: list[str], seed: int = 16) -> None:
    """Most people answer most weeks; the 1-person team every week (issue 16, leak 2); team t6 skips
    a week; one person moves t9 -> t4 at the quarter boundary, one t5 -> t3 mid-month."""
    rng = random.Random(seed)
    people = sorted(world.person_ids)
    for week in weeks:
        if week == "2026-W14":
            world.move("t9.p8", "t4")
        if week == "2026-W11":
            world.move("t5.p4", "t3")
        answering = [
            person
            for person in people
            if person == "t1.p0"
            or (rng.random() < 0.8 and not (world.team_of[person] == "t6" and week == "2026-W12"))
        ]
        world.answer_week(week, answering, rng)


@st.composite
def histories(draw: st.DrawFn) -> dict[str, Any]:
    """An organisation tree (depth 1-3, 1-8 teams of 1-15 people) and an answer history: weeks
    across a month, quarter or year boundary, people answering some weeks, whole team-weeks
    missing, a few people moving team, and perhaps a switch from WHO-5 to ONS4 (so constructs
    are answered in different weeks)."""
    depth = draw(st.integers(1, 3))
    units: list[tuple[str, str, str | None]] = [("org", "organisation", None)]
    if depth >= 2:
        for d in range(draw(st.integers(1, 2))):
            units.append((f"d{d}", "directorate", "org"))
            for s in range(draw(st.integers(0, 2)) if depth == 3 else 0):
                units.append((f"d{d}s{s}", "service", f"d{d}"))
    parents = [code for code, _, _ in units if depth == 1 or code != "org" or draw(st.booleans())]
    teams = [
        (f"t{i}", draw(st.sampled_from(parents)), draw(st.integers(1, 15)))
        for i in range(draw(st.integers(1, 8)))
    ]
    first = draw(st.sampled_from(["2026-W12", "2026-W13", "2025-W52", "2026-W08"]))
    count = draw(st.integers(3, 6))
    weeks = [iso_week(week_monday(first) + timedelta(days=7 * i)) for i in range(count)]
    moves = draw(
        st.lists(
            st.tuples(st.integers(0, 200), st.integers(1, count - 1), st.integers(0, len(teams) - 1)),
            max_size=3,
        )
    )
    switch = draw(st.one_of(st.none(), st.integers(1, count - 1)))
    return {
        "units": units,
        "teams": teams,
        "weeks": weeks,
        "rate": draw(st.sampled_from([0.5, 0.8, 1.0])),
        "gap": draw(st.sampled_from([0.0, 0.2])),
        "moves": moves,
        "seed": draw(st.integers(0, 2**16)),
        "ons4_from": switch,  # the organisation asks ONS4 instead of WHO-5 from this week on
    }


def build_history(world: World, history: dict[str, Any]) -> None:
    for code, kind, parent in history["units"]:
        world.add_unit(code, kind, parent)
    for code, parent, size in history["teams"]:
        world.add_unit(code, "team", parent)
        world.add_people(code, size)
    rng = random.Random(history["seed"])
    people = sorted(world.person_ids)
    team_codes = [code for code, _, _ in history["teams"]]
    for index, week in enumerate(history["weeks"]):
        for person_index, at, team in history["moves"]:
            if at == index:
                world.move(people[person_index % len(people)], team_codes[team])
        missing = {code for code in team_codes if rng.random() < history["gap"]}
        answering = [
            p for p in people if world.team_of[p] not in missing and rng.random() < history["rate"]
        ]
        switched = history.get("ons4_from") is not None and index >= history["ons4_from"]
        world.answer_week(week, answering, rng, "weekly-ons4" if switched else DEFAULT_COMPOSITION_ID)


def import_history(world: World, folder: Path, team: str, weeks: list[str], per_week: int) -> None:
    """Import ``per_week`` WHO-5 rows a week for a team (``wellbeing import-responses``); the
    attacker's worst case: the same ``per_week`` people wrote them every week."""
    who5 = get_instrument("who5")
    rng = random.Random(team)
    lines = []
    for week in weeks:
        for i in range(per_week):
            answers = [rng.randint(item.scale.min, item.scale.max) for item in who5.items]
            lines.append(f"{team},{week},{','.join(map(str, answers))}")
            values = dict(zip((item.id for item in who5.items), answers, strict=True))
            scores = {c.id: construct_score(c, who5.items_of(c.id), values) for c in who5.constructs}
            world.responses.append(Response(f"{team}.import{i}", team, week, scores))
    file = folder / f"history-{team}.csv"
    file.write_text("team,period," + ",".join(i.id for i in who5.items) + "\n" + "\n".join(lines) + "\n")
    done = run_cli("import-responses", str(file), "--instrument", "who5", "--database-url", world.url)
    assert done.code == 0, done.said
