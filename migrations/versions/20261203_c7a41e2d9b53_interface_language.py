"""interface language: a person's own choice and an organisation's default

``person.language`` is the language a person chose for the interface, ``unit.default_language``
(on an organisation's root unit) the one of everyone who chose none; both NULL mean English.
See models/language.py.

Revision ID: c7a41e2d9b53
Revises: 9561b0d2db89
Create Date: 2026-12-03 07:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel.sql.sqltypes.AutoString)
from alembic import op


revision: str = 'c7a41e2d9b53'
down_revision: str | None = '9561b0d2db89'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: no table copy, so person's counting triggers stay.
    op.add_column('person', sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
    op.add_column('unit', sa.Column('default_language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))


def downgrade() -> None:
    # DROP COLUMN in place (SQLite 3.35+), not a batch copy that would drop person's triggers.
    op.execute('ALTER TABLE unit DROP COLUMN default_language')
    op.execute('ALTER TABLE person DROP COLUMN language')
