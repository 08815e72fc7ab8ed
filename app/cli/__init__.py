"""The ``wellbeing`` command line. Commands live in one module per area and register on import."""

from __future__ import annotations

from app.cli import bench, bench_remind, org, outcomes, privacy, pulse, remind, strain  # noqa: F401
from app.cli.common import cli


def main() -> None:
    cli()
