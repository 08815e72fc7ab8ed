"""Hostile and careless import files are refused whole, with short messages that say where, and
change nothing (both backends): ``import-org`` and ``import-responses``, service and CLI."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from models import csv_input
from models.db import read_session, write_session
from models.imports import ImportedFile
from models.org import Person, Unit
from models.org_csv import OrgImportError, import_org
from models.pulse import PulsePeriod, PulseResponse, TeamWeekResponses
from models.releases import PeriodRelease
from surveys.import_responses import ResponseImportError, import_responses

runner = CliRunner()
TODAY = date(2026, 12, 2)  # ISO week 2026-W49
ORG_HEADER = "type,code,name,parent,roles\n"
ORG_GOOD = ORG_HEADER + "unit,ORG,Council,,\nunit,T1,Repairs,ORG,\nperson,a@x.gov.uk,Ann,T1,staff\n"
WHO5 = "team,period,who5_1,who5_2,who5_3,who5_4,who5_5,comment"
RESPONSES = f"{WHO5}\nT1,2025-W40,5,5,5,5,5,fine\nT2,2025-W41,1,2,3,4,0,\n"


@pytest.fixture
def org(engine: Engine) -> Engine:
    """ORG > DIR > T1, T2 (teams), with one person."""
    with write_session(engine) as session:
        root = Unit(code="ORG", name="Org", kind="organisation")
        session.add(root)
        session.flush()
        directorate = Unit(code="DIR", name="Dir", kind="directorate", parent_id=root.id)
        session.add(directorate)
        session.flush()
        for code in ("T1", "T2"):
            session.add(Unit(code=code, name=code, kind="team", parent_id=directorate.id))
        session.add(Person(email="jo@council.test", display_name="Jo Bloggs"))
    return engine


def _counts(engine: Engine) -> tuple[int, ...]:
    with read_session(engine) as session:
        return tuple(
            session.exec(select(func.count()).select_from(table)).one()
            for table in (Unit, Person, PulseResponse, PulsePeriod, TeamWeekResponses, ImportedFile)
        )


def _org_refusal(engine: Engine, data: str | bytes) -> str:
    before = _counts(engine)
    with pytest.raises(OrgImportError) as raised:
        with write_session(engine) as session:
            import_org(session, data, actor="t")
    assert _counts(engine) == before
    message = str(raised.value)
    _assert_short(message)
    return message


def _responses_refusal(engine: Engine, data: str | bytes, **options: object) -> list[str]:
    before = _counts(engine)
    with pytest.raises(ResponseImportError) as raised:
        with write_session(engine) as session:
            import_responses(session, data, instrument="who5", today=TODAY, **options)  # type: ignore[arg-type]
    assert _counts(engine) == before
    _assert_short(str(raised.value))
    return raised.value.problems


def _assert_short(message: str) -> None:
    """A screenful at most: a heading, up to MAX_PROBLEMS_SHOWN lines and a count of the rest."""
    lines = message.splitlines()
    assert len(lines) <= csv_input.MAX_PROBLEMS_SHOWN + 3  # heading, "... and N more", a stop note
    assert max(len(line) for line in lines) < 400


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Rep\x00airs", "U+0000"),
        ("Rep\x1b[31mairs", "U+001B"),
        ("Repairs\u202egnp.exe", "U+202E"),
        ("Two\nlines", "line break"),
        ("x" * 100_000, "100,000 characters"),
    ],
)
def test_org_values_with_control_characters_or_too_long_are_refused(
    engine: Engine, cell: str, expected: str
) -> None:
    message = _org_refusal(engine, ORG_HEADER + f'unit,ORG,"{cell}",,\n')
    assert "line 2, column name" in message and expected in message
    assert "x" * 100 not in message  # the value is never echoed in full


def test_org_header_with_a_repeated_or_unknown_column_is_refused(engine: Engine) -> None:
    message = _org_refusal(engine, "type,code,name,name,parent,roles\nunit,ORG,A,B,,\n")
    assert "line 1" in message and "'name' appears twice (columns 3 and 4)" in message
    message = _org_refusal(engine, "type,code,name,parent,roles,salary\nunit,ORG,A,,,1\n")
    assert "unknown column(s) salary" in message


def test_org_file_in_latin_1_is_refused_by_line(engine: Engine) -> None:
    data = ORG_GOOD.replace("Ann", "Ren\u00e9e").encode("latin-1")
    message = _org_refusal(engine, data)
    assert "line 4: character 22 (byte 0xE9) is not UTF-8" in message
    assert "position" not in message and "CSV UTF-8" in message


def test_utf16_file_is_refused_with_what_to_do(engine: Engine) -> None:
    assert "UTF-16" in _org_refusal(engine, ORG_GOOD.encode("utf-16"))


def test_rows_with_too_many_values_are_refused(engine: Engine) -> None:
    message = _org_refusal(engine, ORG_GOOD + "unit,T2,Two,ORG,,extra\n")
    assert "line 5: has 6 values; the header has 5 columns" in message


def test_many_problems_are_all_counted_but_the_message_stays_short(engine: Engine) -> None:
    rows = "".join(f"unit,bad code {i},x,,\n" for i in range(500))
    message = _org_refusal(engine, ORG_HEADER + rows)
    assert "500 problems found" in message and "... and 450 more problems" in message


def test_files_over_the_size_limit_are_refused_before_reading(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_input, "MAX_FILE_BYTES", 1_000)
    big = tmp_path / "big.csv"
    big.write_text(ORG_HEADER + "unit,ORG,Council,,\n" * 100)
    before = _counts(engine)
    for command in (["import-org", str(big)], ["import-responses", str(big), "--instrument", "who5"]):
        result = runner.invoke(cli, [*command, "--database-url", db_url])
        assert result.exit_code == 1
        assert "the most that can be imported is" in result.output
    assert _counts(engine) == before


def test_a_file_imported_twice_is_refused_unless_allowed(
    org: Engine, db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "old.csv"
    path.write_text(RESPONSES)
    command = ["import-responses", str(path), "--instrument", "who5", "--database-url", db_url]
    assert runner.invoke(cli, command).exit_code == 0
    before = _counts(org)
    path.write_bytes(RESPONSES.replace("\n", "\r\n").encode())  # the same content saved on Windows
    again = runner.invoke(cli, command)
    assert again.exit_code == 1 and "already imported" in again.output
    assert "--allow-repeat" in again.output
    assert _counts(org) == before
    assert runner.invoke(cli, [*command, "--allow-repeat"]).exit_code == 0
    with read_session(org) as session:
        assert session.exec(select(func.count()).select_from(PulseResponse)).one() == 4


@pytest.mark.parametrize(
    "week", ["2026-W50", "2027-W49", "9999-W52", "1999-W52", "2026-W53", "0000-W01"]
)
def test_weeks_outside_the_past_are_refused_with_their_line(org: Engine, week: str) -> None:
    problems = _responses_refusal(org, f"{WHO5}\nT1,2025-W40,5,5,5,5,5,\nT1,{week},5,5,5,5,5,\n")
    assert len(problems) == 1 and problems[0].startswith("line 3, column period: ")
    assert "out of range" not in problems[0]


def test_the_current_week_is_accepted(org: Engine) -> None:
    with write_session(org) as session:
        summary = import_responses(
            session, f"{WHO5}\nT1,2026-W49,5,5,5,5,5,\n", instrument="who5", today=TODAY
        )
    assert summary.weeks == ("2026-W49",)


@pytest.mark.parametrize(("code", "kind"), [("DIR", "directorate"), ("ORG", "organisation")])
def test_answers_only_for_teams(org: Engine, code: str, kind: str) -> None:
    problems = _responses_refusal(org, f"{WHO5}\n{code},2025-W40,5,5,5,5,5,\n")
    assert problems == [
        f"line 2, column team: '{code}' is a{'n' if kind[0] == 'o' else ''} {kind}, "
        "not a team; answers belong to teams"
    ]


def test_duplicate_answer_columns_are_refused(org: Engine) -> None:
    header = "team,period,who5_1,who5_2,who5_3,who5_4,who5_5,who5_5"
    problems = _responses_refusal(org, f"{header}\nT1,2025-W40,5,5,5,5,5,0\n")
    assert problems == ["line 1: column 'who5_5' appears twice (columns 7 and 8)"]


def test_weeks_of_a_released_period_are_refused_naming_it(org: Engine) -> None:
    with write_session(org) as session:
        root = session.exec(select(Unit).where(Unit.code == "ORG")).one()
        session.add(
            PeriodRelease(
                organisation_id=root.id,
                period="2025-10",
                kind="month",
                first_week="2025-W40",
                last_week="2025-W44",
                released_on=date(2025, 11, 20),
            )
        )
    problems = _responses_refusal(org, RESPONSES)
    assert problems[0].startswith("line 2, column period: 2025-W40 belongs to 2025-10")
    assert problems[1].startswith("line 3, column period: 2025-W41 belongs to 2025-10")


def test_control_characters_in_responses_are_refused(org: Engine) -> None:
    problems = _responses_refusal(org, f'{WHO5}\nT1,2025-W40,5,5,5,5,5,"bad\x00"\n')
    assert problems[0].startswith("line 2, column comment: has an invisible control character U+0000")


def test_a_comment_may_span_lines(org: Engine) -> None:
    with write_session(org) as session:
        import_responses(session, f'{WHO5}\nT1,2025-W40,5,5,5,5,5,"one\ntwo"\n', instrument="who5")
    with read_session(org) as session:
        assert session.exec(select(PulseResponse.comment)).one() == "one\ntwo"


def _session_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(PulseResponse)).one()


def test_a_header_of_a_million_columns_is_one_problem(engine: Engine) -> None:
    message = _org_refusal(engine, "," * 1_000_000 + "\n")
    assert "line 1: the header has 1,000,001 columns; at most 200 are expected" in message


def test_checking_stops_after_enough_problems(engine: Engine, org: Engine) -> None:
    rows = "unit,ORG,\x00,,\n" * 20_000
    message = _org_refusal(engine, ORG_HEADER + rows)
    assert "checking stopped here after 10,000 problems" in message
    assert message.count("checking stopped") == 1
    problems = _responses_refusal(org, f"{WHO5}\n" + "T9,2025-W40,5,5,5,5,5,\n" * 20_000)
    assert len(problems) == 10_001 and "checking stopped" in problems[-1]


def test_a_binary_file_is_refused_by_line(engine: Engine) -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    message = _org_refusal(engine, data)
    assert "is not UTF-8 text" in message and "line 1:" in message


@pytest.mark.parametrize("answer", ["1_0", "5.0", "+5", "\u0665", " 5x", "99999999999"])
def test_answers_are_plain_whole_numbers(org: Engine, answer: str) -> None:
    problems = _responses_refusal(org, f'{WHO5}\nT1,2025-W40,"{answer}",5,5,5,5,\n')
    assert len(problems) == 1 and problems[0].startswith("line 2: who5_1: ")


def test_a_file_with_too_many_rows_is_refused(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_input, "MAX_ROWS", 3)
    rows = "".join(f"unit,U{i},Unit {i},,\n" for i in range(5))
    assert "line 5: the file has more than 3 rows; split it" in _org_refusal(engine, ORG_HEADER + rows)


def test_an_endless_file_is_read_only_up_to_the_limit(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_input, "MAX_FILE_BYTES", 1_000)
    result = runner.invoke(cli, ["import-org", "/dev/zero", "--database-url", db_url])
    assert result.exit_code == 1 and "/dev/zero: the file is too big" in result.output


def test_a_latin_1_file_still_has_its_other_problems_listed(engine: Engine) -> None:
    data = (ORG_GOOD.replace("Ann", "Ren\u00e9e") + "unit,T2,Two\x00,ORG,\n").encode("latin-1")
    message = _org_refusal(engine, data)
    assert "line 4: character 22 (byte 0xE9) is not UTF-8" in message
    assert "line 5, column name: has an invisible control character U+0000" in message
