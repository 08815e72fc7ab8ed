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

from app.i18n import _, format_decimal, format_percent


@dataclass(frozen=True)
class ChartText:
    """A chart's text alternative: one or two sentences and the figures it draws."""

    summary: str
    table: pd.DataFrame = field(default_factory=pd.DataFrame)


def missing(value: object) -> bool:
    """True for None and NaN (pandas turns a missing count into NaN)."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _digits(digits: int) -> str:
    """A Babel pattern with ``digits`` decimals and no grouping ("0.0"), as the charts' axes show."""
    return "0." + "0" * digits if digits > 0 else "0"


def people(value: object) -> str:
    """A head count as a whole number ("12", never "12.0"); blank when there is none."""
    if missing(value) or value == "":
        return ""
    try:
        count = int(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)  # already words, e.g. a band
    return format_decimal(count, "0")


def number(value: object, digits: int = 1) -> str:
    """A figure rounded for reading, in the reader's locale; blank when missing."""
    return "" if missing(value) else format_decimal(float(value), _digits(digits))  # type: ignore[arg-type]


def percent(value: object, *, sign: bool = False) -> str:
    """A share (0-1) as a whole percentage in the reader's locale, with its sign if ``sign``;
    blank when missing."""
    if missing(value):
        return ""
    share = float(value)  # type: ignore[arg-type]
    shown = format_percent(abs(share) if sign else share, "0%")
    return _signed_text(share, shown) if sign else shown


def signed(value: object, digits: int = 0) -> str:
    """A difference with its sign (+3, -2), in the reader's locale."""
    if missing(value):
        return ""
    figure = float(value)  # type: ignore[arg-type]
    return _signed_text(figure, format_decimal(abs(figure), _digits(digits)))


def _signed_text(value: float, magnitude: str) -> str:
    """``magnitude`` (the figure without its sign) after a "+" or "-" as Python's "+" format gives."""
    return ("-" if value < 0 or (value == 0 and str(value).startswith("-")) else "+") + magnitude


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


def released_figures(rows: pd.DataFrame, digits: int = 1) -> pd.DataFrame:
    """``rows`` with each ``mean`` rounded to ``digits`` and each ``n`` as whole people: how every
    table of released means shows them, so a mean and its head count read alike in every chart."""
    return rows.assign(mean=rows["mean"].map(lambda m: number(m, digits)), n=rows["n"].map(people))


def chart_text(summary: str, table: pd.DataFrame, columns: Mapping[str, str]) -> ChartText:
    """``summary`` with ``table`` made ``readable`` under ``columns``: every chart's text is put
    together this one way, so no chart can show a raw column name or a raw None."""
    return ChartText(summary, readable(table, columns))


def label(name: str) -> str:
    """A construct's code as words ("manager_support" -> "Manager support")."""
    return str(name).replace("_", " ").capitalize()
