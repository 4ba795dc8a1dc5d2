"""A widget over simulated latency and streaming on/off: time to the first visible step vs the whole answer (lesson 04)."""

from __future__ import annotations

from typing import Any

from course_lib.lessons.l04_chain_of_thought.stream import latency_report

__all__ = ["streaming_latency_widget"]


def streaming_latency_widget(text: str, *, ttft_s: float = 0.3, per_piece_s: float = 0.05) -> Any:
    """Sliders for time to first token and time per piece, a streaming checkbox; prints :func:`latency_report` (lesson 04)."""
    import ipywidgets as widgets

    def show(ttft_s: float, per_piece_s: float, streaming: bool) -> None:
        print(latency_report(text, ttft_s, per_piece_s, streaming))

    style = {"description_width": "150px"}
    layout = widgets.Layout(width="480px")
    return widgets.interactive(
        show,
        ttft_s=widgets.FloatSlider(
            value=ttft_s,
            min=0.0,
            max=3.0,
            step=0.05,
            description="time to first token (s)",
            style=style,
            layout=layout,
        ),
        per_piece_s=widgets.FloatSlider(
            value=per_piece_s,
            min=0.0,
            max=0.2,
            step=0.005,
            readout_format=".3f",
            description="time per piece (s)",
            style=style,
            layout=layout,
        ),
        streaming=widgets.Checkbox(value=True, description="stream the steps"),
    )
