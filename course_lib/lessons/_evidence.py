"""The evidence box that closes each lesson: every claim the lesson makes, and what backs it.

A claim is backed, in this order of preference, by a measurement on the real local model replayed from
its recordings (``measured``), a published result with authors, year, model and figure (``cited``), or a
scripted illustration (``illustrated``). Each lesson package lists its claims in ``evidence.py`` as
``CLAIMS``; the lesson's last code cell shows them with :func:`evidence_box`, and
:func:`verify` (run by the test suite) recomputes every measured figure from the recordings and checks
that the answers it used were recorded from a real model, so a box never outlives its data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["KINDS", "LOCAL_MODEL", "Claim", "evidence_box", "evidence_markdown", "verify"]

Kind = Literal["measured", "cited", "illustrated"]
KINDS: tuple[Kind, ...] = ("measured", "cited", "illustrated")
LOCAL_MODEL = "SmolLM2-135M-Instruct"
_LABEL = {"measured": "measured here", "cited": "cited", "illustrated": "illustrated (scripted)"}


@dataclass(frozen=True)
class Claim:
    """One claim of a lesson and what backs it (every lesson's evidence box).

    ``support`` is the figure for a measured claim (with its count, "2 of 11"), the reference for a
    cited one (authors, year, model, figure), or what was scripted for an illustration. A measured
    claim names the ``recordings`` it comes from and a ``figure`` function that recomputes ``support``
    from them; ``where`` names the lesson section that shows it.
    """

    text: str
    kind: Kind
    support: str
    where: str = ""
    recordings: str | None = None
    figure: Callable[[], str] | None = None
    model: str = LOCAL_MODEL

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"claim kind must be one of {KINDS}, got {self.kind!r}")
        if not self.text.strip() or not self.support.strip():
            raise ValueError("a claim needs its text and its support")
        if self.kind == "measured" and (self.recordings is None or self.figure is None):
            raise ValueError(f"measured claim {self.text!r} needs recordings= and figure=")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def evidence_markdown(claims: Sequence[Claim]) -> str:
    """The evidence box as a Markdown table: claim, evidence, support, where."""
    if not claims:
        raise ValueError("an evidence box needs at least one claim")
    lines = ["| claim | evidence | support | where |", "| --- | --- | --- | --- |"]
    for c in claims:
        lines.append(f"| {_cell(c.text)} | {_LABEL[c.kind]} | {_cell(c.support)} | {_cell(c.where)} |")
    return "\n".join(lines)


def evidence_box(claims: Sequence[Claim]) -> Any:
    """The evidence box for a notebook (an IPython Markdown object; its text is :func:`evidence_markdown`)."""
    from IPython.display import Markdown

    return Markdown("### Evidence\n\n" + evidence_markdown(claims))


def _served_entries(fn: Callable[[], str]) -> tuple[str, list[Any]]:
    """Run ``fn`` and collect every recording entry replay served while it ran."""
    from course_lib.providers.replay.transport import ReplayTransport

    served: list[Any] = []
    original = ReplayTransport.lookup

    def spying(self: ReplayTransport, endpoint: str, body: dict[str, Any]) -> Any:
        found = original(self, endpoint, body)
        served.append(found[0])
        return found

    ReplayTransport.lookup = spying  # type: ignore[method-assign]
    try:
        value = fn()
    finally:
        ReplayTransport.lookup = original  # type: ignore[method-assign]
    return value, served


def verify(claims: Iterable[Claim]) -> list[str]:
    """Problems with a lesson's measured claims (an empty list when every figure still follows).

    For each measured claim: ``figure()`` must reproduce ``support`` exactly; the answers replay served
    while computing it must all be ``recorded`` (never scripted); if it read the recordings without
    replay, every entry of its file for ``model`` must be recorded, and there must be at least one.
    """
    from course_lib.providers.replay.recordings import RecordingStore

    problems: list[str] = []
    for c in claims:
        if c.kind != "measured":
            continue
        assert c.figure is not None and c.recordings is not None
        try:
            value, served = _served_entries(c.figure)
        except Exception as exc:  # a broken figure is a finding, not a crash
            problems.append(f"{c.text!r}: figure() raised {type(exc).__name__}: {exc}")
            continue
        if value != c.support:
            problems.append(f"{c.text!r}: recordings give {value!r}, the box says {c.support!r}")
        if served:
            scripted = [e for e in served if e.provenance.source != "recorded"]
            if scripted:
                problems.append(f"{c.text!r}: {len(scripted)} of {len(served)} answers used are scripted")
            continue
        entries = [
            e
            for e in RecordingStore(c.recordings).entries.values()
            if e.provenance.model == c.model or e.request.get("model") == c.model
        ]
        if not entries:
            problems.append(f"{c.text!r}: no entry for {c.model} in recordings {c.recordings!r}")
        elif any(e.provenance.source != "recorded" for e in entries):
            problems.append(f"{c.text!r}: recordings {c.recordings!r} hold scripted answers for {c.model}")
    return problems
