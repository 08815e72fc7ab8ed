"""``python -m app.serve``, how ``wellbeing demo`` starts the app: Streamlit's own command line
after the app's modules are imported (so the first visitor does not wait for those imports)."""

from __future__ import annotations

import subprocess
import sys

from app.settings import PROJECT_ROOT


def test_serve_hands_its_arguments_to_streamlits_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.serve", "--version"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Streamlit, version")


def test_serve_imports_the_app_before_streamlit_runs_it() -> None:
    probe = (
        "import sys, app.serve, streamlit.web.cli as cli; "
        "cli.main = lambda: print('app.main' in sys.modules) or 0; app.serve.main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip().endswith("True"), done.stderr


def test_the_command_line_does_not_warn_about_streamlit_caches() -> None:
    """Outside a server the cached readers' definitions are checked quietly: a command's error
    output is for its own problems (a reader of ``2>`` should not see five cache warnings)."""
    done = subprocess.run(
        [sys.executable, "-c", "from app.cli import cli"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "No runtime found" not in done.stderr
