"""Streaming chain-of-thought steps: a parser for JSON-line steps cut anywhere, and simulated timelines (lesson 04).

:class:`StepStreamParser` turns streamed text pieces, split at arbitrary points, into complete steps as
soon as each line ends (a parser that tries the whole buffer as one JSON object loses every step
after a piece that holds a newline and the start of the next line). :func:`step_timeline` says when each step becomes visible under a simulated
latency, streamed or blocking. All pure: no model, no clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "STREAM_SYSTEM_PROMPT",
    "StepStreamParser",
    "StepTiming",
    "Timeline",
    "iter_steps",
    "latency_report",
    "step_timeline",
    "stream_messages",
]

STREAM_SYSTEM_PROMPT = """\
Think step by step, and write each step as soon as you have it: one JSON object per line,
{"step": "<analyze|think|solve|final>", "content": "<text>"}, then a newline.
The last line is the "final" step with the answer for the customer."""
"""Instructions for streamed reasoning: one JSON step per line, ``final`` last (lesson 04)."""


def stream_messages(query: str) -> list[dict[str, str]]:
    """A customer query with the streamed-steps instructions (lesson 04)."""
    return [
        {"role": "system", "content": STREAM_SYSTEM_PROMPT},
        {"role": "user", "content": _required(query)},
    ]


class StepStreamParser:
    """Feed it streamed text pieces cut anywhere; it returns each JSON-line step once its line ends (lesson 04).

    Blank lines are skipped; a line that is not a JSON object raises ``ValueError`` naming the line.
    Call :meth:`close` at the end of the stream for a last line with no newline.
    """

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, delta: str) -> list[dict[str, Any]]:
        """Absorb one piece; return the steps whose lines it completed (often none)."""
        self._buffer += delta
        *lines, self._buffer = self._buffer.split("\n")
        return [step for line in lines if (step := _step_of(line)) is not None]

    def close(self) -> list[dict[str, Any]]:
        """The step on the unterminated last line, if any; the parser is empty afterwards."""
        line, self._buffer = self._buffer, ""
        step = _step_of(line)
        return [step] if step is not None else []


def _step_of(line: str) -> dict[str, Any] | None:
    if not line.strip():
        return None
    try:
        value = json.loads(line)
    except ValueError as exc:
        raise ValueError(f"streamed line is not JSON ({exc.args[0]}): {line[:80]!r}") from None
    if not isinstance(value, dict):
        raise ValueError(f"streamed line is JSON but not an object: {line[:80]!r}")
    return value


def iter_steps(deltas: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Yield each step as soon as its line is complete, whatever the pieces' boundaries (lesson 04)."""
    parser = StepStreamParser()
    for delta in deltas:
        yield from parser.feed(delta)
    yield from parser.close()


@dataclass(frozen=True)
class StepTiming:
    """When one step became visible to the user, in simulated seconds (lesson 04)."""

    index: int
    label: str
    visible_s: float


@dataclass(frozen=True)
class Timeline:
    """Simulated arrival of a reply: its first text piece, each step, and the end (lesson 04)."""

    first_token_s: float
    total_s: float
    steps: tuple[StepTiming, ...]
    streaming: bool

    @property
    def first_step_s(self) -> float:
        """When the user first sees a whole step (the end, for a blocking call)."""
        return self.steps[0].visible_s if self.steps else self.total_s


def step_timeline(
    text: str,
    *,
    ttft_s: float,
    per_piece_s: float,
    streaming: bool = True,
    pieces: Sequence[str] | None = None,
) -> Timeline:
    """When each JSON-line step of ``text`` is visible, piece ``j`` arriving at ``ttft + (j+1)·per_piece`` (lesson 04).

    That is the replay transport's schedule for a :class:`~course_lib.providers.replay.transport.LatencyModel`.
    A blocking call does the same work and shows everything when the last piece is done.
    ``pieces`` defaults to the replay's word-sized stream pieces.
    """
    if ttft_s < 0 or per_piece_s < 0:
        raise ValueError(f"latencies must not be negative, got ttft_s={ttft_s}, per_piece_s={per_piece_s}")
    if pieces is None:
        from course_lib.providers.replay.responses import split_stream_pieces

        pieces = split_stream_pieces(text)
    parser = StepStreamParser()
    arrivals: list[tuple[float, Mapping[str, Any]]] = []
    at = ttft_s
    for j, piece in enumerate(pieces):
        at = ttft_s + (j + 1) * per_piece_s
        arrivals += [(at, step) for step in parser.feed(piece)]
    arrivals += [(at, step) for step in parser.close()]
    total = at
    steps = tuple(
        StepTiming(i, str(step.get("step", i + 1)), seen if streaming else total)
        for i, (seen, step) in enumerate(arrivals)
    )
    first = ttft_s + per_piece_s if pieces else ttft_s
    return Timeline(
        first_token_s=first if streaming else total, total_s=total, steps=steps, streaming=streaming
    )


def latency_report(text: str, ttft_s: float, per_piece_s: float, streaming: bool) -> str:
    """One line per step saying when the user sees it, then first step vs total, simulated (lesson 04)."""
    timeline = step_timeline(text, ttft_s=ttft_s, per_piece_s=per_piece_s, streaming=streaming)
    lines = [f"{s.visible_s:6.2f} s  {s.label}" for s in timeline.steps]
    mode = "streamed" if streaming else "blocking"
    lines.append(
        f"{mode}: first step visible at {timeline.first_step_s:.2f} s, "
        f"whole answer at {timeline.total_s:.2f} s"
    )
    return "\n".join(lines)


def _required(query: str) -> str:
    text = (query or "").strip()
    if not text:
        raise ValueError("the query is empty; pass the text the model should answer")
    return text
