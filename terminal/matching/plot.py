"""ROC curve and score histograms of an evaluation, drawn with matplotlib (headless)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from terminal.matching.metrics import PairScores

log = logging.getLogger(__name__)


def plot_roc(
    scores: PairScores, path: Path, title: str = "", thresholds: dict[str, float | None] | None = None
) -> None:
    """Write a two-panel PNG: TAR against FAR (log axis) and the genuine/impostor score histograms."""
    import matplotlib

    matplotlib.use("Agg")  # no display on the terminal or in CI
    import matplotlib.pyplot as plt

    gen = np.sort(scores.genuine)
    imp = np.sort(scores.impostor)
    grid = np.unique(np.concatenate([gen, imp]))
    far = 1.0 - np.searchsorted(imp, grid, side="left") / max(len(imp), 1)
    tar = 1.0 - np.searchsorted(gen, grid, side="left") / max(len(gen), 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    floor = 1.0 / max(len(imp), 1)
    ax1.plot(np.maximum(far, floor), tar, lw=1.5)
    ax1.set_xscale("log")
    ax1.set_xlim(floor, 1.0)
    ax1.set_ylim(max(0.0, float(tar.min()) - 0.02), 1.002)  # zoom: a good matcher lives near the top
    ax1.set_xlabel("false accept rate (impostor pairs)")
    ax1.set_ylabel("true accept rate (genuine pairs)")
    ax1.grid(True, which="both", alpha=0.3)
    ax1.set_title("ROC")
    bins = np.linspace(-0.3, 1.0, 131)
    ax2.hist(imp, bins=bins, density=True, alpha=0.6, label=f"different person ({len(imp)})")
    ax2.hist(gen, bins=bins, density=True, alpha=0.6, label=f"same person ({len(gen)})")
    for key, t in (thresholds or {}).items():
        if t is not None:
            ax2.axvline(t, ls="--", lw=1, color="k", alpha=0.6)
            ax2.text(t, ax2.get_ylim()[1] * 0.9, f" FAR {key}", fontsize=7, rotation=90, va="top")
    ax2.set_xlabel("cosine similarity")
    ax2.set_title("score histograms")
    ax2.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    log.info("wrote %s", path)
