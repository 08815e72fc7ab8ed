"""Open-data style releases of gated aggregates (CLI ``wellbeing export aggregates`` and the HR
page's downloads). Records come only from the gate's ``organisation_figures``; suppressed records
carry their reason and no mean, interval or count.

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

from analytics.aggregates import OrgTree, instrument_versions, known_weeks, load_tree
from analytics.gate import (
    EXACT_COUNT_FROM,
    FIGURE_COLUMNS,
    REASON_NEIGHBOUR,
    REASON_TOO_FEW,
    PrivacyRules,
    organisation_figures,
    rules_in_force,
)
from models import audit
from models.access import Viewer
from models.csv_safe import frame_to_csv

# The published record: the gate's figure columns without its internal "basis" note.
RECORD_COLUMNS: tuple[str, ...] = tuple(column for column in FIGURE_COLUMNS if column != "basis")
LEVELS: tuple[str, ...] = ("team", "unit", "organisation")
EXPORT_BY: tuple[str, ...] = ("week", "window")


@dataclass(frozen=True)
class Release:
    metadata: dict[str, Any]
    records: list[dict[str, Any]]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.records, columns=list(RECORD_COLUMNS))


def _level_of(tree: OrgTree, unit_code: str, codes: dict[str, int]) -> str:
    unit = tree.units[codes[unit_code]]
    if tree.parent(unit.id) is None:
        return "organisation"
    return "team" if unit.kind == "team" else "unit"


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def default_range(session: Session) -> tuple[str, str] | None:
    """The first and last pulse periods on record, or None when there are none."""
    weeks = known_weeks(session)
    return (weeks[0], weeks[-1]) if weeks else None


def build_release(
    *,
    session: Session,
    viewer: Viewer,
    rules: PrivacyRules,
    level: str,
    start_week: str,
    end_week: str,
    by: str = "week",
    organisation_id: int | None = None,
    generated_at: datetime | None = None,
) -> Release:
    """Gated records at one level (team, unit = any unit between organisation and team, or
    organisation) with the metadata a publisher needs: range, thresholds, instruments, time."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    if by not in EXPORT_BY:
        raise ValueError(f"by must be one of {', '.join(EXPORT_BY)}, not {by!r}")
    if start_week > end_week:
        raise ValueError(f"the range starts ({start_week}) after it ends ({end_week})")
    figures = organisation_figures(
        session=session,
        viewer=viewer,
        rules=rules,
        start_week=start_week,
        end_week=end_week,
        by=by,
        organisation_id=organisation_id,
    )
    tree = load_tree(session)
    codes = {unit.code: unit.id for unit in tree.units.values()}
    roots = [tree.root_of(organisation_id)] if organisation_id is not None else tree.roots
    records: list[dict[str, Any]] = []
    for row in figures.to_dict("records"):
        if _level_of(tree, row["unit"], codes) != level:
            continue
        records.append({column: _clean(row[column]) for column in RECORD_COLUMNS})
    thresholds = {}
    for root in roots:
        in_force = rules_in_force(
            session, organisation_id=root, start_week=start_week, end_week=end_week, defaults=rules
        )
        thresholds[tree.units[root].code] = {
            "min_group_size": in_force.min_group_size,
            "min_comment_group_size": in_force.min_comment_group_size,
            "pooling_weeks": in_force.pooling_weeks,
        }
    metadata = {
        "title": "Wellbeing pulse: gated aggregates",
        "level": level,
        "by": by,
        "period_start": start_week,
        "period_end": end_week,
        "thresholds": thresholds,
        "instrument_versions": instrument_versions(
            session, team_ids=None, start_week=start_week, end_week=end_week
        ),
        "generated_at": (generated_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        "record_count": len(records),
        "notes": [
            "Every figure passed the privacy gate: at least min_group_size responses lie behind it, "
            "and no suppressed group can be recovered by subtracting released figures within a parent.",
            f"n is exact from {EXACT_COUNT_FROM} responses; below that it is a band such as '5-9'.",
            "ci_low/ci_high: 95% t-interval of the mean.",
            f"reason: '{REASON_TOO_FEW}' or '{REASON_NEIGHBOUR}' (complementary suppression); "
            "suppressed records carry no mean, interval or n.",
            "Scales: wellbeing 0-100 (WHO-5 %), HSE domains 1-5 (higher is better), ONS4 0-10.",
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
            for key in ("level", "by", "period_start", "period_end", "record_count")
        },
    )
