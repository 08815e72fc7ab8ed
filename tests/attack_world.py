"""The attacker's world: an organisation and answers the test knows, and every CLI export of it.

Answers go in through ``surveys.submit.submit_pulse_in`` (the production write path) and are
remembered with who wrote them (``privacy_attack.Response``); the gate never learns that. Figures
come out only through ``wellbeing release`` and ``wellbeing export aggregates``, run in-process with
Typer's CliRunner (a subprocess per export would cost seconds each).
"""

from __future__ import annotations

import csv
import gc
import io
import json
import random
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privacy_attack import Cell, Response, Tree, cells_from_records
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings
from models.db import make_engine
from models.org import Person, Unit
from surveys.composition import DEFAULT_COMPOSITION_ID, get_composition
from surveys.submit import submit_pulse_in

LEVELS = ("team", "unit", "organisation")
PERIOD_KINDS = ("week", "month", "quarter", "year")
FORMATS = ("json", "csv")
NEEDS_RELEASE = "the release calendar (wellbeing release, export --period) is not on this branch yet"


def release_calendar_available() -> bool:
    """Whether the CLI has the lead's interface (``wellbeing release``, ``--period``)."""
    return run_cli("release", "--help").code == 0


@dataclass
class World:
    """One organisation in one database: its units by code, people, and every response written."""

    url: str
    engine: Engine
    parents: dict[str, str | None] = field(default_factory=dict)
    unit_ids: dict[str, int] = field(default_factory=dict)
    person_ids: dict[str, int] = field(default_factory=dict)
    team_of: dict[str, str] = field(default_factory=dict)
    responses: list[Response] = field(default_factory=list)

    @property
    def tree(self) -> Tree:
        return Tree(self.parents)

    def add_unit(self, code: str, kind: str, parent: str | None) -> None:
        with Session(self.engine) as session:
            unit = Unit(
                code=code,
                name=code.replace("-", " ").title(),
                kind=kind,
                parent_id=self.unit_ids[parent] if parent else None,
            )
            session.add(unit)
            session.commit()
            assert unit.id is not None
            self.unit_ids[code] = unit.id
        self.parents[code] = parent

    def add_people(self, team: str, count: int) -> list[str]:
        labels = [f"{team}.p{i}" for i in range(count)]
        with Session(self.engine) as session:
            people = [
                Person(
                    email=f"{label}@example.org",
                    display_name=f"Person {label}",
                    team_id=self.unit_ids[team],
                )
                for label in labels
            ]
            session.add_all(people)
            session.commit()
            for label, person in zip(labels, people, strict=True):
                assert person.id is not None
                self.person_ids[label] = person.id
                self.team_of[label] = team
        return labels

    def move(self, person: str, team: str) -> None:
        """Move someone to another team (their later answers are filed there)."""
        with Session(self.engine) as session:
            row = session.get(Person, self.person_ids[person])
            assert row is not None
            row.team_id = self.unit_ids[team]
            session.add(row)
            session.commit()
        self.team_of[person] = team

    def answer_week(
        self,
        week: str,
        people: Sequence[str],
        rng: random.Random,
        composition_id: str = DEFAULT_COMPOSITION_ID,
    ) -> None:
        """Everyone in ``people`` answers ``week`` from their current team (one transaction), on
        the given composition (another one scores other constructs: cells differ by construct)."""
        key = participation_key()
        composition = get_composition(composition_id)
        with Session(self.engine) as session:
            for person in people:
                answers = {
                    item.id: rng.randint(item.scale.min, item.scale.max) for _, item in composition.items
                }
                result = submit_pulse_in(
                    session,
                    person_id=self.person_ids[person],
                    team_id=self.unit_ids[self.team_of[person]],
                    week=week,
                    answers=answers,
                    participation_key=key,
                    composition=composition,
                    known_names=(),
                )
                self.responses.append(Response(person, self.team_of[person], week, dict(result.scores)))
            session.commit()


def participation_key() -> bytes:
    """The key the CLI uses (the deployment's setting), so its receipts and ours agree."""
    return get_settings().participation_key.get_secret_value().encode()


@contextmanager
def fresh_world(backend: str, tmp_dir: Path, postgres_url: str | None = None) -> Iterator[World]:
    """An empty schema in a database of its own (a new SQLite file, or a new PostgreSQL database:
    no process-wide cache keyed by URL can carry figures over from another world)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_dir / f'attack-{uuid.uuid4().hex[:8]}.db'}"
        admin = None
    else:
        assert postgres_url is not None
        name = f"attack_{uuid.uuid4().hex[:10]}"
        admin = make_engine(postgres_url)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    try:
        yield World(url=url, engine=engine)
    finally:
        engine.dispose()
        gc.collect()  # engines the CLI opened in-process: close their pooled connections
        if admin is not None:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def said(self) -> str:
        return f"{self.stdout}\n{self.stderr}"


def run_cli(*args: str) -> Outcome:
    result = CliRunner().invoke(cli, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)


def release(world: World, as_of: str) -> Outcome:
    return run_cli("release", "--as-of", as_of, "--database-url", world.url)


def export(world: World, *args: str, output: Path | None = None) -> Outcome:
    extra = ["--output", str(output)] if output is not None else []
    return run_cli("export", "aggregates", *args, *extra, "--database-url", world.url)


@dataclass(frozen=True)
class ExportSet:
    """Every export (level x period kind x format) as files, their records, and the cells released."""

    files: dict[str, bytes]
    records: dict[str, list[dict[str, Any]]]

    def cells(self) -> list[Cell]:
        found: list[Cell] = []
        for name, records in self.records.items():
            found.extend(cells_from_records(records, name))
        return found


def every_export(
    world: World,
    folder: Path,
    formats: Sequence[str] = FORMATS,
    levels: Sequence[str] = LEVELS,
) -> ExportSet:
    """Run every export the CLI offers for a world (or those of some levels) into ``folder``;
    each must succeed."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    records: dict[str, list[dict[str, Any]]] = {}
    for level in levels:
        for kind in PERIOD_KINDS:
            for fmt in formats:
                name = f"{level}-{kind}.{fmt}"
                target = folder / name
                done = export(world, "--level", level, "--period", kind, "--format", fmt, output=target)
                assert done.code == 0, f"export {name} failed: {done.said}"
                files[name] = target.read_bytes()
                records[name] = parse_export(files[name], fmt)
                sidecar = Path(f"{target}.metadata.json")
                if sidecar.exists():
                    files[f"{name}.metadata.json"] = sidecar.read_bytes()
    return ExportSet(files, records)


def parse_export(content: bytes, fmt: str) -> list[dict[str, Any]]:
    """Records of a JSON or CSV export (CSV values are strings; empty means null)."""
    if fmt == "json":
        document = json.loads(content)
        assert set(document) >= {"metadata", "records"}, f"JSON export keys: {sorted(document)}"
        return list(document["records"])
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    return [{key: (value if value != "" else None) for key, value in row.items()} for row in rows]


def without_generation_time(content: bytes) -> Any:
    """A JSON export or metadata file without its ``generated_at`` stamp (the clock, not a figure)."""
    document = json.loads(content)
    metadata = document.get("metadata", document) if isinstance(document, dict) else None
    if isinstance(metadata, dict):
        metadata.pop("generated_at", None)
    return document


def comparable(files: dict[str, bytes]) -> dict[str, Any]:
    """Export files as compared before and after: bytes, except JSON documents without their time."""
    return {
        name: without_generation_time(content) if name.endswith(".json") else content
        for name, content in files.items()
    }
