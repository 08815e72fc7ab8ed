"""imported files: the content hash of every imported responses file, so a repeat is refused

Revision ID: 62627fac7da9
Revises: 9d4c6a2e1b7f
Create Date: 2026-12-02 15:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op


revision: str = '62627fac7da9'
down_revision: str | None = "9d4c6a2e1b7f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('imported_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('content_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('imported_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imported_file')),
    sa.UniqueConstraint('kind', 'content_sha256', name=op.f('uq_imported_file_kind_content_sha256'))
    )


def downgrade() -> None:
    op.drop_table('imported_file')
