"""The run's PNG plots: confusion matrix and feature importances.

Figures are built with matplotlib's object API (no pyplot), so there is no
global figure state and no GUI backend in services.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def confusion_matrix_png(matrix: list[list[int]], classes: list[str], path: Path) -> Path:
    counts = np.asarray(matrix, dtype=float)
    size = 2.5 + 0.6 * len(classes)
    figure = Figure(figsize=(size, size), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.imshow(counts, cmap="Blues")
    axes.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    axes.set_yticks(range(len(classes)), classes)
    axes.set_xlabel("predicted")
    axes.set_ylabel("actual")
    axes.set_title("Confusion matrix (holdout)")
    threshold = counts.max() / 2 if counts.size else 0
    for (row, column), value in np.ndenumerate(counts):
        colour = "white" if value > threshold else "black"
        axes.text(column, row, f"{int(value)}", ha="center", va="center", color=colour)
    figure.savefig(path)
    return path


def feature_importance_png(importances: dict[str, float], path: Path, top: int = 20) -> Path:
    ranked = sorted(importances.items(), key=lambda item: item[1], reverse=True)[:top]
    names = [name for name, _ in reversed(ranked)]
    values = [value for _, value in reversed(ranked)]
    figure = Figure(figsize=(6, 1 + 0.35 * max(len(names), 1)), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.barh(names, values, color="#4c72b0")
    axes.set_xlabel("share of the holdout score lost when shuffled")
    axes.set_title("Permutation feature importance")
    figure.savefig(path)
    return path
