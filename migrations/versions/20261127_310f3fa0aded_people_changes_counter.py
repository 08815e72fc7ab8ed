"""people_changes: a counter of changes to the people table, kept by triggers

Comment scrubbing caches everyone's names. To know the cache is current it read a fingerprint of
the whole people table (count, highest id, total length of names); now it reads this one row,
which triggers on ``person`` count up whenever someone is added, renamed or removed.

Revision ID: 310f3fa0aded
Revises: f9539fef1dee
Create Date: 2026-11-27 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "310f3fa0aded"
down_revision: str | None = "f9539fef1dee"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The triggers as this revision creates them (a frozen copy: models/org.py may change later).
TRIGGERS = {
    "sqlite": tuple(
        f"CREATE TRIGGER IF NOT EXISTS person_{action}_counted AFTER {action.upper()}{column} "
        "ON person BEGIN UPDATE people_changes SET changes = changes + 1 WHERE id = 1; END"
        for action, column in (("insert", ""), ("update", " OF display_name"), ("delete", ""))
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION count_people_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN UPDATE people_changes SET changes = changes + 1 WHERE id = 1; RETURN NULL; END $$",
        "DROP TRIGGER IF EXISTS person_changes_counted ON person",
        "CREATE TRIGGER person_changes_counted "
        "AFTER INSERT OR DELETE OR UPDATE OF display_name ON person "
        "FOR EACH STATEMENT EXECUTE FUNCTION count_people_change()",
    ),
}
DROP = {
    "sqlite": tuple(
        f"DROP TRIGGER IF EXISTS person_{action}_counted" for action in ("insert", "update", "delete")
    ),
    "postgresql": (
        "DROP TRIGGER IF EXISTS person_changes_counted ON person",
        "DROP FUNCTION IF EXISTS count_people_change()",
    ),
}


def upgrade() -> None:
    op.create_table(
        "people_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("changes", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_people_changes_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people_changes")),
    )
    op.execute("INSERT INTO people_changes (id, changes) VALUES (1, 0)")
    for statement in TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_table("people_changes")
