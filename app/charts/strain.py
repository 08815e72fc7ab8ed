"""Strain charts: pure functions from the strain verdicts to Altair charts (tests read to_dict())."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import pandas as pd

from analytics.strain import ClusterSummary
from app.charts import palette
from app.i18n import _

SD_DOMAIN = [-2.0, 2.0]


def cluster_frame(clusters: Sequence[ClusterSummary], labels: Mapping[str, str]) -> pd.DataFrame:
    """One row per cluster and feature: how many SD worse than average the cluster's centre is."""
    rows = [
        {
            "cluster": f"{cluster.cluster} ({cluster.size} teams)",
            "feature": labels.get(feature, feature),
            "sd_worse": round(value, 2),
            "on_bad_side": cluster.on_bad_side,
        }
        for cluster in clusters
        for feature, value in cluster.centroid.items()
    ]
    return pd.DataFrame(rows, columns=["cluster", "feature", "sd_worse", "on_bad_side"])


def cluster_overview_chart(
    clusters: Sequence[ClusterSummary], labels: Mapping[str, str]
) -> alt.LayerChart:
    """Heatmap of cluster centres: rows are clusters (worst first), columns features; red is worse
    than average, blue better, with the value written in each cell for readers who cannot see colour."""
    data = cluster_frame(clusters, labels)
    order = list(dict.fromkeys(data["cluster"]))
    base = alt.Chart(data, title=_("Cluster profiles (standard deviations worse than the average team)"))
    cells = base.mark_rect().encode(
        x=alt.X("feature:N", title=None, axis=alt.Axis(labelAngle=-30, labelLimit=220)),
        y=alt.Y("cluster:N", title=None, sort=order),
        color=alt.Color(
            "sd_worse:Q",
            title=_("SD worse"),
            scale=alt.Scale(
                domain=[SD_DOMAIN[0], 0.0, SD_DOMAIN[1]],
                range=list(reversed(palette.DIVERGING)),
                clamp=True,
            ),
        ),
        tooltip=[
            alt.Tooltip("cluster:N", title=_("Cluster")),
            alt.Tooltip("feature:N", title=_("Feature")),
            alt.Tooltip("sd_worse:Q", title=_("SD worse than average"), format="+.2f"),
        ],
    )
    text = base.mark_text(fontSize=11, color=palette.ON_FILL_TEXT).encode(
        x=alt.X("feature:N"),
        y=alt.Y("cluster:N", sort=order),
        text=alt.Text("sd_worse:Q", format="+.1f"),
    )
    return alt.layer(cells, text)


def team_scores_chart(table: pd.DataFrame, threshold: float | None) -> alt.LayerChart:
    """Each assessed team's composite strain score (higher is worse), coloured by cluster, flagged
    teams as filled points, with the flag threshold as a dashed rule."""
    data = table[table["score"].notna()][["team", "name", "cluster", "score", "flagged", "alert"]].copy()
    data["status"] = data["flagged"].map({True: "flagged", False: "not flagged"})
    points = (
        alt.Chart(data, title=_("Composite strain score by team"))
        .mark_point(size=70)
        .encode(
            x=alt.X("score:Q", title=_("Strain score (mean SD worse; higher is worse)")),
            y=alt.Y("cluster:N", title=None),
            color=alt.Color(
                "cluster:N", title=_("Cluster"), scale=alt.Scale(range=list(palette.CATEGORICAL))
            ),
            shape=alt.Shape(
                "status:N",
                title=None,
                scale=alt.Scale(domain=["flagged", "not flagged"], range=["triangle-up", "circle"]),
            ),
            fill=alt.Fill(
                "status:N",
                legend=None,
                scale=alt.Scale(domain=["flagged", "not flagged"], range=[palette.BAD, "transparent"]),
            ),
            tooltip=[
                alt.Tooltip("team:N", title=_("Team")),
                alt.Tooltip("name:N", title=_("Name")),
                alt.Tooltip("cluster:N", title=_("Cluster")),
                alt.Tooltip("score:Q", title=_("Score"), format="+.2f"),
                alt.Tooltip("status:N", title=_("Flag")),
                alt.Tooltip("alert:N", title=_("Sustained-drop alert")),
            ],
        )
    )
    if threshold is None:
        return alt.layer(points)
    rule = (
        alt.Chart(pd.DataFrame({"threshold": [round(threshold, 3)]}))
        .mark_rule(strokeDash=[5, 4], color=palette.BAD)
        .encode(
            x="threshold:Q",
            tooltip=[alt.Tooltip("threshold:Q", title=_("Flag threshold"), format=".2f")],
        )
    )
    return alt.layer(points, rule)
