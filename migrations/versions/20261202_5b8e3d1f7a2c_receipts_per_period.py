"""participation receipts per period kind, with the team answered under

A receipt is now HMAC(key, "person:period") for a week, month, quarter or year, so ``week`` becomes
``period`` (a label of any kind: no longer a foreign key to ``pulse_period``, which holds weeks
only), and ``team_id`` records the team of the person's first answer in the period (no foreign
key, like the maintained aggregates: the responses written with it hold one). Every stored
receipt is kept; they are all week receipts, and their team stays NULL: nothing stored says which
team an old receipt was written for, and nothing may be derived (that would link it to answers).

On SQLite the table is rebuilt ``WITHOUT ROWID``: its one B-tree is (period, receipt), so no rowid
records the order receipts were written in; rows are copied in key order (random HMAC order).

A downgrade keeps every week receipt (without its team) and drops the month, quarter and year
receipts: the older schema has no place for them.

Revision ID: 5b8e3d1f7a2c
Revises: 2ec14827ceeb
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5b8e3d1f7a2c"
down_revision: str | None = "2ec14827ceeb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WEEK_LABEL = "period LIKE '____-W__'"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE participation_receipt "
            "DROP CONSTRAINT fk_participation_receipt_week_pulse_period"
        )
        op.execute("ALTER TABLE participation_receipt RENAME COLUMN week TO period")
        op.execute("ALTER TABLE participation_receipt ADD COLUMN team_id INTEGER")
        return
    op.execute(
        "CREATE TABLE participation_receipt_per_period ("
        "period VARCHAR(8) NOT NULL, receipt VARCHAR(64) NOT NULL, team_id INTEGER, "
        "CONSTRAINT pk_participation_receipt PRIMARY KEY (period, receipt)) WITHOUT ROWID"
    )
    op.execute(
        "INSERT INTO participation_receipt_per_period (period, receipt, team_id) "
        "SELECT week, receipt, NULL FROM participation_receipt ORDER BY week, receipt"
    )
    op.execute("DROP TABLE participation_receipt")
    op.execute("ALTER TABLE participation_receipt_per_period RENAME TO participation_receipt")


def downgrade() -> None:
    op.execute(f"DELETE FROM participation_receipt WHERE NOT ({_WEEK_LABEL})")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE participation_receipt DROP COLUMN team_id")
        op.execute("ALTER TABLE participation_receipt RENAME COLUMN period TO week")
        op.execute(
            "ALTER TABLE participation_receipt ADD CONSTRAINT "
            "fk_participation_receipt_week_pulse_period "
            "FOREIGN KEY (week) REFERENCES pulse_period (week)"
        )
        return
    op.execute(
        "CREATE TABLE participation_receipt_by_week ("
        "week VARCHAR(8) NOT NULL, receipt VARCHAR(64) NOT NULL, "
        "CONSTRAINT pk_participation_receipt PRIMARY KEY (week, receipt), "
        "CONSTRAINT fk_participation_receipt_week_pulse_period "
        "FOREIGN KEY(week) REFERENCES pulse_period (week))"
    )
    op.execute(
        "INSERT INTO participation_receipt_by_week (week, receipt) "
        "SELECT period, receipt FROM participation_receipt ORDER BY period, receipt"
    )
    op.execute("DROP TABLE participation_receipt")
    op.execute("ALTER TABLE participation_receipt_by_week RENAME TO participation_receipt")
