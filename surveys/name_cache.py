"""The comment-scrubbing name index: everyone's display names, cached per database and kept
current cheaply. A trigger-kept count of changes to the people table (plus a fingerprint) says
when the cache is stale; a new starter extends the index instead of rebuilding it; the server's
warmer rebuilds it before it ages out, so no submitter pays for a build in a burst."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.db import read_session
from models.org import PeopleChanges, Person
from surveys.comments import (
    NameIndex,
    build_name_index,
    extend_name_index,
)

_NAMES_KEY = "surveys.person_names"
# Rebuild the name index at least this often even when the people table looks unchanged: a rename
# to a name of the same length keeps its version (count, highest id, total length of names).
NAME_INDEX_MAX_AGE_SECONDS = 300.0


def person_names(session: Session) -> tuple[str, ...]:
    """Display names of everyone in the database, loaded once per session (comment scrubbing)."""
    names = session.info.get(_NAMES_KEY)
    if names is None:
        names = tuple(sorted(set(session.exec(select(Person.display_name)).all())))
        session.info[_NAMES_KEY] = names
    return names


@dataclass(frozen=True)
class PeopleVersion:
    """Which state of the people table a name index holds: the trigger-kept count of changes
    (``PeopleChanges``: one row to read), and a fingerprint (one aggregate query) that tells
    people added from anything else, so that a new starter extends the index instead of
    rebuilding it."""

    changes: int | None
    count: int
    max_id: int
    name_length: int


@dataclass(frozen=True)
class _CachedIndex:
    version: PeopleVersion
    built_at: float  # of the last full build
    index: NameIndex


_name_indexes: dict[str, _CachedIndex] = {}
_name_index_lock = threading.Lock()


def people_changes(session: Session) -> int | None:
    """The trigger-kept count of changes to the people table; None if its row is missing (then
    nobody counts, and only the fingerprint can say whether people changed)."""
    changes = session.exec(select(PeopleChanges.changes).where(PeopleChanges.id == 1)).first()
    return None if changes is None else int(changes)


def people_version(session: Session) -> PeopleVersion:
    changes = people_changes(session)  # first: a change committed after it makes a later read differ
    count, max_id, name_length = session.exec(
        select(func.count(), func.max(Person.id), func.sum(func.length(Person.display_name)))  # type: ignore[call-overload]
    ).one()
    return PeopleVersion(changes, int(count), int(max_id or 0), int(name_length or 0))


def _young(cached: _CachedIndex, margin: float) -> bool:
    """Whether the index's last full build is younger than the maximum age less ``margin``."""
    return time.monotonic() - cached.built_at < NAME_INDEX_MAX_AGE_SECONDS - margin


def _current(
    cached: _CachedIndex | None, version: PeopleVersion, margin: float = 0.0
) -> NameIndex | None:
    if cached is None or cached.version != version:
        return None
    return cached.index if _young(cached, margin) else None


def _extended(session: Session, cached: _CachedIndex, version: PeopleVersion) -> _CachedIndex | None:
    """The cached index plus the people added since, if that is the only change (else None)."""
    if version.max_id <= cached.version.max_id or version.count <= cached.version.count:
        return None
    added = session.exec(select(Person.display_name).where(Person.id > cached.version.max_id)).all()
    if (
        cached.version.count + len(added) != version.count
        or cached.version.name_length + sum(len(name) for name in added) != version.name_length
    ):
        return None
    return _CachedIndex(version, cached.built_at, extend_name_index(cached.index, added))


def _database_key(session: Session) -> str:
    """Which database a session reads (bound to an engine, or to a writer's connection)."""
    return session.get_bind().engine.url.render_as_string(hide_password=True)


def name_index_at(session: Session, version: PeopleVersion, *, margin: float = 0.0) -> NameIndex:
    """The name index for the people table at ``version``: the cached one if it was built for
    that version (and is younger than ``NAME_INDEX_MAX_AGE_SECONDS`` less ``margin``), else
    extended with the people added since (a new starter costs little), else rebuilt. The old
    index stays in use by other threads until the new one replaces it."""
    database = _database_key(session)
    index = _current(_name_indexes.get(database), version, margin)
    if index is not None:
        return index
    with _name_index_lock:  # one thread updates; the others waiting here then find its index
        cached = _name_indexes.get(database)
        index = _current(cached, version, margin)
        if index is not None:
            return index
        fresh = cached is not None and _young(cached, margin)
        updated = _extended(session, cached, version) if fresh and cached is not None else None
        if updated is None:
            names = session.exec(select(Person.display_name)).all()
            updated = _CachedIndex(version, time.monotonic(), build_name_index(names))
        _name_indexes[database] = updated
        return updated.index


def recent_name_index(session: Session) -> tuple[NameIndex, PeopleVersion]:
    """The cached name index and the people version it was built for, without asking the
    database unless there is none yet or it is too old: a submission scrubs its comment with it
    while it is prepared, and the writer confirms the version inside its write transaction
    (``_scrub_with_current_names``). Asking here as well put one query per commented submission
    in the middle of a burst, and those submissions arrived 10-18 ms after the others."""
    cached = _name_indexes.get(_database_key(session))
    if cached is not None and _young(cached, 0.0):
        return cached.index, cached.version
    version = people_version(session)
    return name_index_at(session, version), version


def refresh_name_index(engine: Engine, *, due_within_seconds: float = 0.0) -> None:
    """Build the comment-scrubbing name index, or bring it up to date, before a submitter needs
    it; rebuild it now if it would reach ``NAME_INDEX_MAX_AGE_SECONDS`` within
    ``due_within_seconds``.

    Left to the submissions, the first commented one of a server process builds it, and the first
    one after the maximum age rebuilds it: at 21,000 people that is 160 ms holding the interpreter
    lock in the middle of whatever burst the comment came in with. At a million responses the
    process's first burst of 200 submitters had a p95 of 140 ms, 47 ms with the index built
    beforehand. The server's background warmer calls this every minute (``app.warmup``)."""
    with read_session(engine) as session:
        name_index_at(session, people_version(session), margin=due_within_seconds)
