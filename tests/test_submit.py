"""Submitting the pulse through the service: stored once, refused twice, bad input stores nothing,
maintained aggregates agree with the responses, comments scrubbed (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import surveys.name_cache as name_cache
import surveys.response_rows as response_rows
import surveys.submit as submit_module
from models.access import AccessDenied, Viewer
from models.db import open_writer_connection, read_session, write_session
from models.org import Person, Unit
from models.outcomes import AuditEntry
from models.pulse import (
    ParticipationReceipt,
    PulsePeriod,
    PulseResponse,
    TeamWeekResponses,
    TeamWeekScore,
)
from surveys.comments import scrub_comment
from surveys.composition import get_composition
from surveys.response_rows import work_pattern
from surveys.submit import (
    AlreadyAnswered,
    SubmissionError,
    composition_for,
    has_answered,
    organisation_of,
    participation_receipt,
    set_pulse_composition,
    submit_pulse,
    submit_pulse_in,
)

KEY = b"test-participation-key"
WEEK = "2026-W14"
PULSE_TABLES = (
    PulseResponse,
    ParticipationReceipt,
    TeamWeekScore,
    TeamWeekResponses,
)


ADMIN = Viewer("admin@council.test", "Admin", None, None, frozenset({"admin"}))


def make_org(engine: Engine, people: int = 3) -> dict[str, int]:
    """An organisation > service > team with ``people`` members; returns their ids."""
    with write_session(engine) as session:
        org = Unit(code="ORG", name="Borough Council", kind="organisation")
        session.add(org)
        session.flush()
        service = Unit(code="SVC", name="Housing", kind="service", parent_id=org.id)
        session.add(service)
        session.flush()
        team = Unit(code="T1", name="Lettings", kind="team", parent_id=service.id)
        session.add(team)
        session.flush()
        ids = {"org": org.id, "service": service.id, "team": team.id}
        for n in range(people):
            person = Person(
                email=f"p{n}@council.test", display_name=f"Person{n} Surname{n}", team_id=team.id
            )
            session.add(person)
            session.flush()
            ids[f"person{n}"] = person.id  # type: ignore[assignment]
        return ids  # type: ignore[return-value]


def answers_all(value: int = 3) -> dict[str, int]:
    return dict.fromkeys(get_composition("weekly-core").item_ids, value)


def counts(engine: Engine) -> dict[str, int]:
    with read_session(engine) as session:
        return {
            table.__tablename__: session.exec(select(func.count()).select_from(table)).one()  # type: ignore[arg-type]
            for table in PULSE_TABLES
        }


def test_submission_stores_response_scores_receipt_and_aggregates(engine: Engine) -> None:
    ids = make_org(engine)
    result = submit_pulse(
        engine,
        person_id=ids["person0"],
        team_id=ids["team"],
        week=WEEK,
        answers=answers_all(4),
        days_home=3,
        days_office=2,
        participation_key=KEY,
        composition="weekly-core",
    )
    assert result.scores["wellbeing"] == 80.0
    assert result.work_pattern == "home"
    with read_session(engine) as session:
        response = session.exec(select(PulseResponse)).one()
        assert (response.team_id, response.week, response.instrument_version) == (
            ids["team"],
            WEEK,
            "weekly-core:1",
        )
        assert len(response.id) == 32
        assert response.answers == answers_all(4)
        assert response.scores == result.scores
        # The views list them one per row, for SQL readers.
        answers = session.execute(text("SELECT response_id, item_id, value FROM pulse_answer"))
        assert {(r, i): v for r, i, v in answers} == {(response.id, i): 4 for i in answers_all(4)}
        scores = session.execute(text("SELECT construct_id, score, team_id, week FROM pulse_score"))
        assert {c: (s, t, w) for c, s, t, w in scores} == {
            c: (s, ids["team"], WEEK) for c, s in result.scores.items()
        }
        # One receipt per period kind; W14's Thursday (2 April) puts it in April, Q2 and 2026.
        receipts = {(r.period, r.receipt, r.team_id) for r in session.exec(select(ParticipationReceipt))}
        assert receipts == {
            (period, participation_receipt(KEY, ids["person0"], period), ids["team"])
            for period in (WEEK, "2026-04", "2026-Q2", "2026")
        }
        period = session.get(PulsePeriod, WEEK)
        assert period is not None and (period.starts_on, period.ends_on) == (
            date(2026, 3, 30),
            date(2026, 4, 5),
        )
        weekly = session.exec(
            select(TeamWeekScore).where(TeamWeekScore.construct_id == "wellbeing")
        ).one()
        assert (weekly.n, weekly.total, weekly.total_sq, weekly.work_pattern) == (
            1,
            80.0,
            6400.0,
            "home",
        )
        assert has_answered(session, person_id=ids["person0"], week=WEEK, participation_key=KEY)
        assert not has_answered(session, person_id=ids["person1"], week=WEEK, participation_key=KEY)


def test_second_answer_in_the_same_week_is_refused_and_changes_nothing(engine: Engine) -> None:
    ids = make_org(engine)
    kwargs = {"person_id": ids["person0"], "team_id": ids["team"], "participation_key": KEY}
    submit_pulse(engine, week=WEEK, answers=answers_all(), composition="weekly-core", **kwargs)
    before = counts(engine)
    with pytest.raises(AlreadyAnswered, match="already answered this week"):
        submit_pulse(engine, week=WEEK, answers=answers_all(5), composition="weekly-core", **kwargs)
    assert counts(engine) == before
    submit_pulse(engine, week="2026-W15", answers=answers_all(), composition="weekly-core", **kwargs)
    assert counts(engine)["pulse_response"] == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"answers": {**answers_all(), "who5_1": 6}}, "who5_1: 6 is outside 0-5"),
        ({"answers": {**answers_all(), "hse_06": -1}}, "hse_06: -1 is outside 1-5"),
        (
            {"answers": {k: v for k, v in answers_all().items() if k != "hse_23"}},
            "hse_23: no answer given",
        ),
        ({"days_home": 4, "days_office": 3, "days_site": 1}, "add up to more than 7"),
        ({"days_site": 8}, "days_site: 8 is outside 0-7"),
        ({"comment": "x" * 501}, "the comment has 501 characters; the most is 500"),
        ({"team_id": 999_999}, "team 999999 does not exist"),
        ({"week": "2026-14"}, "is not an ISO week"),
        ({"week": "2026-W60"}, "is not an ISO week"),
        ({"composition": "nope"}, "unknown composition 'nope'"),
    ],
)
def test_bad_input_is_explained_and_stores_nothing(engine: Engine, change: dict, message: str) -> None:
    ids = make_org(engine)
    kwargs = {
        "person_id": ids["person0"],
        "team_id": ids["team"],
        "week": WEEK,
        "answers": answers_all(),
        "participation_key": KEY,
        "composition": "weekly-core",
        **change,
    }
    with pytest.raises(SubmissionError) as caught:
        submit_pulse(engine, **kwargs)
    assert message in str(caught.value)
    assert not isinstance(caught.value, AlreadyAnswered)
    assert set(counts(engine).values()) == {0}
    # and the person can still answer properly afterwards
    submit_pulse(
        engine,
        person_id=ids["person0"],
        team_id=ids["team"],
        week=WEEK,
        answers=answers_all(),
        participation_key=KEY,
        composition="weekly-core",
    )


def test_aggregates_match_the_stored_scores_per_pattern(engine: Engine) -> None:
    ids = make_org(engine, people=4)
    plans = [(1, (5, 0, 0)), (3, (5, 0, 0)), (5, (1, 1, 1)), (2, (None, None, None))]
    for n, (value, (home, office, site)) in enumerate(plans):
        submit_pulse(
            engine,
            person_id=ids[f"person{n}"],
            team_id=ids["team"],
            week=WEEK,
            answers=answers_all(value),
            days_home=home,
            days_office=office,
            days_site=site,
            comment="fine" if n % 2 else None,
            participation_key=KEY,
            composition="weekly-core",
        )
    with read_session(engine) as session:
        rows = session.exec(select(TeamWeekScore).where(TeamWeekScore.construct_id == "wellbeing")).all()
        by_pattern = {row.work_pattern: (row.n, row.total, row.total_sq) for row in rows}
        assert by_pattern == {"home": (2, 80.0, 20.0**2 + 60.0**2), "hybrid": (1, 100.0, 10000.0),
                              "unknown": (1, 40.0, 1600.0)}  # fmt: skip
        responses = session.get(TeamWeekResponses, (ids["team"], WEEK))
        assert responses is not None and (responses.n, responses.comments) == (4, 2)
        stored = [response.scores["wellbeing"] for response in session.exec(select(PulseResponse))]
        assert sorted(stored) == [20.0, 40.0, 60.0, 100.0]


def test_comments_lose_emails_phones_and_colleagues_names(engine: Engine) -> None:
    ids = make_org(engine)
    comment = (
        "Ask Person1 Surname1 or person2 surname2 (p2@council.test, 020 7946 0018). Surname0 knows."
    )
    result = submit_pulse(
        engine,
        person_id=ids["person0"],
        team_id=ids["team"],
        week=WEEK,
        answers=answers_all(),
        comment=comment,
        participation_key=KEY,
        composition="weekly-core",
    )
    assert result.comment_scrubbed
    with read_session(engine) as session:
        stored = session.exec(select(PulseResponse.comment)).one()
    assert stored == result.comment_stored
    expected = (
        "Ask [name removed] or [name removed] ([email removed], [phone removed]). [name removed] knows."
    )
    assert stored == expected


def test_batched_week_in_one_caller_transaction(engine: Engine) -> None:
    ids = make_org(engine, people=3)
    composition = get_composition("weekly-core")
    with write_session(engine) as session:
        for n in range(3):
            submit_pulse_in(
                session,
                person_id=ids[f"person{n}"],
                team_id=ids["team"],
                week=WEEK,
                answers=answers_all(n + 1),
                participation_key=KEY,
                composition=composition,
                known_names=(),
            )
    with read_session(engine) as session:
        row = session.get(TeamWeekScore, (ids["team"], WEEK, "demands", "unknown"))
        assert row is not None and row.n == 3
        assert row.total == pytest.approx((6 - 1) + (6 - 2) + (6 - 3))


def test_work_pattern_rule() -> None:
    assert work_pattern(None, None, None) == "unknown"
    assert work_pattern(0, 0, 0) == "unknown"
    assert work_pattern(3, 2, 0) == "home"
    assert work_pattern(0, 4, 1) == "office"
    assert work_pattern(1, 0, 3) == "site"
    assert work_pattern(2, 2, 0) == "hybrid"
    assert work_pattern(2, 2, 2) == "hybrid"


def test_composition_setting_applies_from_next_week_and_is_audited(engine: Engine) -> None:
    ids = make_org(engine)
    with write_session(engine) as session:
        assert organisation_of(session, ids["team"]) == ids["org"]
        effective = set_pulse_composition(
            session,
            viewer=ADMIN,
            organisation_id=ids["org"],
            composition_id="weekly-ons4",
            today=date(2026, 4, 1),  # in 2026-W14
        )
    assert effective == "2026-W15"
    with read_session(engine) as session:
        assert composition_for(session, organisation_id=ids["org"], week="2026-W14").id == "weekly-core"
        assert composition_for(session, organisation_id=ids["org"], week="2026-W15").id == "weekly-ons4"
        entry = session.exec(select(AuditEntry)).one()
        assert entry.actor == "admin@council.test" and "pulse_composition" in entry.detail


def test_unusable_composition_choice_is_refused(session: Session, engine: Engine) -> None:
    ids = make_org(engine)
    with pytest.raises(ValueError, match="cannot be used"):
        set_pulse_composition(
            session, viewer=ADMIN, organisation_id=ids["org"], composition_id="weekly-swemwbs"
        )
    with pytest.raises(ValueError, match="not an organisation"):
        set_pulse_composition(
            session, viewer=ADMIN, organisation_id=ids["team"], composition_id="hse-full"
        )


def test_only_an_admin_may_schedule_a_pulse_for_the_organisation(engine: Engine) -> None:
    ids = make_org(engine)
    hr_and_staff = Viewer("hr@council.test", "HR", None, ids["team"], frozenset({"hr", "staff"}))
    with write_session(engine) as session, pytest.raises(AccessDenied):
        set_pulse_composition(
            session, viewer=hr_and_staff, organisation_id=ids["org"], composition_id="weekly-ons4"
        )
    with read_session(engine) as session:
        assert composition_for(session, organisation_id=ids["org"], week="2099-W01").id == "weekly-core"
        assert session.exec(select(AuditEntry)).all() == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+44 7700 900123 ok", "[phone removed] ok"),
        ("ring (020) 7946 0018", "ring [phone removed]"),
        ("+44 (0)20 7946 0018", "[phone removed]"),
        ("call 07700900123.", "call [phone removed]."),
        ("mail first.last+x@council.gov.uk now", "mail [email removed] now"),
        ("Ask Sam-Lee or SAM-LEE JONES", "Ask [name removed] or [name removed]"),
        ("In 2025 we had 10 people; week 2026-W14 was 12345 steps", None),
        ("sam said the samosas were good", None),
    ],
)
def test_comment_scrubbing_examples(text: str, expected: str | None) -> None:
    result = scrub_comment(text, ("Sam-Lee Jones", "May Smith"))
    assert result.text == (text if expected is None else expected)
    assert result.changed == (expected is not None)


def _comment_as_stored(
    engine: Engine, ids: dict[str, int], person: str, comment: str, week: str = WEEK
) -> str | None:
    return submit_pulse(
        engine,
        person_id=ids[person],
        team_id=ids["team"],
        week=week,
        answers=answers_all(),
        comment=comment,
        participation_key=KEY,
        composition="weekly-core",
    ).comment_stored


def test_people_added_or_renamed_after_the_name_cache_is_built_are_still_scrubbed(
    engine: Engine,
) -> None:
    ids = make_org(engine, people=3)
    # builds the process-wide name index; nobody called Quince exists yet
    assert _comment_as_stored(engine, ids, "person0", "Zelda Quince starts soon") == (
        "Zelda Quince starts soon"
    )
    with write_session(engine) as session:
        session.add(Person(email="zq@council.test", display_name="Zelda Quince", team_id=ids["team"]))
    assert _comment_as_stored(engine, ids, "person1", "zelda quince and Quince") == (
        "[name removed] and [name removed]"
    )
    with write_session(engine) as session:
        renamed = session.get(Person, ids["person2"])
        assert renamed is not None
        renamed.display_name = "Imogen Fairweather-Blake"
    stored = _comment_as_stored(
        engine, ids, "person2", "imogen fairweather-blake and Zelda; Fairweather too"
    )
    assert stored == "[name removed] and [name removed]; [name removed] too"
    # a person who left: their name is no longer in the organisation's list
    with write_session(engine) as session:
        gone = session.get(Person, ids["person1"])
        assert gone is not None
        session.delete(gone)
    stored = _comment_as_stored(engine, ids, "person0", "Imogen and Person1", week="2026-W15")
    assert stored == "[name removed] and Person1"


def _prepared_with_comment(engine: Engine, person_id: int, team_id: int, comment: str) -> object:
    with read_session(engine) as session:
        return submit_module.prepare_submission(
            session,
            person_id=person_id,
            team_id=team_id,
            week=WEEK,
            answers=answers_all(),
            comment=comment,
            participation_key=KEY,
            composition="weekly-core",
        )


@pytest.mark.parametrize("counter", ["kept", "row deleted"])
def test_a_colleague_added_after_a_comment_was_prepared_is_scrubbed_when_it_is_written(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, counter: str
) -> None:
    """The writer checks the people table inside its write transaction: someone who joined
    between a submission's preparation and its write is still scrubbed from its comment (by the
    fingerprint of the table alone if the change counter's row was deleted)."""
    monkeypatch.setattr(name_cache, "_name_indexes", {})  # none left by another test's database
    ids = make_org(engine, people=2)
    if counter == "row deleted":
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM people_changes"))
    prepared = _prepared_with_comment(engine, ids["person0"], ids["team"], "Ask Zelda Quince")
    assert prepared.comment == "Ask Zelda Quince"  # type: ignore[attr-defined]  (nobody of that name yet)
    with write_session(engine) as session:
        session.add(Person(email="zq@council.test", display_name="Zelda Quince", team_id=ids["team"]))
    result = submit_module.submission_writer(engine).write(prepared)  # type: ignore[arg-type]
    assert result.comment_stored == "Ask [name removed]"
    assert result.comment_scrubbed
    with read_session(engine) as session:
        assert session.exec(select(PulseResponse.comment)).all() == ["Ask [name removed]"]


