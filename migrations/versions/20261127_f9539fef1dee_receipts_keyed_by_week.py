"""participation receipts keyed by week, then receipt

The receipt is an HMAC, so keyed by it alone every new receipt went to a random page of an index
that grows by a million receipts a year. Keyed by (week, receipt), a week's receipts sit together
and the current week's pages stay in memory. Nothing else changes: the HMAC covers the week, so
it was and stays unique on its own.

On SQLite the table is rebuilt (SQLite cannot change a primary key in place), keeping each row's
random rowid, so storage order still says nothing about who answered when.

Revision ID: f9539fef1dee
Revises: 3c8e2a41f5d7
Create Date: 2026-11-27 05:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f9539fef1dee"
down_revision: str | None = "3c8e2a41f5d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rekey(*key: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE participation_receipt DROP CONSTRAINT pk_participation_receipt")
        op.execute(
            "ALTER TABLE participation_receipt "
            f"ADD CONSTRAINT pk_participation_receipt PRIMARY KEY ({', '.join(key)})"
        )
        return
    op.execute(
        "CREATE TABLE participation_receipt_rekeyed ("
        "week VARCHAR(8) NOT NULL, receipt VARCHAR(64) NOT NULL, "
        f"CONSTRAINT pk_participation_receipt PRIMARY KEY ({', '.join(key)}), "
        "CONSTRAINT fk_participation_receipt_week_pulse_period "
        "FOREIGN KEY(week) REFERENCES pulse_period (week))"
    )
    op.execute(
        "INSERT INTO participation_receipt_rekeyed (rowid, week, receipt) "
        "SELECT rowid, week, receipt FROM participation_receipt"
    )
    op.execute("DROP TABLE participation_receipt")
    op.execute("ALTER TABLE participation_receipt_rekeyed RENAME TO participation_receipt")


def upgrade() -> None:
    _rekey("week", "receipt")


def downgrade() -> None:
    _rekey("receipt")
