"""The ``wellbeing`` command line. Commands live in one module per area and register on import.

A command imports only the modules that define it (``COMMAND_MODULES``), so ``wellbeing strain``
or ``wellbeing export aggregates`` does not first import the benchmark's browser and Streamlit
code or the driver analysis's statistics (about a second of a two-second start). ``wellbeing
--help``, an unknown command and ``from app.cli import cli`` (the tests) load every module.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from app.quiet_caches import cache_definitions_quiet

#: Each command's name and the modules of ``app.cli`` that register it (``export``'s subcommands
#: live in three). ``tests/test_cli_loading.py`` checks this against what the modules register.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "bench": ("bench",),
    "bench-remind": ("bench_remind",),
    "drivers": ("drivers",),
    "unlink-sign-in": ("identity",),
    "init-db": ("org",),
    "import-org": ("org",),
    "export-org": ("org",),
    "seed-demo": ("org",),
    "demo": ("org",),
    "export": ("drivers", "outcomes", "privacy"),
    "release": ("privacy",),
    "import-responses": ("pulse",),
    "pulse-reorder": ("pulse",),
    "seal": ("pulse",),
    "backup": ("pulse",),
    "remind": ("remind",),
    "strain": ("strain",),
    "strain-evaluate": ("strain_evaluate",),
    "demo-plan": ("strain_evaluate",),
}
ALL_MODULES: tuple[str, ...] = tuple(
    dict.fromkeys(module for modules in COMMAND_MODULES.values() for module in modules)
)


def load_commands(modules: Iterable[str] = ALL_MODULES) -> Any:
    """The ``cli`` group with the commands of ``modules`` registered (importing a module
    registers its commands; the pages' cached readers they import are defined quietly)."""
    with cache_definitions_quiet():  # the commands import pages' cached readers outside a server
        for module in modules:
            importlib.import_module(f"app.cli.{module}")
    from app.cli.common import cli

    return cli


def modules_for(arguments: Sequence[str]) -> tuple[str, ...]:
    """The modules a command line needs: its command's, or all of them (no command, ``--help``,
    or a name that is not a command, which the group then reports)."""
    command = next((argument for argument in arguments if not argument.startswith("-")), None)
    return COMMAND_MODULES.get(command or "", ALL_MODULES)


def __getattr__(name: str) -> Any:
    """``from app.cli import cli``: the group with every command registered."""
    if name == "cli":
        return load_commands()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    load_commands(modules_for(sys.argv[1:]))()