def test_commented_submissions_ask_nothing_while_prepared_and_one_check_per_batch(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst's commented submissions scrub with the cached names (no query each while they
    are prepared, when the database is busiest); their batch's writer checks the people version
    once for all of them."""
    ids = make_org(engine, people=8)
    _comment_as_stored(engine, ids, "person7", "warm the name index", week="2026-W13")
    queries: list[str] = []
    for name in ("people_changes", "people_version"):
        real = getattr(name_cache, name)

        def counted(session: Session, _real: object = real, _name: str = name) -> object:
            queries.append(_name)
            return _real(session)  # type: ignore[operator]

        for module in (name_cache, submit_module):  # the cache's own reads and the writer's check
            monkeypatch.setattr(module, name, counted)
    prepared = [
        _prepared_with_comment(engine, ids[f"person{i}"], ids["team"], f"Person{i} helped a lot")
        for i in range(7)
    ]
    assert queries == []
    with open_writer_connection(engine) as connection, connection.begin():
        outcomes = submit_module.write_prepared_batch(connection, prepared)  # type: ignore[arg-type]
    assert queries == ["people_changes"]  # one row: nobody joined or was renamed
    assert [outcome.comment_stored for outcome in outcomes] == ["[name removed] helped a lot"] * 7  # type: ignore[union-attr]


def test_only_a_comment_makes_preparing_a_submission_open_a_read_session(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Preparing a submission without a comment needs nothing from the database, so no session
    is made for it (making one was half the preparing, and 200 submitters at once share one
    interpreter); a comment is scrubbed with everyone's names, and asking for them without a
    session is a programming error, not a silently unscrubbed comment."""
    ids = make_org(engine, people=2)
    opened: list[Engine] = []
    real = submit_module.read_session

    def counting(engine_: Engine) -> object:
        opened.append(engine_)
        return real(engine_)

    monkeypatch.setattr(submit_module, "read_session", counting)
    common = {"team_id": ids["team"], "week": WEEK, "answers": answers_all(), "participation_key": KEY}
    plain = submit_pulse(engine, person_id=ids["person0"], composition="weekly-core", **common)  # type: ignore[arg-type]
    assert plain.comment_stored is None
    assert opened == []
    commented = submit_pulse(
        engine,
        person_id=ids["person1"],
        comment="Person0 covered for me",
        composition="weekly-core",
        **common,  # type: ignore[arg-type]
    )
    assert commented.comment_stored == "[name removed] covered for me"
    assert opened == [engine]
    assert counts(engine)["pulse_response"] == 2
    with pytest.raises(TypeError, match="give a session or known_names"):
        submit_module.prepare_submission(None, person_id=ids["person1"], comment="Hi", **common)  # type: ignore[arg-type]


