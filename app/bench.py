"""The benchmark behind ``wellbeing bench``: a synthetic organisation at scale, then timings.

This module times what users wait for and assembles the report (``run_benchmark``); the
organisation comes from ``app.bench_org`` and is loaded by ``app.bench_build``, the concurrent
submitters are ``app.bench_submit``.

Why it looks like this: each figure is the median of a few repetitions after a warm-up. A figure
that cannot be measured yet (a module another area has not delivered) is ``null`` with its reason
in ``unavailable``: never a made-up number.
"""

from __future__ import annotations

import importlib
import math
import platform
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from app.bench_build import build, count_responses
from app.bench_org import BenchError, BenchOrg, BenchPlan, inspect_database, load_org
from app.bench_submit import (
    PACED_SECONDS,
    SUBMIT_BURSTS,
    SUBMITTERS,
    add_submitters,
    run_submitters,
    submitting_without_writing,
)
from app.components.outcomes_data import DASHBOARD_CONSTRUCTS, WEEKS_SHOWN
from app.warmup import freeze_startup_objects
from models.access import Viewer, load_viewer
from models.db import is_sqlite, read_session
from surveys.submit import refresh_name_index

# --------------------------------------------------------------------------------------------
# Measurements.
# --------------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


BARE_GROUP_BY = text(
    "SELECT team_id, week, construct_id, COUNT(*) AS n, SUM(score) AS total, "
    "SUM(score * score) AS total_sq "
    "FROM pulse_score WHERE week BETWEEN :first AND :last "
    "GROUP BY team_id, week, construct_id"
)
MAINTAINED_GROUP_BY = text(
    "SELECT team_id, week, construct_id, SUM(n) AS n, SUM(total) AS total, SUM(total_sq) AS total_sq "
    "FROM team_week_score WHERE week BETWEEN :first AND :last "
    "GROUP BY team_id, week, construct_id"
)


def _fetch_all(engine: Engine, query: Any, plan: BenchPlan) -> int:
    with engine.connect() as connection:
        return len(connection.execute(query, {"first": plan.first_week, "last": plan.last_week}).all())


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --------------------------------------------------------------------------------------------
# The figures other areas provide: resolved when called, so a module still being written shows up
# in the report as "not available" with its reason instead of stopping the benchmark.
# --------------------------------------------------------------------------------------------


def _function(module_name: str, name: str) -> Callable[..., Any]:
    module = importlib.import_module(module_name)
    found = getattr(module, name, None)
    if found is None:
        raise LookupError(f"{module_name}.{name} does not exist yet")
    return found


def _viewer(engine: Engine, email: str) -> Viewer:
    with read_session(engine) as session:
        viewer = load_viewer(session, email)
    if viewer is None:
        raise BenchError(f"the benchmark account {email} is missing")
    return viewer


def _rules() -> Any:
    return _function("analytics.privacy", "PrivacyRules")()


def release_everything(engine: Engine, plan: BenchPlan) -> int:
    """Release every period of the build that has closed by the plan's today (what the server's
    background thread or ``wellbeing release`` does once per period); how many were released."""
    release_due = _function("analytics.privacy", "release_due")
    schedule = _function("analytics.privacy", "ReleaseSchedule")()
    moment = _function("analytics.privacy.release", "as_of_moment")(plan.today, schedule.time_zone)
    return len(release_due(engine, now=moment, rules=_rules(), schedule=schedule))


def hr_overview(engine: Engine, org: BenchOrg) -> int:
    """The HR overview's data: every unit x released week x construct of the organisation, read from
    the store of frozen releases (the heatmap, the trends and the export all read this), as HR."""
    organisation_figures = _function("analytics.privacy", "organisation_figures")
    viewer = _viewer(engine, org.hr_email)
    with read_session(engine) as session:
        frame = organisation_figures(
            session=session, viewer=viewer, kind="week", organisation_id=org.root_id
        )
    return len(frame)


PAGE_WEEKS, PAGE_CONSTRUCTS = WEEKS_SHOWN, DASHBOARD_CONSTRUCTS  # what the team dashboard asks for


def team_dashboard(
    engine: Engine, plan: BenchPlan, org: BenchOrg, weeks: int | None = None, constructs: Any = None
) -> int:
    """A manager's team dashboard data for one team: released series, pattern mix, response rate
    and delivery. By default every released week and construct (more than the page asks for)."""
    team_figures = _function("analytics.privacy.views", "team_figures")  # as the page's load_wellbeing
    latest = _function("analytics.privacy.views", "latest_released_weeks")
    team_delivery = _function("analytics.objectives", "team_delivery")
    viewer = _viewer(engine, org.manager_email)
    team_id = org.team_ids[0]
    with read_session(engine) as session:
        shown = latest(session, unit_id=team_id, count=weeks or len(plan.week_labels))
        common = {"session": session, "viewer": viewer, "team_id": team_id}
        figures = team_figures(**common, weeks=shown, constructs=constructs)
        team_delivery(**common, today=plan.today)
    return len(figures.series)


