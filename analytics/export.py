"""Open-data style releases of released aggregates (CLI ``wellbeing export aggregates`` and the HR
page's downloads). Records come only from the store of frozen releases, through the gate's
``organisation_figures``; suppressed records carry their reason and no mean or count.

JSON: ``{"metadata": {...}, "records": [...]}``. CSV: the same record columns, one row per record;
its metadata goes to a sidecar ``<file>.metadata.json`` (so the CSV loads with a plain
``pandas.read_csv``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlmodel import Session

from analytics.aggregates import OrgTree, instrument_versions, load_tree
from analytics.privacy import (
    EXACT_COUNT_FROM,
    PARTICIPATION,
    REASON_NEIGHBOUR,
    REASON_PERIOD,
    REASON_TOO_FEW,
    RECORD_COLUMNS,
    PrivacyRules,
    organisation_figures,
    released_periods,
)
from analytics.privacy.rules import rules_for_period
from models import audit, calendar
from models.access import Viewer
from models.csv_safe import frame_to_csv

LEVELS: tuple[str, ...] = ("team", "unit", "organisation")


@dataclass(frozen=True)
class Release:
    metadata: dict[str, Any]
    records: list[dict[str, Any]]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.records, columns=list(RECORD_COLUMNS))


def _level_of(tree: OrgTree, unit_id: int) -> str:
    if tree.parent(unit_id) is None:
        return "organisation"
    return "team" if tree.units[unit_id].kind == "team" else "unit"


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def select_periods(
    released: list[str], kind: calendar.PeriodKind, start: str | None, end: str | None
) -> list[str]:
    """Released periods of ``kind`` between two labels of that kind (whole periods only); raises
    calendar.PeriodError naming the allowed forms for anything else."""
    if start is not None:
        calendar.parse(start, kind)
    if end is not None:
        calendar.parse(end, kind)
    if start is not None and end is not None and start > end:
        raise calendar.PeriodError(f"{start} is after {end}")
    return [p for p in released if (start is None or p >= start) and (end is None or p <= end)]


def build_release(
    *,
    session: Session,
    viewer: Viewer,
    rules: PrivacyRules,
    level: str,
    kind: calendar.PeriodKind = "week",
    start: str | None = None,
    end: str | None = None,
    organisation_id: int | None = None,
    generated_at: datetime | None = None,
) -> Release:
    """Released records at one level (team; unit = any unit between organisation and team;
    organisation) for every released period of ``kind`` (or those from ``start`` to ``end``),
    with the metadata a publisher needs: periods, thresholds, instruments, time."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    if kind not in calendar.PERIOD_KINDS:
        raise ValueError(f"period must be one of {', '.join(calendar.PERIOD_KINDS)}, not {kind!r}")
    periods = select_periods(released_periods(session, kind=kind), kind, start, end)
    figures = organisation_figures(
        session=session, viewer=viewer, kind=kind, periods=periods, organisation_id=organisation_id
    )
    tree = load_tree(session)
    records: list[dict[str, Any]] = [
        {column: _clean(row[column]) for column in RECORD_COLUMNS}
        for row in figures.to_dict("records")
        if row["construct"] != PARTICIPATION and _level_of(tree, int(row["unit_id"])) == level
    ]
    roots = [tree.root_of(organisation_id)] if organisation_id is not None else tree.roots
    thresholds = {}
    for root in roots:
        in_force = (
            rules_for_period(session, organisation_id=root, period=periods[-1], defaults=rules)
            if periods
            else rules
        )
        thresholds[tree.units[root].code] = {
            "min_group_size": in_force.min_group_size,
            "min_comment_group_size": in_force.min_comment_group_size,
            "pooling_period": in_force.pooling_period,
        }
    first = calendar.first_week(periods[0]) if periods else None
    last = calendar.last_week(periods[-1]) if periods else None
    metadata = {
        "title": "Wellbeing pulse: released aggregates",
        "level": level,
        "period": kind,
        "periods": periods,
        "period_start": first,
        "period_end": last,
        "thresholds": thresholds,
        "instrument_versions": instrument_versions(
            session, team_ids=None, start_week=first, end_week=last
        )
        if periods
        else [],
        "generated_at": (generated_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        "record_count": len(records),
        "notes": [
            "Figures exist only for closed calendar periods (ISO week; month, quarter and year made "
            "of the weeks whose Thursday they hold), released once after a grace period and never "
            "revised.",
            "Every figure passed the privacy gate: at least min_group_size distinct people lie "
            "behind it, and no combination of released figures (other units, other periods) "
            "isolates fewer.",
            f"n is the number of people: exact from {EXACT_COUNT_FROM}; below that a band such as "
            "'5-9'.",
            "mean: wellbeing (WHO-5, 0-100) as a whole number; HSE domains (1-5) and ONS4 (0-10) "
            "to one decimal. No interval or spread is published for a cell.",
            f"reason: '{REASON_TOO_FEW}', '{REASON_NEIGHBOUR}' or '{REASON_PERIOD}' "
            "(complementary suppression); suppressed records carry no mean or n.",
        ],
        "columns": list(RECORD_COLUMNS),
    }
    return Release(metadata=metadata, records=records)


def to_json(release: Release) -> str:
    return json.dumps({"metadata": release.metadata, "records": release.records}, indent=2)


def to_csv(release: Release) -> str:
    return frame_to_csv(release.frame())  # spreadsheet-safe text cells


def metadata_json(release: Release) -> str:
    return json.dumps(release.metadata, indent=2)


def record_export(session: Session, *, actor: str, release: Release, destination: str) -> None:
    """Audit an export (the caller commits)."""
    audit.record(
        session,
        actor=actor,
        action="export_aggregates",
        target=destination,
        detail={
            key: release.metadata[key]
            for key in ("level", "period", "period_start", "period_end", "record_count")
        },
    )
