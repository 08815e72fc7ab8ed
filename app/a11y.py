"""The accessibility audit's one allowlist: axe-core findings inside Streamlit itself that our pages
cannot work around. The browser audit (tests/e2e/test_accessibility.py) accepts only these, and the
accessibility statement page lists them, both from the same file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from app.i18n import _

ALLOWLIST_PATH = Path(__file__).resolve().parents[1] / "tests" / "e2e" / "axe_allowlist.toml"
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
FAILING_IMPACTS = ("serious", "critical")


@dataclass(frozen=True)
class AxeException:
    """One accepted axe-core finding: its rule, where (a CSS selector the failing element is, or is
    inside), why it is accepted (in words fit for the accessibility statement), the upstream issue
    that tracks the fix, and the WCAG success criterion it fails."""

    rule: str
    selector: str
    reason: str
    issue: str
    wcag: str = ""


def load_allowlist(path: Path = ALLOWLIST_PATH) -> tuple[AxeException, ...]:
    """The accepted findings; an empty tuple when the file is absent (an install without tests)."""
    if not path.exists():
        return ()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    entries = []
    for raw in data.get("exception", []):
        missing = {"rule", "selector", "reason", "issue"} - raw.keys()
        if missing:
            raise ValueError(f"{path.name}: an exception lacks {sorted(missing)}: {raw}")
        if not raw["issue"].startswith("https://github.com/"):
            raise ValueError(f"{path.name}: {raw['rule']} needs an upstream issue link")
        fields = {key: " ".join(str(value).split()) for key, value in raw.items()}
        entries.append(AxeException(**fields))
    return tuple(entries)


STATEMENT_PATH = "accessibility"


def statement_page() -> st.Page:
    """The accessibility statement as a page of the navigation: hidden from the menu (so each
    role's menu stays its own pages), reached at /accessibility and by the link of ``footer``."""
    return st.Page(
        Path(__file__).resolve().parent / "pages" / "accessibility.py",
        title=_("Accessibility statement"),
        icon=":material/accessibility_new:",
        url_path=STATEMENT_PATH,
        visibility="hidden",
    )


def footer(statement: st.Page) -> None:
    """A link to the accessibility statement under every page, signed in or not (GOV.UK puts it in
    the footer)."""
    st.divider()
    st.page_link(statement, label=_("Accessibility statement"), icon=":material/accessibility_new:")
