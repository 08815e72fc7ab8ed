"""Driver (key-driver) analysis: which work conditions go with an outcome, and by how much.

Importance is each driver's share of the explained variance R² of a linear regression of the
outcome on all drivers, split so that correlated drivers share credit fairly:

- **general dominance** (Budescu 1993; Shapley-value regression): a driver's R² gain averaged over
  every sub-model of the other drivers, sizes weighted equally. Exact, sums to R². Used up to
  ``DOMINANCE_MAX_DRIVERS`` drivers (2^p - 1 sub-models).
- **relative weights** (Johnson 2000) beyond that: fast, sums to R², and agrees closely.

Uncertainty comes from a bootstrap that resamples whole groups (teams, companies) when groups are
given, since people in one group are not independent; otherwise rows. The interval is the 2.5 and
97.5 percentiles of the resampled importances.

This module works on a plain table; what may be computed from the database, and for whom, is in
``analytics.driver_release``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd

DOMINANCE_MAX_DRIVERS = 10
DEFAULT_BOOTSTRAP = 1000
DEFAULT_SEED = 20260
INTERVAL = 0.95


class DriverError(ValueError):
    """A table that cannot be analysed (too few rows, no variation, unknown columns)."""


@dataclass(frozen=True)
class DriverImportance:
    driver: str
    importance: float  # share of R² (the weights sum to R²)
    low: float
    high: float


@dataclass(frozen=True)
class DriverResult:
    """Importances ranked highest first, with the fit they split and what was left out."""

    outcome: str
    n: int
    r2: float
    drivers: list[DriverImportance]
    method: str
    dropped: int = 0
    groups: int | None = None
    resamples: int = 0
    top_agreement: float | None = None  # share of resamples whose top driver is the reported one
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The published form (the CLI's JSON): importances to four decimals."""
        return {
            "outcome": self.outcome,
            "n": self.n,
            "r2": round(self.r2, 4),
            "drivers": [
                {
                    "driver": d.driver,
                    "importance": round(d.importance, 4),
                    "low": round(d.low, 4),
                    "high": round(d.high, 4),
                }
                for d in self.drivers
            ],
            "method": self.method,
            "dropped": self.dropped,
            "groups": self.groups,
            "resamples": self.resamples,
            "top_agreement": None if self.top_agreement is None else round(self.top_agreement, 3),
        }


def r2_from_correlations(corr: np.ndarray, subset: Sequence[int]) -> np.ndarray:
    """R² of the outcome (last row/column) on ``subset`` of the drivers, for a stack of
    correlation matrices (shape ``(..., p + 1, p + 1)``)."""
    if not subset:
        return np.zeros(corr.shape[:-2])
    idx = list(subset)
    rxx = corr[..., idx, :][..., :, idx]
    rxy = corr[..., idx, -1]
    beta = np.linalg.solve(rxx + 1e-10 * np.eye(len(idx)), rxy[..., None])[..., 0]
    return np.einsum("...i,...i->...", beta, rxy)


def dominance_weights(corr: np.ndarray) -> np.ndarray:
    """General dominance weights for a stack of correlation matrices; shape ``(..., p)``."""
    p = corr.shape[-1] - 1
    r2: dict[frozenset[int], np.ndarray] = {frozenset(): np.zeros(corr.shape[:-2])}
    for size in range(1, p + 1):
        for subset in combinations(range(p), size):
            r2[frozenset(subset)] = r2_from_correlations(corr, subset)
    weights = np.zeros((*corr.shape[:-2], p))
    for i in range(p):
        others = [j for j in range(p) if j != i]
        for size in range(p):
            share = factorial(size) * factorial(p - size - 1) / factorial(p)
            for subset in combinations(others, size):
                base = frozenset(subset)
                weights[..., i] += share * (r2[base | {i}] - r2[base])
    return weights


def relative_weights(corr: np.ndarray) -> np.ndarray:
    """Johnson's relative weights for a stack of correlation matrices; shape ``(..., p)``."""
    rxx = corr[..., :-1, :-1]
    rxy = corr[..., :-1, -1]
    values, vectors = np.linalg.eigh(rxx)
    root = vectors @ (np.sqrt(np.clip(values, 0, None))[..., :, None] * np.swapaxes(vectors, -1, -2))
    beta = np.linalg.solve(root + 1e-10 * np.eye(rxx.shape[-1]), rxy[..., None])[..., 0]
    return np.einsum("...ij,...j->...i", root**2, beta**2)


def _weights(corr: np.ndarray) -> tuple[np.ndarray, str]:
    p = corr.shape[-1] - 1
    if p <= DOMINANCE_MAX_DRIVERS:
        return dominance_weights(corr), "general dominance"
    return relative_weights(corr), "relative weights"


def _correlations(counts: np.ndarray, n: np.ndarray, sums: np.ndarray, cross: np.ndarray) -> np.ndarray:
    """Correlation matrices of resampled data from per-group sufficient statistics.

    ``counts`` (B, G): how often each group is drawn; ``n`` (G,), ``sums`` (G, q), ``cross`` (G, q, q).
    """
    total = counts @ n
    mean = (counts @ sums) / total[:, None]
    second = np.einsum("bg,gij->bij", counts, cross) / total[:, None, None]
    cov = second - mean[:, :, None] * mean[:, None, :]
    variance = np.diagonal(cov, axis1=1, axis2=2)
    flat = variance <= 1e-12 * np.maximum(np.abs(second.diagonal(axis1=1, axis2=2)), 1e-300)
    sd = np.sqrt(np.where(flat, 1.0, variance))
    corr = cov / (sd[:, :, None] * sd[:, None, :])
    # A column that does not vary in a resample (a rare value left out) explains nothing there.
    corr = np.where(flat[:, :, None] | flat[:, None, :], 0.0, corr)
    index = np.arange(corr.shape[-1])
    corr[:, index, index] = 1.0
    return corr