def test_bad_input_is_refused_without_waiting_for_the_write_lock(sqlite_engine: Engine) -> None:
    """Checks run before the write transaction: a refusal never queues behind other writers."""
    ids = make_org(sqlite_engine, people=1)
    blocker = sqlite_engine.execution_options(sqlite_immediate=True).connect()
    blocker.exec_driver_sql("SELECT 1")  # begins with BEGIN IMMEDIATE: holds SQLite's write lock
    try:
        with pytest.raises(SubmissionError, match="who5_1: 9 is outside 0-5"):
            submit_pulse(
                sqlite_engine,
                person_id=ids["person0"],
                team_id=ids["team"],
                week=WEEK,
                answers={**answers_all(), "who5_1": 9},
                participation_key=KEY,
                composition="weekly-core",
            )
    finally:
        blocker.rollback()
        blocker.close()


def test_people_changes_are_counted_by_the_database_whoever_writes(engine: Engine) -> None:
    """The triggers on ``person`` count additions, renames and removals, from the ORM or from
    plain SQL; a change that touches no name (a move to another team) is not counted."""
    ids = make_org(engine, people=2)

    def changes() -> int:
        with read_session(engine) as session:
            return name_cache.people_changes(session)

    before = changes()
    with write_session(engine) as session:
        session.add(Person(email="new@council.test", display_name="New Starter", team_id=ids["team"]))
    assert changes() == before + 1
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE person SET display_name = 'Renamed Person' WHERE id = :id"),
            {"id": ids["person0"]},
        )
    assert changes() == before + 2
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE person SET team_id = NULL WHERE id = :id"), {"id": ids["person1"]}
        )
    assert changes() == before + 2
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM person WHERE id = :id"), {"id": ids["person1"]})
    assert changes() == before + 3