def strain_detection(engine: Engine, plan: BenchPlan, org: BenchOrg) -> int:
    """Strain detection over every team that passes the gate (features, clustering, reasons and
    sustained-drop alerts), as HR sees it."""
    strain_report = _function("analytics.strain_features", "strain_report")
    viewer = _viewer(engine, org.hr_email)
    with read_session(engine) as session:
        report = strain_report(
            session=session, viewer=viewer, rules=_rules(), end_week=plan.last_week, today=plan.today
        )
    return len(report.eligible) if report is not None else 0


# --------------------------------------------------------------------------------------------
# The run: build or reuse, then every figure.
# --------------------------------------------------------------------------------------------


def _timed(
    report: dict[str, Any],
    unavailable: dict[str, str],
    key: str,
    action: Callable[[], Any],
    repeats: int,
    cold_key: str | None = None,
) -> Any:
    """Median seconds of ``action`` into ``report[key]``, or None and the reason it could not run.
    With ``cold_key``, also the first call's seconds (the median is of warm calls)."""
    try:
        if cold_key is not None:
            started = time.perf_counter()
        result = action()  # warm-up, and the size of what it returns
        if cold_key is not None:
            report[cold_key] = round(time.perf_counter() - started, 4)
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            action()
            times.append(time.perf_counter() - started)
    except (ImportError, LookupError) as error:
        report[key] = None
        unavailable[key] = f"not available yet: {error}"
        if cold_key is not None:
            report[cold_key] = None
            unavailable[cold_key] = unavailable[key]
        return None
    except Exception as error:  # noqa: BLE001  (another area's module failed: report, don't hide)
        report[key] = None
        unavailable[key] = f"failed: {type(error).__name__}: {error}"
        if cold_key is not None:
            report[cold_key] = None
            unavailable[cold_key] = unavailable[key]
        return None
    report[key] = round(statistics.median(times), 4)
    return result


