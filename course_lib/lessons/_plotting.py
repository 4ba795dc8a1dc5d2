"""Matplotlib helpers shared by the lessons' plots: a figure when none is given, dollars as text.

matplotlib is imported inside the functions, never at import time.
"""

from __future__ import annotations

from typing import Any

__all__ = ["axes_or_new", "money_label"]


def axes_or_new(ax: Any, size: tuple[float, float]) -> Any:
    """``ax`` itself, or the axes of a new figure of ``size`` inches when ``ax`` is None."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=size)
    return new


def money_label(value: float) -> str:
    """Dollars for matplotlib text: the sign escaped, or two of them would start mathtext."""
    return f"\\${value:,.0f}" if value >= 100 else f"\\${value:,.2f}"
