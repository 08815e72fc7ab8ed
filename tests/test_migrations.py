"""Migrations build the same schema as the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from models.db import make_engine
from models.migrate import upgrade_to_head


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
