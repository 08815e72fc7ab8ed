"""Keep the team dashboards' shared gate results ready, so no manager waits for them.

A team's wellbeing figures are cut from organisation-wide decisions (exact complementary
suppression needs the whole tree). Computing them takes about 1.5 s at 1,000 teams; after that
every manager of the organisation gets their team's figures in about 0.05-0.1 s. Without help, the
first manager after a restart, after the dashboards move on to a new week (Monday), or after a
change in the data behind them (a late import, a unit moved, a threshold changed) pays the 1.5 s.

``DashboardWarmer`` is a daemon thread started once per server process, by the first page view
after the server starts (usually the sign-in page, well before a dashboard is opened). Every
``WARM_INTERVAL_SECONDS`` it asks the gate for the dashboards' current range: a no-op when the
results are already shared (cache hit, about 0.05 s per organisation), a recomputation when
something they depend on changed. It releases nothing (``analytics.gate.warm_team_results``).

The same thread keeps the pulse's comment-scrubbing name index built and young
(``surveys.submit.refresh_name_index``), so that neither the first commented submission after a
restart nor the first after the index's maximum age rebuilds it in the middle of a Monday burst.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy.engine import Engine

from analytics.gate import PrivacyRules, warm_team_results
from models.base import iso_week
from models.db import read_session
from surveys.submit import refresh_name_index

WEEKS_SHOWN = 12  # the team dashboard's wellbeing range
DASHBOARD_CONSTRUCTS = ("wellbeing",)
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


def dashboard_weeks(today: date) -> tuple[str, str]:
    """The last ``WEEKS_SHOWN`` complete ISO weeks (the current week is still being answered)."""
    end = today - timedelta(weeks=1)
    return iso_week(end - timedelta(weeks=WEEKS_SHOWN - 1)), iso_week(end)


def warm_dashboards(engine: Engine, rules: PrivacyRules, today: date) -> int:
    """Make the gate's shared results for the dashboards' range ready; how many were computed."""
    start_week, end_week = dashboard_weeks(today)
    with read_session(engine) as session:
        return warm_team_results(
            session=session,
            rules=rules,
            start_week=start_week,
            end_week=end_week,
            constructs=DASHBOARD_CONSTRUCTS,
        )


class DashboardWarmer(threading.Thread):
    """Calls ``warm_dashboards`` and ``refresh_name_index`` now and then every ``interval``
    seconds until stopped. A failure is logged and retried on the next round: warming only ever
    saves time, it never decides."""

    def __init__(
        self,
        engine: Engine,
        rules: PrivacyRules,
        *,
        interval: float = WARM_INTERVAL_SECONDS,
        today: Callable[[], date] = date.today,
    ) -> None:
        super().__init__(name="dashboard-warmer", daemon=True)
        self.engine, self.rules, self.interval, self.today = engine, rules, interval, today
        self.rounds = 0
        self.ready = threading.Event()  # set after the first round (tests, benchmark)
        self._stop_requested = threading.Event()

    def run(self) -> None:
        while not self._stop_requested.is_set():
            self._warm("the dashboards", self._warm_dashboards)
            # Rebuilt a round or two before it would expire, never by a submitter.
            self._warm(
                "the name index",
                lambda: refresh_name_index(self.engine, due_within_seconds=2 * self.interval),
            )
            self.rounds += 1
            self.ready.set()
            self._stop_requested.wait(self.interval)

    def _warm_dashboards(self) -> None:
        started = time.perf_counter()
        computed = warm_dashboards(self.engine, self.rules, self.today())
        if computed:
            log.info(
                "warmed %d shared dashboard results in %.2f s", computed, time.perf_counter() - started
            )

    def _warm(self, what: str, step: Callable[[], None]) -> None:
        try:
            step()
        except Exception:  # noqa: BLE001  (a database hiccup must not end the thread)
            log.exception("warming %s failed; retrying in %.0f s", what, self.interval)

    def stop(self) -> None:
        self._stop_requested.set()
