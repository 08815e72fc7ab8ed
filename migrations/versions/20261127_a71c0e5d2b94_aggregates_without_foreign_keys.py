"""the maintained weekly aggregates without foreign keys

``team_week_score`` and ``team_week_responses`` are sums of ``pulse_response`` rows, written in the
same transaction as those rows, whose own foreign keys already say that the team and the week
exist (and keep a team with responses from being deleted). On the aggregates the same checks ran
once more per new row: the first batch of a new week adds one sums row per team, construct and
work pattern (at 1,000 teams, 2,400 checks for a batch of 200, each a trigger on PostgreSQL). On
the benchmark's 96-team build a batch of 200 new-week submissions took 23-25 ms with them and
15-17 ms without. Updates of existing rows never ran them, so only the first submissions of each
week gain.

On SQLite the tables are rebuilt (SQLite cannot drop a constraint in place), rows unchanged.

Revision ID: a71c0e5d2b94
Revises: 310f3fa0aded
Create Date: 2026-11-27 11:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a71c0e5d2b94"
down_revision: str | None = "310f3fa0aded"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Per table: its columns (name, SQLite type; all NOT NULL) and its primary key.
TABLES = {
    "team_week_score": (
        (
            ("team_id", "INTEGER"),
            ("week", "VARCHAR(8)"),
            ("construct_id", "VARCHAR(40)"),
            ("work_pattern", "VARCHAR(10)"),
            ("n", "INTEGER"),
            ("total", "FLOAT"),
            ("total_sq", "FLOAT"),
        ),
        "team_id, week, construct_id, work_pattern",
    ),
    "team_week_responses": (
        (("team_id", "INTEGER"), ("week", "VARCHAR(8)"), ("n", "INTEGER"), ("comments", "INTEGER")),
        "team_id, week",
    ),
}


def _foreign_keys(table: str) -> dict[str, str]:
    return {
        f"fk_{table}_team_id_unit": "FOREIGN KEY (team_id) REFERENCES unit (id) ON DELETE RESTRICT",
        f"fk_{table}_week_pulse_period": "FOREIGN KEY (week) REFERENCES pulse_period (week)",
    }


def _set_foreign_keys(*, present: bool) -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, (columns, key) in TABLES.items():
        foreign_keys = _foreign_keys(table)
        if postgresql:
            for name, definition in foreign_keys.items():
                if present:
                    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
                else:
                    op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            continue
        constraints = [
            f"CONSTRAINT pk_{table} PRIMARY KEY ({key})",
            f"CONSTRAINT ck_{table}_n_nonnegative CHECK (n >= 0)",
            *(f"CONSTRAINT {name} {definition}" for name, definition in foreign_keys.items() if present),
        ]
        names = ", ".join(name for name, _ in columns)
        definitions = ", ".join(f"{name} {sql_type} NOT NULL" for name, sql_type in columns)
        op.execute(f"CREATE TABLE {table}_rebuilt ({definitions}, {', '.join(constraints)})")
        op.execute(f"INSERT INTO {table}_rebuilt ({names}) SELECT {names} FROM {table}")
        op.execute(f"DROP TABLE {table}")
        op.execute(f"ALTER TABLE {table}_rebuilt RENAME TO {table}")


def upgrade() -> None:
    _set_foreign_keys(present=False)


def downgrade() -> None:
    _set_foreign_keys(present=True)
