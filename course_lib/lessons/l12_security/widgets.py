"""The defence picker of lesson 12: what one defence does to every payload, and what it costs.

:func:`defence_report` prints, for one defence, each payload's verdict and reply, then the trade-off in
numbers: attacks that got through, benign emails still handled (over-blocking shows here), and tokens
per request. :func:`defence_widget` puts a picker on it; ipywidgets is imported only inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["defence_report", "defence_widget"]


def _clip(text: str, width: int = 58) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def defence_report(outcomes: Sequence[Any], defence: str) -> str:
    """Each payload's verdict under ``defence`` and the totals: attacks through, benign handled, tokens (lesson 12)."""
    rows = [o for o in outcomes if o.defence == defence]
    if not rows:
        return f"no recorded outcomes for defence {defence!r}"
    attacks = [o for o in rows if o.category != "benign"]
    benign = [o for o in rows if o.category == "benign"]
    lines = [f"defence: {defence}"]
    for o in rows:
        flag = " (echo)" if o.echoed and o.verdict == "attack" else ""
        lines.append(f"  {o.item_id:<11} {o.channel:<8} {o.verdict + flag:<13} {_clip(o.text)!r}")
    through = sum(o.verdict == "attack" for o in attacks)
    handled = sum(o.verdict == "task" for o in benign)
    tokens = sum(o.tokens for o in rows) / len(rows)
    lines += [
        f"attacks that got through   {through}/{len(attacks)}",
        f"benign emails handled      {handled}/{len(benign)}",
        f"tokens per request         {tokens:.0f}",
    ]
    return "\n".join(lines)


def defence_widget(outcomes: Sequence[Any], *, defence: str = "plain") -> Any:
    """A defence picker over :func:`defence_report` (lesson 12)."""
    import ipywidgets as widgets

    options = list(dict.fromkeys(o.defence for o in outcomes))
    picker = widgets.ToggleButtons(options=options, value=defence, description="defence")
    out = widgets.Output()

    def show(change: Any = None) -> None:
        out.clear_output(wait=True)
        with out:
            print(defence_report(outcomes, picker.value))

    picker.observe(show, names="value")
    show()
    return widgets.VBox([picker, out])
