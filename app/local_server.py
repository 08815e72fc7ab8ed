"""The app's Streamlit server as a child process on this machine: started headless on a local port,
waited for until it answers its health check, and stopped when the block ends.

The benchmarks (``app.bench_sign_in``, ``app.bench_phone``) and the browser tests
(``tests/e2e/helpers.py``) all start the server so; this is the one place that does it (tests may
import app code, app code never imports tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.settings import PROJECT_ROOT

HEALTH_TIMEOUT_SECONDS = 60.0
HEALTH_POLL_SECONDS = 0.1
STOP_TIMEOUT_SECONDS = 10


class ServerStartError(RuntimeError):
    """The server exited before it answered, or never answered (the message names its log)."""


def free_port() -> int:
    """A port nothing listens on now, so parallel servers do not collide."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(
    env: Mapping[str, str],
    log_path: Path,
    *,
    port: int | None = None,
    module: str = "streamlit",
    script: str = "app/main.py",
) -> Iterator[str]:
    """``python -m <module> run <script>`` with ``env`` over this process's environment, on ``port``
    (a free one unless given), its output in ``log_path``; yields its URL once it is healthy and
    stops it when the block ends. Raises ``ServerStartError`` if it dies or never becomes healthy."""
    port = port or free_port()
    argv = [
        sys.executable,
        "-m",
        module,
        "run",
        script,
        "--server.headless=true",
        f"--server.port={port}",
        "--server.address=localhost",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            argv, cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://localhost:{port}"
    try:
        _wait_until_healthy(process, url, log_path)
        yield url
    finally:
        _stop(process)


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    """Poll Streamlit's health endpoint until it says "ok" (a start takes seconds, more under load)."""
    deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None:
            raise ServerStartError(f"the server exited early; see {log_path}")
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).text == "ok":
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise ServerStartError(f"the server never became healthy; see {log_path}")
        time.sleep(HEALTH_POLL_SECONDS)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate, and kill what does not stop in time, so no server outlives its block."""
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT_SECONDS)
