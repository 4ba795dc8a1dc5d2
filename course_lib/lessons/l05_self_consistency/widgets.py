"""The "votes and thresholds" widgets of lesson 05.

:func:`gate_report` says what an N-sample vote with a confidence gate does on the recorded quiz: how
many questions it answers on its own, how often those answers are right, how many wrong answers slip
through, and the tokens it spends. :func:`triage_report` runs the triage pipeline on one case with a
chosen N and gate and prints the decision and its cost. The ``*_widget`` functions put sliders on
them; ipywidgets is imported only inside those.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from course_lib.cost import request_cost
from course_lib.lessons.l05_self_consistency.vote_eval import gate_tradeoff
from course_lib.quorum import GatePolicy

__all__ = ["gate_report", "gate_widget", "triage_report", "triage_widget"]


def _policy(high: float, moderate: float) -> GatePolicy | str:
    if moderate > high:
        return f"moderate ({moderate:.0%}) must not exceed high ({high:.0%}): lower moderate or raise high"
    return GatePolicy(high=high, moderate=moderate)


def gate_report(
    pools: Sequence[Any], n: int, high: float, moderate: float, *, draws: int = 200, seed: int = 0
) -> str:
    """Coverage, accuracy of what is answered, wrong answers let through, and tokens, for N and a gate (lesson 05)."""
    policy = _policy(high, moderate)
    if isinstance(policy, str):
        return policy
    gated = gate_tradeoff(pools, n, policy, draws=draws, seed=seed)
    ungated = gate_tradeoff(
        pools, n, GatePolicy(high=0.0, moderate=0.0, escalate_on_tie=False), draws=draws, seed=seed
    )
    accuracy = "—" if gated.accuracy_answered is None else f"{gated.accuracy_answered:.0%}"
    return "\n".join(
        [
            f"N = {n} votes, gate: high ≥ {high:.0%}, moderate ≥ {moderate:.0%}, ties escalate",
            f"  answered automatically   {gated.answered:6.1%}   (escalated to a person {gated.escalated:.1%})",
            f"  right among those        {accuracy:>6}   (without a gate: {ungated.accuracy_answered:.1%})",
            f"  wrong and unchecked      {gated.wrong_answered:6.1%}   (without a gate: {ungated.wrong_answered:.1%})",
            f"  tokens per question      {gated.tokens_per_question:6.0f}   ({n}× one sample)",
        ]
    )


def gate_widget(
    pools: Sequence[Any], *, n: int = 5, high: float = 0.85, moderate: float = 0.7, **kw: Any
) -> Any:
    """Sliders for N and the two gate thresholds over :func:`gate_report` (lesson 05)."""
    import ipywidgets as widgets

    votes = widgets.IntSlider(value=n, min=1, max=11, description="votes N")
    hi = widgets.FloatSlider(value=high, min=0.3, max=1.0, step=0.05, description="high ≥")
    mod = widgets.FloatSlider(value=moderate, min=0.3, max=1.0, step=0.05, description="moderate ≥")
    out = widgets.Output()

    def show(change: Any = None) -> None:
        out.clear_output(wait=True)
        with out:
            print(gate_report(pools, votes.value, hi.value, mod.value, **kw))

    for slider in (votes, hi, mod):
        slider.observe(show, names="value")
    show()
    return widgets.VBox([widgets.HBox([votes, hi, mod]), out])


def triage_report(
    provider: Any, symptoms: str, n: int, high: float, moderate: float, *, model: str = "gpt-4o-mini"
) -> str:
    """Triage one case with ``n`` votes and the given gate; show the tier, the votes and the cost (lesson 05)."""
    from course_lib.lessons.l05_self_consistency.triage import TriagePipeline

    policy = _policy(high, moderate)
    if isinstance(policy, str):
        return policy
    record = TriagePipeline(provider, n=n, policy=policy).triage(symptoms)
    cost = request_cost(record.tokens, model).total
    votes = ", ".join(f"{k} {v}" for k, v in record.votes.items()) or "none (no model call)"
    return "\n".join(
        [
            f"{symptoms}",
            f"  tier {record.tier}: {record.recommendation}",
            f"  votes: {votes}; agreement {record.confidence:.0%}",
            f"  why: {record.reason}",
            f"  {record.model_calls} model calls, {record.tokens.total_tokens:,} tokens, ${cost:.5f} at {model} prices",
        ]
    )


def triage_widget(
    provider: Any, cases: Sequence[str], *, n: int = 7, high: float = 0.85, moderate: float = 0.7, **kw: Any
) -> Any:
    """A case picker and sliders for N and the gate over :func:`triage_report` (lesson 05)."""
    import ipywidgets as widgets

    case = widgets.Dropdown(options=list(cases), description="case", layout=widgets.Layout(width="95%"))
    votes = widgets.IntSlider(value=n, min=1, max=7, description="votes N")
    hi = widgets.FloatSlider(value=high, min=0.3, max=1.0, step=0.05, description="high ≥")
    mod = widgets.FloatSlider(value=moderate, min=0.3, max=1.0, step=0.05, description="moderate ≥")
    out = widgets.Output()

    def show(change: Any = None) -> None:
        out.clear_output(wait=True)
        with out:
            print(triage_report(provider, case.value, votes.value, hi.value, mod.value, **kw))

    for control in (case, votes, hi, mod):
        control.observe(show, names="value")
    show()
    return widgets.VBox([case, widgets.HBox([votes, hi, mod]), out])
