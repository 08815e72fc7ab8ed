"""Migrations build the same schema as the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
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
