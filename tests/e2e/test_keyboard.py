"""The weekly pulse by keyboard alone (real server): after signing in, Tab, the arrow keys, typing
and Enter are the only input; no clicks, no focusing by the test. Reports the key presses it took.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from playwright.sync_api import Page, expect

from app.charts.palette import contrast_ratio
from tests.e2e.access_helpers import sign_in_any_width
from tests.e2e.helpers import wait_for_app

KEYBOARD_STAFF = 2  # test_pulse answers as the first staff account, test_phone as the 4th and 5th

MAX_PRESSES = 250  # a bound on the walk, far above what the form needs
CONFIRMATION = "Thank you! Your answers for this week are saved"

# What has the focus: the kind of control, its label (for a radio, which question), and for a radio
# whether its question has an answer yet.
FOCUSED = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {kind: 'body', label: ''};
  const group = el.closest('[data-testid="stRadio"]');
  if (el.type === 'radio' && group) {
    const index = Array.from(document.querySelectorAll('[data-testid="stRadio"]')).indexOf(group);
    return {kind: 'radio', label: String(index),
            answered: group.querySelector('input[type="radio"]:checked') !== null};
  }
  const label = el.getAttribute('aria-label') || el.labels?.[0]?.innerText || el.innerText || '';
  return {kind: el.tagName.toLowerCase() + (el.type ? ':' + el.type : ''), label: label.trim()};
}
"""
DAYS = {"Days at home": "2", "Days at an office": "3"}
ARROWED = "Days at home"  # answered with the arrow keys from empty: 0, 1, 2
MAX_TABS_TO_FIRST_QUESTION = 4  # focus starts at the page's heading after signing in

# The focus ring of the radio option that has the focus, and the option's own background.
RING = """
() => {
  const label = document.activeElement.closest('label');
  const style = getComputedStyle(label);
  let node = label, background = 'rgba(0, 0, 0, 0)';
  while (node && (background === 'rgba(0, 0, 0, 0)' || background === 'transparent')) {
    background = getComputedStyle(node).backgroundColor;
    node = node.parentElement;
  }
  return {width: style.outlineWidth, style: style.outlineStyle, colour: style.outlineColor,
          background: background};
}
"""


def _hex(css: str) -> str:
    """``rgb(r, g, b)`` as ``#rrggbb`` (an opaque colour)."""
    red, green, blue = (int(part) for part in re.findall(r"\d+", css)[:3])
    return f"#{red:02x}{green:02x}{blue:02x}"


@dataclass
class Keyboard:
    """Presses keys on the page and counts them."""

    page: Page
    presses: int = 0
    log: list[str] = field(default_factory=list)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.presses += 1
        self.log.append(key)

    def type(self, text: str) -> None:
        for char in text:
            self.press(char)


def test_staff_member_answers_the_pulse_with_the_keyboard_only(page: Page, app_url: str) -> None:
    # Not the staff member other browser tests answer as: a person answers once a week, and the
    # demo database is shared by every browser test of the run.
    sign_in_any_width(page, app_url, "Staff in", nth=KEYBOARD_STAFF)
    form = page.get_by_test_id("stForm")
    expect(form).to_be_visible()
    questions = form.get_by_test_id("stRadio")
    expect(questions.first).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=30_000)
    total = questions.count()
    assert total >= 10
    # After signing in, focus is on the page's heading (not lost to the page body).
    expect(page.locator("h1:focus")).to_have_text("Weekly pulse", timeout=10_000)
    keys = Keyboard(page)
    ring_checked = False
    answered: set[str] = set()
    typed: set[str] = set()
    seen: list[str] = []
    while keys.presses < MAX_PRESSES:
        focus = page.evaluate(FOCUSED)
        if focus["kind"] == "radio" and not ring_checked:
            ring = page.evaluate(RING)
            assert (ring["width"], ring["style"]) == ("3px", "solid"), ring
            assert contrast_ratio(_hex(ring["colour"]), _hex(ring["background"])) >= 3, ring
            ring_checked = True
        if focus["kind"] == "radio" and not focus["answered"]:
            # Arrow keys move within the question and choose: the third option of five.
            keys.press("ArrowRight")
            keys.press("ArrowRight")
            answered.add(focus["label"])
        elif focus["label"] in DAYS and focus["label"] not in typed:
            if focus["label"] == ARROWED:  # an empty day field steps from 0 with the arrow keys
                keys.press("ArrowUp")
                expect(page.get_by_label(ARROWED)).to_have_value("0")
                for _ in range(int(DAYS[ARROWED])):
                    keys.press("ArrowUp")
                expect(page.get_by_label(ARROWED)).to_have_value(DAYS[ARROWED])
            else:
                keys.type(DAYS[focus["label"]])
            typed.add(focus["label"])
        elif focus["kind"].startswith("button") and focus["label"] == "Send my answers":
            assert len(answered) == total, f"reached the button with {len(answered)} of {total}"
            keys.press("Enter")
            break
        else:
            seen.append(f"{focus['kind']} {focus['label'][:30]}")
            keys.press("Tab")
    else:
        raise AssertionError(f"no submission after {MAX_PRESSES} key presses; focus went {seen}")
    wait_for_app(page)
    expect(page.get_by_text(CONFIRMATION)).to_be_visible(timeout=30_000)
    tabs = keys.log.count("Tab")
    arrows = keys.log.count("ArrowRight")
    print(
        f"\nkeyboard-only pulse: {keys.presses} key presses ({tabs} Tab, {arrows} arrow, "
        f"{keys.presses - tabs - arrows - 1} typed, 1 Enter) for {total} questions; "
        f"{keys.log.index('ArrowRight')} Tab from the top of the page to the first question"
    )
    assert set(typed) == set(DAYS)
    assert ring_checked
    assert keys.log.index("ArrowRight") <= MAX_TABS_TO_FIRST_QUESTION, seen[:8]
