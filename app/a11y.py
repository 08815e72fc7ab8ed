"""The accessibility audit's one allowlist: axe-core findings inside Streamlit itself that our pages
cannot work around. The browser audit (tests/e2e/test_accessibility.py) accepts only these, and the
accessibility statement page lists them, both from the same file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from app.charts.palette import MARK_TEXT
from app.i18n import _

PHONE_WIDTH = 768  # CSS px: below this the menu closes after a page is chosen
FOCUS_OUTLINE_PX = 3
MIN_TARGET_PX = 24  # WCAG 2.2 SC 2.5.8: each answer of the pulse is at least this tall
FOCUS_COLOUR = MARK_TEXT  # 17:1 on white: the focus ring against the unfocused (white) state

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


# Streamlit has no hook for these, so a small script in the page adds them (st.html runs it in the
# app's own document). It installs itself once per browser tab; each part fixes one finding:
# - focus: after a page change (sign-in included) focus moves to the page's heading, unless the
#   person has already put it somewhere, so Tab starts from the top of the new page (WCAG 2.4.3);
# - menu: on a phone a chosen page closes the menu, which otherwise covers the page;
# - days: the arrow keys step an empty number field from its minimum, as they do a filled one.
_SCRIPT = """
(() => {
  if (window.__wellbeingA11y) return;
  window.__wellbeingA11y = true;
  let lastPath = null;
  setInterval(() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') === 'running') return;
    if (location.pathname === lastPath) return;
    const heading = document.querySelector('[data-testid="stMain"] h1');
    if (!heading) return;
    lastPath = location.pathname;
    const active = document.activeElement;
    if (active && active !== document.body) return;
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }, 150);
  document.addEventListener('click', (event) => {
    if (window.innerWidth >= __PHONE_WIDTH__) return;
    if (!event.target.closest('[data-testid="stSidebarNavLink"]')) return;
    setTimeout(() => {
      const close = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
      if (close) close.click();
    }, 100);
  }, true);
  const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  document.addEventListener('keydown', (event) => {
    const field = event.target;
    if (!(field instanceof HTMLInputElement) || field.type !== 'number' || field.value !== '') return;
    if (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return;
    event.preventDefault();
    event.stopImmediatePropagation();  // the field's own handler would step once more
    setValue.call(field, field.min || '0');
    field.dispatchEvent(new Event('input', {bubbles: true}));
  }, true);
})();
"""

_STYLE = """
[data-testid="stTooltipIcon"] button, button[aria-label^="Help"] {
  min-width: __TARGET__px;
  min-height: __TARGET__px;
  display: inline-flex;
  align-items: center;
  justify-content: center;
}
[data-testid="stRadio"] label {
  min-height: __TARGET__px;
  align-items: center;
}
[data-testid="stRadio"] label:has(input:focus-visible) {
  outline: __WIDTH__px solid __COLOUR__;
  outline-offset: 2px;
  border-radius: 4px;
}
"""


def enhance() -> None:
    """Add the focus, menu and day-field behaviour and the Likert focus ring to every page."""
    style = (
        _STYLE.replace("__WIDTH__", str(FOCUS_OUTLINE_PX))
        .replace("__COLOUR__", FOCUS_COLOUR)
        .replace("__TARGET__", str(MIN_TARGET_PX))
    )
    script = _SCRIPT.replace("__PHONE_WIDTH__", str(PHONE_WIDTH))
    st.html(f"<style>{style}</style><script>{script}</script>", unsafe_allow_javascript=True)
