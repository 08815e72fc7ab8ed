"""Published norms to read gated figures against (sources in the shared reference, section A).

- WHO-5 percentage score: 50 or below indicates poor wellbeing and warrants screening for
  depression (Topp et al. 2015; raw score below 13).
- HSE Management Standards domains: organisational benchmark percentiles p20/p50/p80 of domain
  means (HSE Analysis Tool, 136 organisations; single code source, to verify before release).
  Bands as the Analysis Tool uses them: below p20 urgent action, p20-p50 clear need for
  improvement, p50-p80 good but room to improve, p80 and above good practice.
- ONS4 personal wellbeing: UK averages, year ending March 2023 (ONS).

A comparison is only as good as the figure: it is made for released figures only.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

#: WHO-5 percentage score at or below which wellbeing is poor (raw score below 13; Topp et al.
#: 2015). The one definition: outcomes, strain and the charts import it.
WHO5_CUTOFF = 50.0
HSE_BENCHMARKS: dict[str, tuple[float, float, float]] = {
    "demands": (2.9387, 3.1024, 3.2937),
    "control": (3.224, 3.4741, 3.7208),
    "manager_support": (3.272, 3.4603, 3.65),
    "peer_support": (3.627, 3.78, 3.8892),
    "relationships": (3.6115, 3.8499, 4.0381),
    "role": (4.0356, 4.1803, 4.3117),
    "change": (2.791, 3.0428, 3.24),
}
ONS4_UK_AVERAGES: dict[str, float] = {
    "life_satisfaction": 7.45,
    "worthwhile": 7.73,
    "happiness": 7.39,
    "anxiety": 3.23,
}
ONS4_SOURCE = "ONS, UK average, year ending March 2023"
HSE_SOURCE = "HSE Analysis Tool benchmark (136 organisations), to verify"
WHO5_SOURCE = "WHO-5 cut-off (Topp et al. 2015)"


def who5_poor(score: float) -> bool:
    """At or below the WHO-5 cut-off: the published boundary (50 itself counts as poor)."""
    return score <= WHO5_CUTOFF


@dataclass(frozen=True)
class NormLine:
    """A reference value to draw beside a construct's figures."""

    construct: str
    label: str
    value: float
    source: str


def norm_lines(constructs: list[str] | None = None) -> list[NormLine]:
    """Every reference value for the given constructs (all known ones by default)."""
    lines = [NormLine("wellbeing", "WHO-5 cut-off", WHO5_CUTOFF, WHO5_SOURCE)]
    for construct, (p20, p50, p80) in HSE_BENCHMARKS.items():
        lines += [
            NormLine(construct, "HSE p20", p20, HSE_SOURCE),
            NormLine(construct, "HSE p50", p50, HSE_SOURCE),
            NormLine(construct, "HSE p80", p80, HSE_SOURCE),
        ]
    lines += [
        NormLine(construct, "UK average", value, ONS4_SOURCE)
        for construct, value in ONS4_UK_AVERAGES.items()
    ]
    return [line for line in lines if constructs is None or line.construct in constructs]


def norm_band(construct: str, mean: float | None) -> str | None:
    """How a released mean reads against its norm, in words; None without a norm or a mean."""
    if mean is None or pd.isna(mean):
        return None
    if construct == "wellbeing":
        return "at or below WHO-5 cut-off (50)" if who5_poor(mean) else "above WHO-5 cut-off (50)"
    if construct in HSE_BENCHMARKS:
        p20, p50, p80 = HSE_BENCHMARKS[construct]
        if mean < p20:
            return "below HSE p20: urgent action"
        if mean < p50:
            return "HSE p20-p50: clear need for improvement"
        if mean < p80:
            return "HSE p50-p80: good, room to improve"
        return "HSE p80 or above: good practice"
    if construct in ONS4_UK_AVERAGES:
        average = ONS4_UK_AVERAGES[construct]
        if construct == "anxiety":
            return "more anxious than UK average" if mean > average else "less anxious than UK average"
        return "above UK average" if mean > average else "at or below UK average"
    return None


def with_norms(figures: pd.DataFrame) -> pd.DataFrame:
    """The figures with a ``norm`` column (reading against the published norm) added."""
    frame = figures.copy()
    frame["norm"] = [
        norm_band(construct, None if suppressed else mean)
        for construct, mean, suppressed in zip(
            frame.get("construct", []), frame.get("mean", []), frame.get("suppressed", []), strict=True
        )
    ]
    return frame
