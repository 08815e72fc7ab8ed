"""The server's background thread: releases closed periods as they fall due, and keeps the
comment-scrubbing name index built.

Figures are computed once per period, when it closes and its grace period has passed
(``analytics.privacy.release_due``), and every page then reads the stored releases, so no manager
waits for the gate. ``DashboardWarmer`` is a daemon thread started once per server process by the
first page view; every ``WARM_INTERVAL_SECONDS`` it releases whatever has fallen due (a no-op
costing one small query when nothing has) and rebuilds the name index before it expires, so that
neither the first commented submission after a restart nor the first after the index's maximum
age rebuilds it in the middle of a Monday burst. ``wellbeing release`` does the same from cron for
deployments that run no server at the moment a period falls due.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from analytics.privacy import PrivacyRules, ReleaseSchedule, release_due
from surveys.name_cache import refresh_name_index

WARM_INTERVAL_SECONDS = 60.0
log = logging.getLogger(__name__)


def freeze_startup_objects() -> None:
    """Once per process, after start-up: move every object alive now (imported modules, the
    engine, a benchmark's loaded organisation) out of the garbage collector's reach
    (``gc.freeze``). Its full collections then scan only what requests create. Without it, at the
    benchmark's size, a full collection during a burst of 200 submissions stalled every thread for
    50-80 ms. Collects first, so no garbage is frozen; later calls do nothing."""
    global _frozen
    with _freeze_lock:
        if _frozen:
            return
        gc.collect()
        gc.freeze()
        _frozen = True


_frozen = False
_freeze_lock = threading.Lock()


def release_what_is_due(
    engine: Engine, rules: PrivacyRules, schedule: ReleaseSchedule, now: datetime
) -> int:
    """Release every period that has fallen due; how many were released."""
    return len(release_due(engine, now=now, rules=rules, schedule=schedule))


class DashboardWarmer(threading.Thread):
    """Calls ``release_what_is_due`` and ``refresh_name_index`` now and then every ``interval``
    seconds until stopped. A failure is logged and retried on the next round (a release is one
    transaction per period, so a failed round leaves whole periods only)."""

    def __init__(
        self,
        engine: Engine,
        rules: PrivacyRules,
        *,
        schedule: ReleaseSchedule | None = None,
        interval: float = WARM_INTERVAL_SECONDS,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(name="dashboard-warmer", daemon=True)
        self.engine, self.rules, self.interval, self.now = engine, rules, interval, now
        self.schedule = schedule or ReleaseSchedule()
        self.rounds = 0
        self.ready = threading.Event()  # set after the first round (tests, benchmark)
        self._stop_requested = threading.Event()

    def run(self) -> None:
        while not self._stop_requested.is_set():
            self._warm("the releases", self._release)
            # Rebuilt a round or two before it would expire, never by a submitter.
            self._warm(
                "the name index",
                lambda: refresh_name_index(self.engine, due_within_seconds=2 * self.interval),
            )
            self.rounds += 1
            self.ready.set()
            self._stop_requested.wait(self.interval)

    def _release(self) -> None:
        started = time.perf_counter()
        released = release_what_is_due(self.engine, self.rules, self.schedule, self.now())
        if released:
            log.info("released %d period(s) in %.2f s", released, time.perf_counter() - started)

    def _warm(self, what: str, step: Callable[[], None]) -> None:
        try:
            step()
        except Exception:  # noqa: BLE001  (a database hiccup must not end the thread)
            log.exception("warming %s failed; retrying in %.0f s", what, self.interval)

    def stop(self) -> None:
        self._stop_requested.set()
