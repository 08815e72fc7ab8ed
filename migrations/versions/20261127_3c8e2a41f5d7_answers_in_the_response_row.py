"""answers and scores in the response row

A response's answers and construct scores move from the tables pulse_answer and pulse_score (one
row each, twenty rows per response) into two JSON columns of pulse_response. Views with the old
tables' names and columns keep SQL written against them working. Every stored answer and score
is carried over; the downgrade puts them back in tables.

Fewer indexes for a submission to write: pulse_response's indexes on team_id and on week become
one on (team_id, week), and participation_receipt's index on week (never looked up) goes. On
PostgreSQL the maintained sums keep 30% of each page free for updates in place (fillfactor 70).

Revision ID: 3c8e2a41f5d7
Revises: b46f5d9ffee9
Create Date: 2026-11-27 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "3c8e2a41f5d7"
down_revision: str | None = "b46f5d9ffee9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(JSONB(), "postgresql")

# The views as this revision creates them (a frozen copy: models/pulse.py may change later).
VIEWS = {
    "sqlite": (
        "CREATE VIEW pulse_answer AS SELECT r.id AS response_id, a.key AS item_id, "
        "a.value AS value, r.team_id, r.week, r.work_pattern "
        "FROM pulse_response r, json_each(r.answers) a",
        "CREATE VIEW pulse_score AS SELECT r.id AS response_id, s.key AS construct_id, "
        "s.value AS score, r.team_id, r.week, r.work_pattern "
        "FROM pulse_response r, json_each(r.scores) s",
    ),
    "postgresql": (
        "CREATE VIEW pulse_answer AS SELECT r.id AS response_id, a.key AS item_id, "
        "(a.value)::integer AS value, r.team_id, r.week, r.work_pattern "
        "FROM pulse_response r CROSS JOIN LATERAL jsonb_each(r.answers) a",
        "CREATE VIEW pulse_score AS SELECT r.id AS response_id, s.key AS construct_id, "
        "(s.value)::double precision AS score, r.team_id, r.week, r.work_pattern "
        "FROM pulse_response r CROSS JOIN LATERAL jsonb_each(r.scores) s",
    ),
}
# Per dialect: the JSON object of one response's rows in a table, and the empty object.
OBJECT_OF = {
    "sqlite": ("json_group_object({key}, {value})", "'{{}}'"),
    "postgresql": ("jsonb_object_agg({key}, {value})", "'{{}}'::jsonb"),
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("pulse_response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answers", JSON_DOCUMENT, nullable=True))
        batch_op.add_column(sa.Column("scores", JSON_DOCUMENT, nullable=True))
    aggregate, empty = OBJECT_OF[dialect]
    for column, table, key, value in (
        ("answers", "pulse_answer", "item_id", "value"),
        ("scores", "pulse_score", "construct_id", "score"),
    ):
        rows = aggregate.format(key=f"t.{key}", value=f"t.{value}")
        op.execute(
            f"UPDATE pulse_response SET {column} = COALESCE((SELECT {rows} FROM {table} t "
            f"WHERE t.response_id = pulse_response.id), {empty.format()})"
        )
    with op.batch_alter_table("pulse_score", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_score_construct_id"))
    op.drop_table("pulse_score")
    op.drop_table("pulse_answer")
    with op.batch_alter_table("pulse_response", schema=None) as batch_op:
        batch_op.alter_column("answers", existing_type=JSON_DOCUMENT, nullable=False)
        batch_op.alter_column("scores", existing_type=JSON_DOCUMENT, nullable=False)
    with op.batch_alter_table("pulse_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_response_week"))
        batch_op.drop_index(batch_op.f("ix_pulse_response_team_id"))
        batch_op.create_index("ix_pulse_response_team_id_week", ["team_id", "week"], unique=False)
    with op.batch_alter_table("participation_receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participation_receipt_week"))
    for view in VIEWS[dialect]:
        op.execute(view)
    if dialect == "postgresql":  # room on each page for updates in place (models/pulse.py)
        for table in ("team_week_score", "team_week_responses"):
            op.execute(f"ALTER TABLE {table} SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("team_week_score", "team_week_responses"):
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
    op.execute("DROP VIEW IF EXISTS pulse_score")
    op.execute("DROP VIEW IF EXISTS pulse_answer")
    with op.batch_alter_table("participation_receipt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participation_receipt_week"), ["week"], unique=False)
    with op.batch_alter_table("pulse_response", schema=None) as batch_op:
        batch_op.drop_index("ix_pulse_response_team_id_week")
        batch_op.create_index(batch_op.f("ix_pulse_response_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pulse_response_week"), ["week"], unique=False)
    op.create_table(
        "pulse_answer",
        sa.Column("response_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("item_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.CheckConstraint("value BETWEEN 0 AND 10", name=op.f("ck_pulse_answer_value_range")),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["pulse_response.id"],
            name=op.f("fk_pulse_answer_response_id_pulse_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", "item_id", name=op.f("pk_pulse_answer")),
    )
    op.create_table(
        "pulse_score",
        sa.Column("response_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("construct_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["pulse_response.id"],
            name=op.f("fk_pulse_score_response_id_pulse_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", "construct_id", name=op.f("pk_pulse_score")),
    )
    with op.batch_alter_table("pulse_score", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pulse_score_construct_id"), ["construct_id"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        expand = "pulse_response r, json_each(r.{column}) j"
        value = "j.value"
    else:
        expand = "pulse_response r CROSS JOIN LATERAL jsonb_each(r.{column}) j"
        value = "(j.value)::{type}"
    op.execute(
        "INSERT INTO pulse_answer (response_id, item_id, value) "
        f"SELECT r.id, j.key, {value.format(type='integer')} FROM {expand.format(column='answers')}"
    )
    op.execute(
        "INSERT INTO pulse_score (response_id, construct_id, score) "
        f"SELECT r.id, j.key, {value.format(type='double precision')} "
        f"FROM {expand.format(column='scores')}"
    )
    # Natively, not by batch mode's copy of the table: on SQLite that copy drops pulse_response,
    # and with foreign keys on, the drop would cascade to the answers just restored.
    op.execute("ALTER TABLE pulse_response DROP COLUMN scores")
    op.execute("ALTER TABLE pulse_response DROP COLUMN answers")
