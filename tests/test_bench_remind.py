"""``wellbeing bench-remind`` at a small size: it starts its own SMTP server process, sends the
whole batch and reports its figures (no timing assertions)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from app.cli import cli


def test_bench_remind_sends_the_whole_batch_and_reports_figures() -> None:
    result = CliRunner().invoke(cli, ["bench-remind", "--people", "45"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output[result.output.index("{") :])
    assert figures["people"] == figures["messages_sent"] == 45
    assert figures["batch_seconds"] > 0 and figures["peak_rss_mib"] > 0
