"""The ``wellbeing`` command line. Commands live in one module per area and register on import."""

from __future__ import annotations

from app.quiet_caches import cache_definitions_quiet

with cache_definitions_quiet():  # the commands import pages' cached readers outside a server
    from app.cli import (  # noqa: F401  (register commands)
        bench,
        bench_remind,
        drivers,
        identity,
        org,
        outcomes,
        privacy,
        pulse,
        remind,
        strain,
    )
from app.cli.common import cli


def main() -> None:
    cli()