def run_benchmark(
    engine: Engine,
    plan: BenchPlan,
    key: bytes,
    *,
    repeats: int = 3,
    progress: Callable[[int], None] = lambda _done: None,
    log: Callable[[str], None] = lambda _message: None,
) -> dict[str, Any]:
    """Build (or reuse) the organisation, measure every figure, return the report (JSON-ready)."""
    report: dict[str, Any] = {
        "backend": _backend(engine),
        "database": _url_for_report(engine),
        "teams": plan.teams,
        "people_per_team": plan.people_per_team,
        "weeks": plan.weeks,
        "first_week": plan.first_week,
        "last_week": plan.last_week,
        "repeats": repeats,
        **platform_info(engine),
    }
    unavailable: dict[str, str] = {}
    state = inspect_database(engine, plan)
    if state == "empty":
        log("building the synthetic organisation")
        started = time.perf_counter()
        org = build(engine, plan, key, progress=progress, log=log)
        report["generate_and_load_seconds"] = round(time.perf_counter() - started, 2)
        report["reused_existing_build"] = False
    else:
        log("reusing the complete build of the same size in this database")
        org = load_org(engine, plan)
        report["generate_and_load_seconds"] = None
        unavailable["generate_and_load_seconds"] = (
            "reused a complete build of the same size from an earlier run; "
            "use a fresh database to time it"
        )
        report["reused_existing_build"] = True
    report["responses"] = count_responses(engine, plan)
    report["responses_per_second_loaded"] = (
        round(report["responses"] / report["generate_and_load_seconds"])
        if report["generate_and_load_seconds"]
        else None
    )
    report["peak_rss_mb_after_load"] = peak_rss_mb()
    freeze_startup_objects()  # as a server does after start-up (app.ui.settle_server_process)

    log("timing the bare GROUP BY (reference)")
    groups = _timed(
        report,
        unavailable,
        "bare_group_by_seconds",
        lambda: _fetch_all(engine, BARE_GROUP_BY, plan),
        repeats,
    )
    report["bare_group_by_rows"] = groups
    log("timing the GROUP BY over the maintained weekly aggregates")
    report["maintained_group_by_rows"] = _timed(
        report,
        unavailable,
        "maintained_group_by_seconds",
        lambda: _fetch_all(engine, MAINTAINED_GROUP_BY, plan),
        repeats,
    )
    log("releasing every closed period (once per build: a reused build has them already)")
    try:
        started = time.perf_counter()
        report["periods_released"] = release_everything(engine, plan)
        report["release_seconds"] = round(time.perf_counter() - started, 4)
    except Exception as error:  # noqa: BLE001  (reported, never hidden)
        report["periods_released"] = report["release_seconds"] = None
        unavailable["release_seconds"] = f"failed: {type(error).__name__}: {error}"
    log("timing the HR overview, read from the released store")
    report["hr_overview_rows"] = _timed(
        report, unavailable, "hr_overview_seconds", lambda: hr_overview(engine, org), repeats
    )
    report["hr_overview_to_group_by_ratio"] = (
        round(report["hr_overview_seconds"] / report["bare_group_by_seconds"], 4)
        if report["hr_overview_seconds"] is not None and report["bare_group_by_seconds"]
        else None
    )
    if report["hr_overview_to_group_by_ratio"] is None:
        unavailable["hr_overview_to_group_by_ratio"] = "needs hr_overview_seconds"
    log("timing a team dashboard")
    _timed(
        report,
        unavailable,
        "team_dashboard_seconds",
        lambda: team_dashboard(engine, plan, org),
        max(repeats, 5),
        cold_key="team_dashboard_cold_seconds",
    )
    _timed(
        report,
        unavailable,
        "team_dashboard_as_page_seconds",
        lambda: team_dashboard(engine, plan, org, weeks=PAGE_WEEKS, constructs=list(PAGE_CONSTRUCTS)),
        max(repeats, 5),
        cold_key="team_dashboard_as_page_cold_seconds",
    )
    log("timing strain detection over all teams")
    report["strain_teams_assessed"] = _timed(
        report, unavailable, "strain_seconds", lambda: strain_detection(engine, plan, org), repeats
    )

    log(f"1 + {SUBMIT_BURSTS} bursts of {SUBMITTERS} concurrent submitters, released at once")
    # Like every figure, the bursts are timed after a warm-up burst: the process's first one also
    # pays its one-off costs (pooled connections, first use of the code). It is reported on its
    # own, as the first burst after a restart of a server whose warmer has run once (the
    # comment-scrubbing name index built, as app.warmup builds it), and its submissions count in
    # sent and stored.
    people = add_submitters(engine, org, 1 + 3 * SUBMIT_BURSTS)
    refresh_name_index(engine)
    first = run_submitters(engine, plan, people[0], key, 2 * SUBMIT_BURSTS)
    report["submit_first_burst_p95_ms"] = (
        round(_quantile(first["latencies"], 0.95) * 1000, 1) if first["latencies"] else None
    )
    bursts = [
        run_submitters(engine, plan, people[1 + burst], key, burst) for burst in range(SUBMIT_BURSTS)
    ]
    log(f"{SUBMIT_BURSTS} rounds of {SUBMITTERS} submitters spread over {PACED_SECONDS:g} s")
    paced = [
        run_submitters(
            engine,
            plan,
            people[1 + SUBMIT_BURSTS + burst],
            key,
            SUBMIT_BURSTS + burst,
            spread_seconds=PACED_SECONDS,
        )
        for burst in range(SUBMIT_BURSTS)
    ]
    log(f"{SUBMIT_BURSTS} reference bursts: the same, with nothing written")
    reference = [
        run_submitters(
            engine,
            plan,
            people[1 + 2 * SUBMIT_BURSTS + burst],
            key,
            2 * SUBMIT_BURSTS + 1 + burst,
            submit_with=submitting_without_writing(engine),
        )
        for burst in range(SUBMIT_BURSTS)
    ]
    report["submit_concurrent_submitters"] = SUBMITTERS
    report["submit_bursts"] = SUBMIT_BURSTS
    for prefix, rounds in (
        ("submit", bursts),
        ("submit_paced", paced),
        ("submit_reference", reference),
    ):
        p50s = [_quantile(b["latencies"], 0.5) * 1000 for b in rounds if b["latencies"]]
        p95s = [_quantile(b["latencies"], 0.95) * 1000 for b in rounds if b["latencies"]]
        report[f"{prefix}_p50_ms"] = round(statistics.median(p50s), 1) if p50s else None
        report[f"{prefix}_p95_ms"] = round(statistics.median(p95s), 1) if p95s else None
        # Each round's own p95: how far apart they are says how much to trust the median.
        report[f"{prefix}_p95_ms_each_round"] = [round(p95, 1) for p95 in p95s]
    report["submit_paced_per_second"] = round(SUBMITTERS / PACED_SECONDS)
    report["submit_max_ms"] = round(max(max(b["latencies"], default=0.0) for b in bursts) * 1000, 1)
    report["submit_burst_wall_seconds"] = round(statistics.median(b["wall_s"] for b in bursts), 3)
    # the reference bursts store nothing, and are checked for it
    report["submit_reference_stored"] = sum(b["stored"] for b in reference)
    report["submit_reference_errors"] = sum(len(b["errors"]) for b in reference)
    everything = [first, *bursts, *paced]
    report["submit_sent"] = sum(b["sent"] for b in everything)
    report["submit_stored"] = sum(b["stored"] for b in everything)
    report["submit_errors"] = sum(len(b["errors"]) for b in everything)
    report["submit_error_examples"] = sorted({e for b in everything for e in b["errors"]})[:3]
    report["peak_rss_mb"] = peak_rss_mb()
    report["unavailable"] = unavailable
    return report


def _url_for_report(engine: Engine) -> str:
    return make_url(str(engine.url)).render_as_string(hide_password=True)


def _backend(engine: Engine) -> str:
    return "sqlite" if is_sqlite(str(engine.url)) else "postgresql"


def platform_info(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        if is_sqlite(str(engine.url)):
            version = connection.execute(text("SELECT sqlite_version()")).scalar_one()
        else:
            version = connection.execute(text("SHOW server_version")).scalar_one()
    return {
        "python": platform.python_version(),
        "database_version": str(version),
        "machine": platform.machine(),
    }