def analyse(
    table: pd.DataFrame,
    *,
    outcome: str,
    drivers: Sequence[str],
    group: str | None = None,
    resamples: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    dropped: int = 0,
) -> DriverResult:
    """Importance of each of ``drivers`` for ``outcome`` in a complete numeric table (no blanks)."""
    if not drivers:
        raise DriverError("there are no driver columns to analyse")
    columns = [*drivers, outcome]
    data = table[columns].to_numpy(dtype=float)
    n_rows = data.shape[0]
    if n_rows < len(drivers) + 3:
        raise DriverError(f"{n_rows} complete rows are too few for {len(drivers)} drivers")
    with np.errstate(over="ignore", invalid="ignore"):
        spread = data.std(axis=0)
    if not np.isfinite(spread).all():
        too_large = [name for name, ok in zip(columns, np.isfinite(spread), strict=True) if not ok]
        raise DriverError(
            f"values too large to analyse in {', '.join(map(repr, too_large))} (a spreadsheet "
            "error or a wrong unit?)"
        )
    if not spread[-1] > 0:
        raise DriverError(f"the outcome {outcome!r} does not vary")
    if group is not None:
        codes, _ = pd.factorize(table[group], sort=True)
    else:
        codes = np.arange(n_rows)
    n_groups = int(codes.max()) + 1
    centred = data - data.mean(axis=0)  # centre once: the sums of squares stay well conditioned
    n = np.bincount(codes, minlength=n_groups).astype(float)
    sums = np.zeros((n_groups, len(columns)))
    np.add.at(sums, codes, centred)
    cross = np.zeros((n_groups, len(columns), len(columns)))
    np.add.at(cross, codes, centred[:, :, None] * centred[:, None, :])

    full = _correlations(np.ones((1, n_groups)), n, sums, cross)
    point, method = _weights(full)
    point = point[0]
    r2 = float(r2_from_correlations(full, list(range(len(drivers))))[0])

    low = high = point
    agreement = None
    if resamples > 0 and n_groups >= 2:
        rng = np.random.default_rng(seed)
        draws = []
        chunk = max(1, min(resamples, 2_000_000 // max(n_groups, 1)))
        done = 0
        while done < resamples:
            size = min(chunk, resamples - done)
            counts = rng.multinomial(n_groups, np.full(n_groups, 1 / n_groups), size=size).astype(float)
            weights, _ = _weights(_correlations(counts, n, sums, cross))
            draws.append(weights)
            done += size
        boot = np.concatenate(draws)
        tail = (1 - INTERVAL) / 2
        low, high = np.quantile(boot, [tail, 1 - tail], axis=0)
        agreement = float(np.mean(np.argmax(boot, axis=1) == int(np.argmax(point))))
    ranked = sorted(
        (
            DriverImportance(name, float(point[i]), float(low[i]), float(high[i]))
            for i, name in enumerate(drivers)
        ),
        key=lambda d: -d.importance,
    )
    return DriverResult(
        outcome=outcome,
        n=n_rows,
        r2=r2,
        drivers=ranked,
        method=method,
        dropped=dropped,
        groups=n_groups if group is not None else None,
        resamples=resamples if n_groups >= 2 else 0,
        top_agreement=agreement,
    )


def analyse_table(
    table: pd.DataFrame,
    *,
    outcome: str,
    group: str | None = None,
    drivers: Sequence[str] | None = None,
    resamples: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
) -> DriverResult:
    """A person-level table as a user brings it: every numeric column other than the outcome and
    the group is a driver unless ``drivers`` names them; rows with a blank in a used column are
    dropped and counted."""
    missing = [c for c in [outcome, group, *(drivers or [])] if c is not None and c not in table]
    if missing:
        raise DriverError(f"no such column: {', '.join(missing)} (columns: {', '.join(table.columns)})")
    if drivers is None:  # an unnamed column is a saved row index ("Unnamed: 0"), not a driver
        drivers = [
            c
            for c in table.columns
            if c not in (outcome, group)
            and pd.api.types.is_numeric_dtype(table[c])
            and not str(c).startswith("Unnamed: ")
        ]
    drivers = list(dict.fromkeys(drivers))
    if outcome in drivers or (group is not None and group in drivers):
        raise DriverError("the outcome and the group cannot also be drivers")
    used = [*drivers, outcome, *([group] if group else [])]
    frame = table[used].copy()
    for column in [*drivers, outcome]:
        converted = pd.to_numeric(frame[column], errors="coerce")
        bad = frame[column].notna() & converted.isna()
        if bad.any():
            value = frame.loc[bad[bad].index[0], column]
            raise DriverError(f"column {column!r} must be numeric; it holds {value!r}")
        frame[column] = converted
    complete = frame.dropna()
    return analyse(
        complete,
        outcome=outcome,
        drivers=drivers,
        group=group,
        resamples=resamples,
        seed=seed,
        dropped=len(frame) - len(complete),
    )
