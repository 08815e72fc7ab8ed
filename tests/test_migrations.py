"""Migrations build the same schema as the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from models.db import make_engine
from models.migrate import alembic_config, upgrade_to_head
from models.pulse import PulseResponse


def _drop_everything(url: str) -> None:
    engine = make_engine(url)
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def test_upgrade_head_on_fresh_database_matches_models(db_url: str) -> None:
    _drop_everything(db_url)
    upgrade_to_head(db_url)
    engine = make_engine(db_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, SQLModel.metadata)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert differences == [], f"models and migrations disagree: {differences}"
    assert {"pulse_response", "participation_receipt", "team_week_score", "objective"} <= tables


def test_upgrade_is_idempotent(db_url: str) -> None:
    _drop_everything(db_url)
    upgrade_to_head(db_url)
    upgrade_to_head(db_url)  # a second run on an up-to-date database changes nothing and succeeds


def test_answers_and_scores_move_into_the_response_row_and_back(db_url: str) -> None:
    """Upgrading a database that stored answers one per row (b46f5d9ffee9) keeps every answer and
    score, in the response's row and in the views of the old tables' names; a downgrade puts them
    back in tables."""
    _drop_everything(db_url)
    config = alembic_config(db_url)
    command.upgrade(config, "b46f5d9ffee9")
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO unit (id, code, name, kind) VALUES (1, 'T', 'Team', 'team')")
        )
        connection.execute(
            text("INSERT INTO pulse_period VALUES ('2026-W10', '2026-03-02', '2026-03-08')")
        )
        for response_id, values, score in (("a" * 32, (4, 1), 62.5), ("b" * 32, (0, 10), 12.25)):
            connection.execute(
                text(
                    "INSERT INTO pulse_response (id, team_id, week, instrument_version, work_pattern) "
                    "VALUES (:id, 1, '2026-W10', 'weekly-core:1', 'home')"
                ),
                {"id": response_id},
            )
            for item_id, value in zip(("who5_1", "who5_2"), values, strict=True):
                connection.execute(
                    text("INSERT INTO pulse_answer VALUES (:id, :item, :value)"),
                    {"id": response_id, "item": item_id, "value": value},
                )
            connection.execute(
                text("INSERT INTO pulse_score VALUES (:id, 'wellbeing', :score)"),
                {"id": response_id, "score": score},
            )
    before = _answers_and_scores(engine)
    engine.dispose()

    command.upgrade(config, "head")
    engine = make_engine(db_url)
    with Session(engine) as session:
        stored = {r.id: (r.answers, r.scores) for r in session.exec(select(PulseResponse))}
    assert stored == {
        "a" * 32: ({"who5_1": 4, "who5_2": 1}, {"wellbeing": 62.5}),
        "b" * 32: ({"who5_1": 0, "who5_2": 10}, {"wellbeing": 12.25}),
    }
    assert _answers_and_scores(engine) == before  # the views read as the tables did
    engine.dispose()

    command.downgrade(config, "b46f5d9ffee9")
    engine = make_engine(db_url)
    assert {"pulse_answer", "pulse_score"} <= set(inspect(engine).get_table_names())
    assert _answers_and_scores(engine) == before
    engine.dispose()
    _drop_everything(db_url)


def _answers_and_scores(engine: Engine) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with engine.connect() as connection:
        answers = connection.execute(
            text("SELECT response_id, item_id, value FROM pulse_answer ORDER BY 1, 2")
        ).all()
        scores = connection.execute(
            text("SELECT response_id, construct_id, score FROM pulse_score ORDER BY 1, 2")
        ).all()
    return [tuple(row) for row in answers], [tuple(row) for row in scores]


def test_receipts_are_rekeyed_by_week_and_back_keeping_every_receipt(db_url: str) -> None:
    """f9539fef1dee keys receipts by (week, receipt): every receipt is kept (with its SQLite rowid,
    the random storage order), a second answer in the same week is still refused, and a downgrade
    keys them by receipt again."""
    _drop_everything(db_url)
    config = alembic_config(db_url)
    command.upgrade(config, "3c8e2a41f5d7")
    engine = make_engine(db_url)
    sqlite = engine.dialect.name == "sqlite"
    rows = [("2026-W10", "c" * 64, 9_000_000_001), ("2026-W10", "a" * 64, 17), ("2026-W11", "b" * 64, 5)]
    with engine.begin() as connection:
        for week, monday in (("2026-W10", "2026-03-02"), ("2026-W11", "2026-03-09")):
            connection.execute(
                text("INSERT INTO pulse_period VALUES (:week, :monday, :monday)"),
                {"week": week, "monday": monday},
            )
        for week, receipt, rowid in rows:
            connection.execute(
                text(
                    "INSERT INTO participation_receipt (rowid, receipt, week) VALUES (:rowid, :r, :w)"
                    if sqlite
                    else "INSERT INTO participation_receipt (receipt, week) VALUES (:r, :w)"
                ),
                {"rowid": rowid, "r": receipt, "w": week},
            )
    engine.dispose()

    def stored() -> set[tuple[object, ...]]:
        rowid = "rowid" if sqlite else "0"
        with engine.connect() as connection:
            found = connection.execute(text(f"SELECT week, receipt, {rowid} FROM participation_receipt"))
            return {tuple(row) for row in found}

    expected = {(week, receipt, rowid if sqlite else 0) for week, receipt, rowid in rows}
    command.upgrade(config, "f9539fef1dee")
    engine = make_engine(db_url)
    assert inspect(engine).get_pk_constraint("participation_receipt")["constrained_columns"] == [
        "week",
        "receipt",
    ]
    assert stored() == expected
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            text("INSERT INTO participation_receipt (receipt, week) VALUES (:r, '2026-W10')"),
            {"r": "a" * 64},
        )
    engine.dispose()

    command.downgrade(config, "3c8e2a41f5d7")
    engine = make_engine(db_url)
    assert inspect(engine).get_pk_constraint("participation_receipt")["constrained_columns"] == [
        "receipt"
    ]
    assert stored() == expected
    engine.dispose()
    _drop_everything(db_url)


def test_people_changes_counter_is_added_counting_and_removed_cleanly(db_url: str) -> None:
    """310f3fa0aded adds the counter row and its triggers; the downgrade removes both, and people
    can still be added."""
    _drop_everything(db_url)
    config = alembic_config(db_url)
    command.upgrade(config, "head")
    engine = make_engine(db_url)
    add_person = text("INSERT INTO person (email, display_name) VALUES (:email, 'Someone New')")
    with engine.begin() as connection:
        assert connection.execute(text("SELECT changes FROM people_changes")).scalar_one() == 0
        connection.execute(add_person, {"email": "one@council.test"})
        assert connection.execute(text("SELECT changes FROM people_changes")).scalar_one() == 1
    engine.dispose()

    command.downgrade(config, "f9539fef1dee")
    engine = make_engine(db_url)
    assert "people_changes" not in set(inspect(engine).get_table_names())
    with engine.begin() as connection:
        connection.execute(add_person, {"email": "two@council.test"})
    engine.dispose()
    _drop_everything(db_url)


def test_aggregates_lose_their_foreign_keys_and_get_them_back_keeping_every_row(db_url: str) -> None:
    """a71c0e5d2b94 drops the maintained aggregates' foreign keys (the responses they sum hold
    them), keeping every row and the non-negative count check; a downgrade puts them back."""
    _drop_everything(db_url)
    config = alembic_config(db_url)
    command.upgrade(config, "310f3fa0aded")
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO unit (code, name, kind) VALUES ('t', 'Team', 'team')"))
        team = connection.execute(text("SELECT id FROM unit")).scalar_one()
        connection.execute(
            text("INSERT INTO pulse_period VALUES ('2026-W10', '2026-03-02', '2026-03-08')")
        )
        connection.execute(
            text(
                "INSERT INTO team_week_score VALUES (:t, '2026-W10', 'wellbeing', 'home', 3, 1.5, 0.75)"
            ),
            {"t": team},
        )
        connection.execute(
            text("INSERT INTO team_week_responses VALUES (:t, '2026-W10', 3, 1)"), {"t": team}
        )
    engine.dispose()

    def stored() -> dict[str, list[tuple[object, ...]]]:
        with engine.connect() as connection:
            return {
                table: [tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}"))]
                for table in ("team_week_score", "team_week_responses")
            }

    def foreign_keys() -> set[str]:
        found = inspect(engine)
        return {
            fk["name"]
            for table in ("team_week_score", "team_week_responses")
            for fk in found.get_foreign_keys(table)
        }

    expected = stored()
    command.upgrade(config, "head")
    engine = make_engine(db_url)
    assert foreign_keys() == set()
    assert stored() == expected
    with pytest.raises(IntegrityError), engine.begin() as connection:  # the check is kept
        connection.execute(text("UPDATE team_week_score SET n = -1"))
    engine.dispose()

    command.downgrade(config, "310f3fa0aded")
    engine = make_engine(db_url)
    assert foreign_keys() == {
        f"fk_{table}_{column}"
        for table in ("team_week_score", "team_week_responses")
        for column in ("team_id_unit", "week_pulse_period")
    }
    assert stored() == expected
    with pytest.raises(IntegrityError), engine.begin() as connection:  # a week that does not exist
        connection.execute(
            text("INSERT INTO team_week_responses VALUES (:t, '2031-W01', 1, 0)"), {"t": team}
        )
    engine.dispose()
    _drop_everything(db_url)


def test_receipts_become_per_period_keeping_every_receipt_and_back(db_url: str) -> None:
    """5b8e3d1f7a2c: ``week`` becomes ``period`` with a ``team_id``; every stored (week) receipt
    is kept, with no team (nothing says which team it was written for); a month receipt can then
    be stored and a second week answer is still refused. A downgrade keeps the week receipts and
    drops the others (the older schema has no place for them)."""
    _drop_everything(db_url)
    config = alembic_config(db_url)
    command.upgrade(config, "ef9f9f680984")
    engine = make_engine(db_url)
    rows = {("2026-W10", "c" * 64), ("2026-W10", "a" * 64), ("2026-W11", "b" * 64)}
    with engine.begin() as connection:
        for week, monday in (("2026-W10", "2026-03-02"), ("2026-W11", "2026-03-09")):
            connection.execute(
                text("INSERT INTO pulse_period VALUES (:week, :monday, :monday)"),
                {"week": week, "monday": monday},
            )
        for week, receipt in rows:
            connection.execute(
                text("INSERT INTO participation_receipt (receipt, week) VALUES (:r, :w)"),
                {"r": receipt, "w": week},
            )
    engine.dispose()

    command.upgrade(config, "5b8e3d1f7a2c")
    engine = make_engine(db_url)
    assert inspect(engine).get_pk_constraint("participation_receipt")["constrained_columns"] == [
        "period",
        "receipt",
    ]
    assert inspect(engine).get_foreign_keys("participation_receipt") == []
    with engine.begin() as connection:
        stored = set(
            connection.execute(text("SELECT period, receipt, team_id FROM participation_receipt"))
        )
        assert stored == {(week, receipt, None) for week, receipt in rows}
        connection.execute(
            text(
                "INSERT INTO participation_receipt (period, receipt, team_id) VALUES ('2026-03', :r, 7)"
            ),
            {"r": "d" * 64},
        )
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            text("INSERT INTO participation_receipt (period, receipt) VALUES ('2026-W10', :r)"),
            {"r": "a" * 64},
        )
    engine.dispose()

    command.downgrade(config, "ef9f9f680984")
    engine = make_engine(db_url)
    assert inspect(engine).get_pk_constraint("participation_receipt")["constrained_columns"] == [
        "week",
        "receipt",
    ]
    with engine.connect() as connection:
        stored = set(connection.execute(text("SELECT week, receipt FROM participation_receipt")))
    assert stored == rows
    with pytest.raises(IntegrityError), engine.begin() as connection:  # the week's foreign key is back
        connection.execute(
            text("INSERT INTO participation_receipt (week, receipt) VALUES ('2031-W01', :r)"),
            {"r": "e" * 64},
        )
    engine.dispose()
    _drop_everything(db_url)


def test_weeks_stored_before_sealing_existed_are_marked_unsealed(db_url: str) -> None:
    """9d4c6a2e1b7f adds ``unsealed_week`` and marks every week that has responses or week
    receipts (written before sealing existed), so the first seal rewrites them; a downgrade drops
    it."""
    _drop_everything(db_url)
    config = alembic_config(db_url)
    command.upgrade(config, "5b8e3d1f7a2c")
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO unit (id, code, name, kind) VALUES (1, 'T', 'Team', 'team')")
        )
        for week, monday in (("2026-W10", "2026-03-02"), ("2026-W11", "2026-03-09")):
            connection.execute(
                text("INSERT INTO pulse_period VALUES (:week, :monday, :monday)"),
                {"week": week, "monday": monday},
            )
        connection.execute(
            text(
                "INSERT INTO pulse_response (id, team_id, week, instrument_version, work_pattern, "
                "answers, scores) VALUES (:id, 1, '2026-W10', 'weekly-core:1', 'home', '{}', '{}')"
            ),
            {"id": "a" * 32},
        )
        for period in ("2026-W11", "2026-03", "2026"):
            connection.execute(
                text("INSERT INTO participation_receipt (period, receipt) VALUES (:p, :r)"),
                {"p": period, "r": "b" * 64},
            )
    engine.dispose()

    command.upgrade(config, "9d4c6a2e1b7f")
    engine = make_engine(db_url)
    with engine.connect() as connection:
        marked = {row[0] for row in connection.execute(text("SELECT week FROM unsealed_week"))}
    assert marked == {"2026-W10", "2026-W11"}
    engine.dispose()

    command.downgrade(config, "5b8e3d1f7a2c")
    engine = make_engine(db_url)
    assert "unsealed_week" not in set(inspect(engine).get_table_names())
    engine.dispose()
    _drop_everything(db_url)