def test_a_rename_to_a_name_of_the_same_length_is_scrubbed_at_once(engine: Engine) -> None:
    """The table's fingerprint (count, highest id, length of names) cannot see this rename; the
    counted change can, so the cached names are rebuilt for the next comment."""
    ids = make_org(engine, people=2)
    assert (
        _comment_as_stored(engine, ids, "person0", "Thanks Ida Foxglovewood")
        == "Thanks Ida Foxglovewood"
    )
    with write_session(engine) as session:
        person = session.get(Person, ids["person1"])
        assert person is not None
        assert len(person.display_name) == len("Ida Foxglovewood")
        person.display_name = "Ida Foxglovewood"
    assert (
        _comment_as_stored(engine, ids, "person1", "Thanks Ida Foxglovewood") == "Thanks [name removed]"
    )


def test_sqlite_rowids_sort_by_week_and_at_random_within_it() -> None:
    """Storage order follows the week (which every row states) and nothing else."""
    early = response_rows.week_rowids(["2026-W14"] * 500)
    late = response_rows.week_rowids(["2026-W15"] * 500)
    assert max(early) < min(late) and max(late) < 2**62
    assert len(set(early)) == 500
    rises = sum(a < b for a, b in zip(early, early[1:], strict=False))
    assert 150 < rises < 350  # about half of 499 (9 standard deviations either side)
    ids = response_rows.response_ids(["2026-W14"] * 3)
    assert len(set(ids)) == 3 and all(len(i) == 32 and i.startswith("2026-W14") for i in ids)
