"""How often the driver bootstrap interval holds the true importance, on simulated teams.

People in ``groups`` teams of ``size``; four correlated drivers (correlation 0.4) with true slopes
0.5, 0.3, 0.15 and 0 on the outcome; a tenth of every variable's variance lies between teams (an
ICC of 0.1, between bh1996's wellbeing and leadership). The true importances are the general
dominance weights of the population correlation matrix. Used by docs/INSIGHT.md and the tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.drivers import analyse, dominance_weights

SLOPES = np.array([0.5, 0.3, 0.15, 0.0])
CORRELATION = 0.4
ICC = 0.1


def _population() -> tuple[np.ndarray, np.ndarray]:
    p = len(SLOPES)
    drivers = (1 - CORRELATION) * np.eye(p) + CORRELATION
    cov = np.zeros((p + 1, p + 1))
    cov[:p, :p] = drivers
    cov[:p, p] = cov[p, :p] = drivers @ SLOPES
    cov[p, p] = SLOPES @ drivers @ SLOPES + 1.0
    scale = np.sqrt(np.diag(cov))
    return drivers, dominance_weights(cov / np.outer(scale, scale))


def coverage(groups: int, size: int, runs: int, resamples: int = 300, seed: int = 0) -> np.ndarray:
    """Per driver, the share of runs whose 95% interval holds the true importance."""
    rng = np.random.default_rng(seed)
    drivers, truth = _population()
    root = np.linalg.cholesky(drivers)
    names = [f"d{i}" for i in range(len(SLOPES))]
    hits = np.zeros(len(SLOPES))
    for run in range(runs):
        shift_x = rng.normal(size=(groups, len(SLOPES))) @ root.T * np.sqrt(ICC)
        shift_y = rng.normal(size=groups) * np.sqrt(ICC)
        x = rng.normal(size=(groups * size, len(SLOPES))) @ root.T * np.sqrt(1 - ICC)
        x += np.repeat(shift_x, size, axis=0)
        y = x @ SLOPES + rng.normal(size=groups * size) * np.sqrt(1 - ICC) + np.repeat(shift_y, size)
        frame = pd.DataFrame(x, columns=names).assign(y=y, team=np.repeat(np.arange(groups), size))
        result = analyse(frame, outcome="y", drivers=names, group="team", resamples=resamples, seed=run)
        found = {d.driver: d for d in result.drivers}
        hits += [found[n].low <= truth[i] <= found[n].high for i, n in enumerate(names)]
    return hits / runs


def main() -> None:
    """Print the table in docs/INSIGHT.md (``python -m analytics.driver_simulation``)."""
    print(
        "| teams x people | runs | coverage per driver (true importance "
        + ", ".join(f"{w:.3f}" for w in _population()[1])
        + ") |"
    )
    print("| --- | --- | --- |")
    for groups, size, runs in ((10, 30, 300), (20, 15, 300), (40, 10, 300), (99, 30, 200)):
        found = coverage(groups, size, runs)
        print(f"| {groups} x {size} | {runs} | " + ", ".join(f"{c:.1%}" for c in found) + " |")


if __name__ == "__main__":
    main()
