"""What a chart shows, in words and as a table, for people who cannot see it (WCAG 1.1.1).

Each chart builder has a companion in the per-area modules (``hr_text``, ``team_text``,
``insight_text``, ``strain_text``) that takes the same released frame the chart draws and returns a
``ChartText``: a short summary (the chart's accessible name and caption) and a table with readable
column names. Built from the chart's own input, the text can release nothing the chart does not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from app.i18n import _


@dataclass(frozen=True)
class ChartText:
    """A chart's text alternative: one or two sentences and the figures it draws."""

    summary: str
    table: pd.DataFrame = field(default_factory=pd.DataFrame)


def missing(value: object) -> bool:
    """True for None and NaN (pandas turns a missing count into NaN)."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def people(value: object) -> str:
    """A head count as a whole number ("12", never "12.0"); blank when there is none."""
    if missing(value) or value == "":
        return ""
    try:
        return str(int(float(value)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)  # already words, e.g. a band


def number(value: object, digits: int = 1) -> str:
    """A figure rounded for reading; blank when missing."""
    return "" if missing(value) else f"{float(value):.{digits}f}"  # type: ignore[arg-type]


def percent(value: object) -> str:
    """A share (0-1) as a whole percentage; blank when missing."""
    return "" if missing(value) else f"{float(value):.0%}"  # type: ignore[arg-type]


def signed(value: object, digits: int = 0) -> str:
    """A difference with its sign (+3, -2)."""
    return "" if missing(value) else f"{float(value):+.{digits}f}"  # type: ignore[arg-type]


def listing(items: Sequence[str], limit: int = 4) -> str:
    """Names for a sentence: "A, B and C", or "A, B, C, D and 3 more"."""
    items = [str(item) for item in items]
    if not items:
        return ""
    if len(items) > limit:
        rest = len(items) - limit
        return _("{names} and {count} more").format(names=", ".join(items[:limit]), count=rest)
    if len(items) == 1:
        return items[0]
    return _("{names} and {last}").format(names=", ".join(items[:-1]), last=items[-1])


def readable(frame: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    """``frame``'s ``columns`` (raw name -> heading) only, renamed, cells as text, no raw None."""
    present = [column for column in columns if column in frame.columns]
    shown = frame[present].rename(columns={c: columns[c] for c in present}).reset_index(drop=True)
    return shown.astype(object).where(shown.notna(), "")


def label(name: str) -> str:
    """A construct's code as words ("manager_support" -> "Manager support")."""
    return str(name).replace("_", " ").capitalize()
