"""The outcomes export: one row per key result, for HR and for a spreadsheet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date

import pandas as pd
from sqlmodel import Session, select

from analytics.objectives.reading import objective_views
from analytics.objectives.views import KeyResultView, ObjectiveView
from models.outcomes import Objective

# ---------------------------------------------------------------------------------------------
# Export

EXPORT_COLUMNS = [
    "objective_id",
    "objective",
    "teams",
    "starts_on",
    "ends_on",
    "closed",
    "objective_progress",
    "objective_expected",
    "objective_status",
    "objective_computed_status",
    "override_reason",
    "key_result_id",
    "metric",
    "unit",
    "direction",
    "baseline",
    "target",
    "weight",
    "due_date",
    "latest_value",
    "latest_confidence",
    "latest_checked_on",
    "key_result_progress",
    "key_result_expected",
    "key_result_status",
]


def outcomes_export(*, session: Session, today: date) -> list[ObjectiveView]:
    """Every objective with its key results, scored as of ``today`` (for the operator's export)."""
    ids = sorted(session.exec(select(Objective.id)).all())
    return objective_views(session, [i for i in ids if i is not None], today)


def export_rows(views: Sequence[ObjectiveView]) -> pd.DataFrame:
    """One row per key result (an objective without key results gets one row with those blank)."""
    rows: list[dict[str, object]] = []
    for view in views:
        base = {
            "objective_id": view.id,
            "objective": view.title,
            "teams": "; ".join(view.team_names),
            "starts_on": view.starts_on.isoformat(),
            "ends_on": view.ends_on.isoformat(),
            "closed": view.closed,
            "objective_progress": view.progress,
            "objective_expected": view.expected,
            "objective_status": view.status.name,
            "objective_computed_status": view.computed_status.name,
            "override_reason": view.override_reason,
        }
        if not view.key_results:
            rows.append(base)
        for kr in view.key_results:
            rows.append(
                {
                    **base,
                    "key_result_id": kr.id,
                    "metric": kr.metric_name,
                    "unit": kr.unit,
                    "direction": kr.direction,
                    "baseline": kr.baseline,
                    "target": kr.target,
                    "weight": kr.weight,
                    "due_date": kr.due_date.isoformat(),
                    "latest_value": kr.latest_value,
                    "latest_confidence": kr.latest_confidence,
                    "latest_checked_on": kr.latest_checked_on.isoformat()
                    if kr.latest_checked_on
                    else None,
                    "key_result_progress": kr.progress,
                    "key_result_expected": kr.expected,
                    "key_result_status": kr.status.name,
                }
            )
    return pd.DataFrame(rows, columns=EXPORT_COLUMNS)


def export_document(views: Sequence[ObjectiveView], today: date) -> dict[str, object]:
    """The JSON export: objectives with their key results nested, and the rule that scored them."""

    def key_result(kr: KeyResultView) -> dict[str, object]:
        data = asdict(kr)
        data.pop("objective_title")
        data["status"] = kr.status.name
        data["status_explanation"] = kr.status.explanation
        for name in ("due_date", "latest_checked_on"):
            data[name] = data[name].isoformat() if data[name] else None
        return data

    return {
        "generated_on": today.isoformat(),
        "objectives": [
            {
                "id": view.id,
                "title": view.title,
                "description": view.description,
                "teams": list(view.team_names),
                "starts_on": view.starts_on.isoformat(),
                "ends_on": view.ends_on.isoformat(),
                "closed": view.closed,
                "progress": view.progress,
                "expected": view.expected,
                "confidence": view.confidence,
                "status": view.status.name,
                "computed_status": view.computed_status.name,
                "status_explanation": view.status.explanation,
                "override_reason": view.override_reason,
                "key_results": [key_result(kr) for kr in view.key_results],
            }
            for view in views
        ],
    }
