"""The ``wellbeing`` command line. Commands live in one module per area and register on import."""

from __future__ import annotations

from app.cli import bench, identity, org, outcomes, privacy, pulse, strain  # noqa: F401  (register commands)
from app.cli.common import cli


def main() -> None:
    cli()
