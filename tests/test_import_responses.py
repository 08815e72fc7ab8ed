"""Importing historical responses: scored like submissions, no receipts, all-or-nothing with every
bad row listed by line number (service and ``wellbeing import-responses``; both backends)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from models.db import read_session, write_session
from models.org import Person, Unit
from models.pulse import (
    ParticipationReceipt,
    PulseResponse,
    TeamWeekResponses,
    TeamWeekScore,
)
from surveys.import_responses import ResponseImportError, import_responses

runner = CliRunner()
WHO5_HEADER = "team,period,who5_1,who5_2,who5_3,who5_4,who5_5,days_home,days_office,days_site,comment"
GOOD = f"""{WHO5_HEADER}
T1,2025-W40,5,5,5,5,5,3,2,0,All good
T1,2025-W40,1,2,3,4,0,,,,
T2,2025-W41,3,3,3,3,3,0,0,5,"Ask Jo Bloggs, jo@council.test"
"""
MALFORMED = f"""{WHO5_HEADER}
T1,2025-W40,5,5,5,5,5,3,2,0,fine
T9,2025-W40,5,5,5,5,5,,,,
T1,2025-40,5,5,5,5,5,,,,
T1,2025-W40,6,5,5,x,,,,,
T1,2025-W40,1,1,1,1,1,4,4,0,
"""


@pytest.fixture
def teams(engine: Engine) -> Engine:
    with write_session(engine) as session:
        org = Unit(code="ORG", name="Org", kind="organisation")
        session.add(org)
        session.flush()
        for code in ("T1", "T2"):
            session.add(Unit(code=code, name=code, kind="team", parent_id=org.id))
        session.add(Person(email="jo@council.test", display_name="Jo Bloggs"))
    return engine


def _response_count(engine: Engine) -> int:
    with read_session(engine) as session:
        return session.exec(select(func.count()).select_from(PulseResponse)).one()


def test_import_scores_rows_and_writes_no_receipts(teams: Engine) -> None:
    with write_session(teams) as session:
        summary = import_responses(session, GOOD, instrument="who5")
    assert (summary.responses, summary.teams, summary.weeks) == (3, 2, ("2025-W40", "2025-W41"))
    assert summary.comments_scrubbed == 1
    with read_session(teams) as session:
        scores = sorted(_stored_scores(session))
        assert scores == [40.0, 60.0, 100.0]  # (1+2+3+4+0)x4, 15x4, 25x4
        assert session.exec(select(func.count()).select_from(ParticipationReceipt)).one() == 0
        versions = set(session.exec(select(PulseResponse.instrument_version)).all())
        assert versions == {"who5:1"}
        comments = set(session.exec(select(PulseResponse.comment)).all())
        assert comments == {"All good", None, "Ask [name removed], [email removed]"}
        t1 = session.exec(select(Unit.id).where(Unit.code == "T1")).one()
        weekly = session.get(TeamWeekResponses, (t1, "2025-W40"))
        assert weekly is not None and (weekly.n, weekly.comments) == (2, 1)
        home = session.get(TeamWeekScore, (t1, "2025-W40", "wellbeing", "home"))
        assert home is not None and (home.n, home.total) == (1, 100.0)


def test_malformed_rows_are_all_listed_and_nothing_is_stored(teams: Engine) -> None:
    with pytest.raises(ResponseImportError) as caught:
        with write_session(teams) as session:
            import_responses(session, MALFORMED, instrument="who5")
    problems = caught.value.problems
    assert "line 3: unknown team 'T9'" in problems
    assert any(p.startswith("line 4, column period") and "ISO week" in p for p in problems)
    assert "line 5: who5_1: 6 is outside 0-5" in problems
    assert "line 5: who5_4: 'x' is not a whole number" in problems
    assert "line 5: who5_5: no answer given" in problems
    assert "line 6: days at home, at an office and on site add up to more than 7" in problems
    assert not any(p.startswith("line 2") for p in problems)  # the good row is not blamed
    assert _response_count(teams) == 0


def test_header_must_name_the_instrument_items(teams: Engine) -> None:
    with pytest.raises(ResponseImportError) as caught:
        with write_session(teams) as session:
            import_responses(session, "team,period,q1\nT1,2025-W40,3\n", instrument="who5")
    assert "line 1: missing column(s) who5_1, who5_2, who5_3, who5_4, who5_5" in caught.value.problems
    assert any("unknown column(s) q1" in p for p in caught.value.problems)


def test_scoring_only_instrument_can_be_imported(teams: Engine) -> None:
    header = "team,period," + ",".join(f"swemwbs_{n}" for n in range(1, 8))
    with write_session(teams) as session:
        import_responses(session, f"{header}\nT1,2025-W40,3,3,3,3,3,3,3\n", instrument="swemwbs")
    with read_session(teams) as session:
        assert _stored_scores(session) == [19.25]  # raw 7 x 3 = 21 -> metric 19.25


def test_cli_imports_a_good_file(teams: Engine, db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text(GOOD)
    result = runner.invoke(
        cli, ["import-responses", str(path), "--instrument", "who5", "--database-url", db_url]
    )
    assert result.exit_code == 0, result.output
    assert "3 responses for 2 team(s), 2025-W40 to 2025-W41" in result.output
    assert _response_count(teams) == 3


def test_cli_refuses_a_malformed_file_with_line_numbers(
    teams: Engine, db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(MALFORMED)
    result = runner.invoke(
        cli, ["import-responses", str(path), "--instrument", "who5", "--database-url", db_url]
    )
    assert result.exit_code == 1
    assert "nothing imported" in result.output
    for line in (3, 4, 5, 6):
        assert f"line {line}" in result.output
    assert _response_count(teams) == 0
    unknown = runner.invoke(
        cli, ["import-responses", str(path), "--instrument", "nope", "--database-url", db_url]
    )
    assert unknown.exit_code == 1 and "unknown instrument 'nope'" in unknown.output


def test_cli_pulse_reorder_keeps_every_response(teams: Engine, db_url: str) -> None:
    with write_session(teams) as session:
        import_responses(session, GOOD, instrument="who5")
    result = runner.invoke(cli, ["pulse-reorder", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert _response_count(teams) == 3
    with read_session(teams) as session:
        assert sorted(_stored_scores(session)) == [40.0, 60.0, 100.0]


def _stored_scores(session: Session) -> list[float]:
    """Every construct score stored, over all responses."""
    return [score for scores in session.exec(select(PulseResponse.scores)) for score in scores.values()]
