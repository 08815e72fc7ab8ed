"""The command line loads only the modules a command needs (``app.cli.COMMAND_MODULES``): the map
must name, for every command, modules that really register it, and a command must not pay for
the benchmark's imports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer

from app.cli import ALL_MODULES, COMMAND_MODULES, modules_for
from app.settings import PROJECT_ROOT

REGISTERED = """
import json, sys, typer
from app.cli import load_commands
group = typer.main.get_command(load_commands(sys.argv[1].split(",")))
export = group.commands.get("export")
print(json.dumps({
    "commands": sorted(group.commands),
    "export": sorted(export.commands) if export is not None else [],
    "loaded": sorted(m for m in sys.modules if m.startswith(("app.", "streamlit", "playwright"))),
}))
"""


def _load_in_a_fresh_process(modules: tuple[str, ...]) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", REGISTERED, ",".join(modules)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_registered_command_is_in_the_map() -> None:
    from app.cli import cli

    group = typer.main.get_command(cli)
    assert set(group.commands) == set(COMMAND_MODULES)


@pytest.mark.parametrize("modules", sorted(set(COMMAND_MODULES.values())))
def test_a_commands_own_modules_register_it_alone(modules: tuple[str, ...]) -> None:
    loaded = _load_in_a_fresh_process(modules)
    commands = [name for name, needed in COMMAND_MODULES.items() if needed == modules]
    assert set(commands) <= set(loaded["commands"])
    if "export" in commands:
        from app.cli import cli

        every_export = typer.main.get_command(cli).commands["export"].commands  # type: ignore[attr-defined]
        assert set(loaded["export"]) == set(every_export)


def test_strain_does_not_import_the_benchmark_or_the_browser() -> None:
    loaded = _load_in_a_fresh_process(modules_for(["strain", "--format", "json"]))
    assert "strain" in loaded["commands"]
    benchmark = {
        "app.bench",
        "app.bench_org",
        "app.bench_build",
        "app.bench_submit",
        "app.bench_sign_in",
        "app.bench_phone",
    }
    assert not benchmark & set(loaded["loaded"])
    assert not any(name.startswith("playwright") for name in loaded["loaded"])


@pytest.mark.parametrize(
    ("arguments", "modules"),
    [
        (["--debug", "strain", "--format", "json"], ("strain",)),
        (["export", "aggregates"], ("drivers", "outcomes", "privacy")),
        ([], ALL_MODULES),
        (["--help"], ALL_MODULES),
        (["no-such-command"], ALL_MODULES),
    ],
)
def test_the_command_line_picks_its_modules(arguments: list[str], modules: tuple[str, ...]) -> None:
    assert modules_for(arguments) == modules
