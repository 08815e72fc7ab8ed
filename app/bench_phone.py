"""The weekly pulse on a phone, timed from opening the sign-in page to the thank-you: what a member
of staff waits for at 390x844 with taps, without their own reading and thinking time. Part of
``wellbeing bench`` (the aim is well under a minute); never a timed test.

It answers as a demo staff member on a copy of the sign-in benchmark's demo council, so the
council stays unanswered for the next run (a person answers once a week)."""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.bench_sign_in import PAGE_TIMEOUT_MS, SignInBenchError, launch_chromium, serve

PHONE_VIEWPORT = {"width": 390, "height": 844}
PULSE_ON_PHONE_AIM_SECONDS = 60.0
THANK_YOU = "Thank you! Your answers for this week are saved"
APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def _wait_for_app(page: Any) -> None:
    page.locator(APP_IDLE).wait_for(state="attached", timeout=PAGE_TIMEOUT_MS)


def pulse_on_phone_seconds(browser: Any, url: str, account: int) -> float:
    """Seconds from asking for the sign-in page to the thank-you, as the ``account``-th demo staff
    member, tapping the middle answer of every question on a phone-sized screen."""
    context = browser.new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url)
        _wait_for_app(page)
        page.get_by_test_id("stSelectbox").filter(has_text="Demo account").click()
        page.get_by_role("option").filter(has_text="Staff in").nth(account).click()
        page.get_by_role("button", name="Sign in").click()
        questions = page.get_by_test_id("stForm").get_by_test_id("stRadio")
        questions.first.wait_for(state="visible", timeout=PAGE_TIMEOUT_MS)
        _wait_for_app(page)
        for index in range(questions.count()):
            options = questions.nth(index).get_by_role("radio")
            options.nth(options.count() // 2).locator("xpath=ancestor::label[1]").tap()
        page.get_by_role("button", name="Send my answers").tap()
        page.get_by_text(THANK_YOU).wait_for(state="visible", timeout=PAGE_TIMEOUT_MS)
        return time.perf_counter() - started
    finally:
        context.close()


def measure_pulse_on_phone(
    demo_file: Path, *, runs: int, log: Callable[[str], None], log_dir: Path
) -> dict[str, Any]:
    """The median over ``runs`` staff members of the pulse on a phone, on a copy of ``demo_file``."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:  # an install without the test extras
        raise SignInBenchError("playwright is not installed (pip install -e '.[test]')") from error
    copy = log_dir / "bench-phone-demo.db"
    shutil.copyfile(demo_file, copy)
    seconds: list[float] = []
    with sync_playwright() as playwright, serve(f"sqlite:///{copy}", log_dir / "bench-phone.log") as url:
        browser = launch_chromium(playwright)
        try:
            for account in range(runs):
                seconds.append(round(pulse_on_phone_seconds(browser, url, account), 3))
                log(f"pulse on a phone, staff member {account + 1}/{runs}: {seconds[-1]:.2f} s")
        finally:
            browser.close()
    return {
        "pulse_on_phone_seconds": round(statistics.median(seconds), 3),
        "pulse_on_phone_seconds_each": seconds,
        "pulse_on_phone_aim_seconds": PULSE_ON_PHONE_AIM_SECONDS,
    }
