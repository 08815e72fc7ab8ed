"""Text a user typed is shown as text on every page: a demo council whose unit, person, objective,
key result, check-in, action and comment texts are all Markdown and HTML is walked page by page as
every role (Streamlit's AppTest), and no element that renders Markdown (body, label, help, caption,
alert, header, expander, tab, metric) carries any of that syntax unescaped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from google.protobuf.json_format import MessageToDict
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from app.settings import get_settings
from app.ui import escape_markdown
from models.db import make_engine, read_session
from models.migrate import upgrade_to_head
from models.org import Person, RoleGrant
from surveys.demo import seed_demo

ROOT = Path(__file__).resolve().parents[1]
MAIN = str(ROOT / "app" / "main.py")
PAGES = sorted(f"pages/{path.name}" for path in (ROOT / "app" / "pages").glob("*.py"))
# Each piece is Markdown or HTML that would change what another user sees if it were rendered.
INJECTIONS = (
    "**bold**",
    "_em_",
    "[link](http://evil.test/a)",
    "![img](http://evil.test/i.png)",
    "<b>html</b>",
    "<img src=x onerror=alert(1)>",
    ":red[red]",
    ":material/warning:",
    "$x^2$",
    "`code`",
    "~~gone~~",
    "www.evil.test",
)
MARKDOWN_FIELDS = {"body", "label", "help", "placeholder"}
PLAIN_ELEMENTS = {"text", "dataframe", "arrow_data_frame", "code", "json", "table"}


def hostile(kind: str) -> str:
    return f"{kind} " + " ".join(INJECTIONS)


def _make_everything_hostile(engine: Engine) -> None:
    updates = {
        "unit": ["name"],
        "person": ["display_name"],
        "objective": ["title", "description", "override_reason"],
        "key_result": ["metric_name", "unit"],
        "check_in": ["note"],
        "action": ["title", "description", "trigger"],
        "pulse_response": ["comment"],
    }
    with engine.begin() as connection:
        for table, columns in updates.items():
            for column in columns:
                width = 40 if (table, column) == ("key_result", "unit") else 400
                value = hostile(f"{table}-{column}")[:width]
                connection.execute(
                    text(
                        f"UPDATE {table} SET {column} = :value || ' ' || id "  # noqa: S608  (names above)
                        f"WHERE {column} IS NOT NULL AND {column} != ''"
                    ),
                    {"value": value[: width - 8]},
                )


@pytest.fixture(scope="module")
def hostile_council(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'council.db'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    seed_demo(engine, participation_key=b"k" * 32, seed=3, teams=6, weeks=8)
    _make_everything_hostile(engine)
    engine.dispose()
    yield url


def _accounts(url: str) -> dict[str, str]:
    engine = make_engine(url)
    accounts: dict[str, str] = {}
    with read_session(engine) as session:
        for role in ("admin", "hr", "manager"):
            person = session.exec(
                select(Person)
                .join(RoleGrant, RoleGrant.person_id == Person.id)
                .where(RoleGrant.role == role)
            ).first()
            assert person is not None
            accounts[role] = person.email
        granted = select(RoleGrant.person_id)
        staff = session.exec(
            select(Person).where(Person.team_id.is_not(None), Person.id.not_in(granted))  # type: ignore[union-attr]
        ).first()
        assert staff is not None
        accounts["staff"] = staff.email
    engine.dispose()
    return accounts


def _markdown_strings(node: object) -> Iterator[tuple[str, str]]:
    """(element type, text) for every Markdown-rendered string under ``node``."""
    kind = getattr(node, "type", "")
    proto = getattr(node, "proto", None)
    if proto is not None and kind not in PLAIN_ELEMENTS:
        yield from _fields(kind, MessageToDict(proto))
    children = getattr(node, "children", None) or {}
    for child in children.values():
        yield from _markdown_strings(child)


def _fields(kind: str, data: object) -> Iterator[tuple[str, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key in MARKDOWN_FIELDS and isinstance(value, str):
                yield kind, value
            elif key not in {"spec", "data", "options", "default", "value", "rawValue"}:
                yield from _fields(kind, value)
    elif isinstance(data, list):
        for value in data:
            yield from _fields(kind, value)


@pytest.fixture
def app_on(hostile_council: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("WELLBEING_DATABASE_URL", hostile_council)
    monkeypatch.setenv("WELLBEING_ENVIRONMENT", "demo")
    monkeypatch.setenv("WELLBEING_AUTH_MODE", "demo")
    monkeypatch.setenv("WELLBEING_WARM_DASHBOARDS", "false")
    get_settings.cache_clear()
    st.cache_data.clear()
    yield hostile_council
    get_settings.cache_clear()
    st.cache_data.clear()


@pytest.mark.slow
@pytest.mark.parametrize("role", ["admin", "hr", "manager", "staff"])
def test_every_page_shows_user_text_as_text(app_on: str, role: str) -> None:
    email = _accounts(app_on)[role]
    seen_escaped = False
    walked = 0
    for page in PAGES:
        at = AppTest.from_file(MAIN, default_timeout=120)
        at.session_state["demo_email"] = email
        at.run()  # the role's landing page, with the sidebar
        rendered = list(_markdown_strings(at._tree))
        try:
            at.switch_page(page).run()
        except ValueError:  # not a page of this role: navigation does not offer it
            continue
        assert not at.exception, (page, at.exception)
        walked += 1
        for kind, shown in [*rendered, *_markdown_strings(at._tree)]:
            for injection in INJECTIONS:
                assert injection not in shown, (role, page, kind, shown[:300])
            seen_escaped = seen_escaped or escape_markdown("**bold**") in shown
    assert walked >= 2
    assert seen_escaped, "no user text reached a Markdown element: the walk proved nothing"


def test_the_helper_keeps_the_text_and_disarms_the_syntax() -> None:
    from markdown_it import MarkdownIt

    renderer = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    for injection in INJECTIONS:
        html = renderer.render(escape_markdown(f"before {injection} after"))
        assert "<a " not in html and "<img" not in html and "<strong>" not in html
        assert "<em>" not in html and "<code>" not in html and "<b>" not in html
        assert "<s>" not in html and "<del>" not in html
    assert renderer.render(escape_markdown("a <b> & c")).strip() == "<p>a &lt;b&gt; &amp; c</p>"
