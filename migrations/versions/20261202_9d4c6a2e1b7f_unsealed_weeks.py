"""weeks whose pulse storage is not sealed yet

``unsealed_week`` lists the weeks with pulse rows written since their storage was last sealed
(``models.at_rest``: rewritten in random order, so no row order, rowid or transaction id links a
response to its receipts). A submission marks its week in its own transaction; the seal clears
it. Existing rows were written before sealing existed, so every week that has responses or
receipts is marked: the first seal rewrites them all.

Revision ID: 9d4c6a2e1b7f
Revises: 5b8e3d1f7a2c
Create Date: 2026-12-02 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (AutoString, as autogenerate renders it)
from alembic import op

revision: str = "9d4c6a2e1b7f"
down_revision: str | None = "5b8e3d1f7a2c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unsealed_week",
        sa.Column("week", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.PrimaryKeyConstraint("week", name=op.f("pk_unsealed_week")),
    )
    op.execute(
        "INSERT INTO unsealed_week (week) SELECT DISTINCT week FROM pulse_response "
        "UNION SELECT period FROM participation_receipt WHERE period LIKE '____-W__'"
    )


def downgrade() -> None:
    op.drop_table("unsealed_week")
