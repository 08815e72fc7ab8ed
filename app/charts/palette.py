"""The one colour palette of every chart: each colour at least 3:1 against the white page (WCAG
1.4.11, non-text contrast), distinguishable with the common colour-vision deficiencies (after
Okabe-Ito and Paul Tol, darkened where needed), and never the only carrier of a status: charts
pair each status colour with a shape, a dash or a written label.
"""

from __future__ import annotations

BACKGROUND = "#ffffff"
MIN_CONTRAST = 3.0  # WCAG 2.2 SC 1.4.11 for graphical objects

# Series (units, clusters, bases): in order of use.
CATEGORICAL: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#007A5E",  # bluish green
    "#AA4499",  # purple-pink
    "#8C6D00",  # dark yellow
    "#332288",  # indigo
    "#B2182B",  # red
    "#4D4D4D",  # dark grey
)

GOOD = "#1B7837"  # better than the comparison (paired with a label or an upward shape)
BAD = "#B2182B"  # worse (paired with a label or a triangle)
NEUTRAL = "#6E6E6E"  # no clear change, or not flagged
SUPPRESSED = "#8A8A8A"  # a suppressed cell (paired with a cross and the word "suppressed")
MARK_TEXT = "#1A1A1A"  # text drawn on the white page
ON_FILL_TEXT = "#FFFFFF"  # text drawn on a coloured cell (every fill here is >= 4.5:1 with white)
RULE = "#4D4D4D"  # reference lines (cut-offs, thresholds, zero)

# Diverging scale for heatmaps: worse - middle - better; each stop is dark enough for white text.
DIVERGING: tuple[str, str, str] = (BAD, "#767676", GOOD)

# Norm ticks (one per published reference line), darkest first.
NORM_GREYS: tuple[str, ...] = ("#1A1A1A", "#4D4D4D", "#6E6E6E")


def _luminance(colour: str) -> float:
    value = colour.lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str = BACKGROUND) -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def categorical(count: int) -> list[str]:
    """``count`` series colours (repeating past the palette: series are also named in the table)."""
    return [CATEGORICAL[i % len(CATEGORICAL)] for i in range(count)]


ALL_COLOURS: tuple[str, ...] = (
    *CATEGORICAL,
    GOOD,
    BAD,
    NEUTRAL,
    SUPPRESSED,
    MARK_TEXT,
    RULE,
    *DIVERGING,
    *NORM_GREYS,
)
