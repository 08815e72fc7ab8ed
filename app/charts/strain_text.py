"""The strain charts in words and tables (see ``app.charts.text``), from the same verdicts the
charts in ``app.charts.strain`` draw."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from analytics.strain import ClusterSummary
from app.charts.strain import cluster_frame
from app.charts.text import ChartText, chart_text, listing, signed
from app.i18n import _


def cluster_overview_text(clusters: Sequence[ClusterSummary], labels: Mapping[str, str]) -> ChartText:
    """Each cluster's profile: the feature where its centre is furthest on the worse side."""
    data = cluster_frame(clusters, labels)
    if data.empty:
        return ChartText(_("No cluster profiles."))
    parts = []
    for name, rows in data.groupby("cluster", sort=False):
        worst = rows.sort_values("sd_worse", ascending=False).iloc[0]
        parts.append(
            _("{cluster} worst on {feature} ({sd} SD)").format(
                cluster=name, feature=worst["feature"], sd=signed(worst["sd_worse"], 1)
            )
        )
    summary = _("Cluster profiles in standard deviations worse than the average team: {parts}.").format(
        parts="; ".join(parts)
    )
    table = data.assign(sd_worse=data["sd_worse"].map(lambda v: signed(v, 2)))
    return chart_text(
        summary,
        table,
        {"cluster": _("Cluster"), "feature": _("Feature"), "sd_worse": _("SD worse than average")},
    )


def team_scores_text(table: pd.DataFrame) -> ChartText:
    """Composite strain scores: how many teams are assessed and which are flagged."""
    data = table[table["score"].notna()] if not table.empty else table
    if data.empty:
        return ChartText(_("No team has a strain score."))
    flagged = list(data[data["flagged"].astype(bool)].sort_values("score", ascending=False)["name"])
    summary = _("Composite strain score of {count} teams; {flagged} flagged: {names}.").format(
        count=len(data), flagged=len(flagged), names=listing(flagged) or _("none")
    )
    data = data.sort_values("score", ascending=False)
    shown = data.assign(
        score=data["score"].map(lambda v: signed(v, 2)),
        flagged=data["flagged"].map(lambda f: _("flagged") if f else _("not flagged")),
    )
    return chart_text(
        summary,
        shown,
        {
            "team": _("Team"),
            "name": _("Name"),
            "cluster": _("Cluster"),
            "score": _("Score"),
            "flagged": _("Flag"),
            "alert": _("Sustained-drop alert"),
        },
    )
