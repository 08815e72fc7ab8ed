"""Shared fixtures: a fresh database per test on SQLite and, where reachable, PostgreSQL.

PostgreSQL: set WELLBEING_TEST_POSTGRES_URL to a server URL (any database on it); the suite
creates a throwaway database per run and drops it at the end. Without the variable it tries
postgresql+psycopg://127.0.0.1:5432/postgres. If no server answers, PostgreSQL tests skip with the
reason, unless WELLBEING_REQUIRE_POSTGRES=1 (CI), where they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

import models  # noqa: F401  (registers tables)
from models.at_rest import forget_database
from models.db import make_engine

DEFAULT_PG_URL = "postgresql+psycopg://127.0.0.1:5432/postgres"
# Page tests run the app in this process: without this, each would start a background dashboard
# warmer (app/warmup.py) that fills the gate's process-wide cache while cache tests count its hits.
# tests/test_warmup.py tests the warmer directly; the browser tests' servers run it (e2e/helpers).
os.environ["WELLBEING_WARM_DASHBOARDS"] = "false"


def _postgres_required() -> bool:
    return os.environ.get("WELLBEING_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of a throwaway PostgreSQL database for this test run (dropped afterwards)."""
    base = os.environ.get("WELLBEING_TEST_POSTGRES_URL", DEFAULT_PG_URL)
    admin = make_engine(base)
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001  (any connection failure means "no server")
        admin.dispose()
        reason = f"PostgreSQL not reachable at {make_url(base).render_as_string()}: {error}"
        if _postgres_required():
            pytest.fail(reason + " (WELLBEING_REQUIRE_POSTGRES=1)")
        pytest.skip(reason + "; set WELLBEING_TEST_POSTGRES_URL to run these tests")
    name = f"wellbeing_test_{uuid.uuid4().hex[:10]}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    yield url
    forget_database(name)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fresh_schema(engine: Engine) -> None:
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """A database URL with an empty schema, on each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("postgres_server_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a freshly created schema (create_all; migrations are tested separately)."""
    engine = make_engine(db_url)
    _fresh_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """SQLite only, for tests that do not need to run on both backends."""
    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _pages_run_through_the_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTest starts every run as a freshly started server would: in Streamlit's older
    pages-folder mode (app/pages sits next to app/main.py), where a page file runs on its own. A
    server leaves that mode for good at the entry point's first st.navigation (app/ui.py
    ``through_navigation`` makes sure of it), so page tests run as the server then does: through
    app/main.py's navigation, sign-in and role checks."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def steady_state(self: PagesManager, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", steady_state)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session
