"""A prompt file's acceptance criteria, measured: each criterion names the eval that checks it (lesson 11).

:data:`EVALS` maps an eval's name (the ``eval`` field of a criterion in the TOML file) to a function
that runs the prompt on that eval's golden set through a provider and returns the metrics it measures.
:func:`measure_criteria` runs every eval a prompt's criteria name, once each, and
``prompt.check(measure_criteria(prompt, provider))`` is the release decision, measured instead of
assumed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from course_lib.evals.datasets import load_golden
from course_lib.evals.scorers import exact_json_name, includes

__all__ = ["EVALS", "SUPPORT_LINE", "measure_criteria", "name_extraction_metrics", "support_summary_metrics"]

SUPPORT_LINE = re.compile(r"^(billing|login|data|performance|other) \| [^|]+ \| (low|normal|high)$")
"""The one-line format of the support summariser's answer (lessons 03 and 11)."""

Metrics = dict[str, float]


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def name_extraction_metrics(prompt: Any, provider: Any, params: Mapping[str, Any]) -> Metrics:
    """``exact_json_rate`` and ``name_included_rate`` of ``prompt`` on the golden names (lesson 11)."""
    cases = load_golden("names")
    answers = [provider.complete(prompt.messages(c.input), **params).text for c in cases]
    return {
        "exact_json_rate": sum(exact_json_name(a, c.target) for a, c in zip(answers, cases, strict=True))
        / len(cases),
        "name_included_rate": sum(includes(a, c.target) for a, c in zip(answers, cases, strict=True))
        / len(cases),
    }


def support_summary_metrics(prompt: Any, provider: Any, params: Mapping[str, Any]) -> Metrics:
    """``format_valid_rate``, ``area_accuracy`` and ``p95_latency_s`` on the golden tickets (lesson 11)."""
    cases = load_golden("support_tickets")
    results = [provider.complete(prompt.messages(c.input), **params) for c in cases]
    lines = [r.text.strip() for r in results]
    valid = [bool(SUPPORT_LINE.match(line)) for line in lines]
    right = [ok and line.split(" | ")[0] == c.target for ok, line, c in zip(valid, lines, cases, strict=True)]
    return {
        "format_valid_rate": sum(valid) / len(cases),
        "area_accuracy": sum(right) / len(cases),
        "p95_latency_s": _p95([r.latency_s for r in results]),
    }


EVALS: dict[str, Callable[[Any, Any, Mapping[str, Any]], Metrics]] = {
    "name_extraction": name_extraction_metrics,
    "support_summary": support_summary_metrics,
}
"""Every eval a prompt file's criterion may name, by name (lesson 11)."""


def measure_criteria(prompt: Any, provider: Any, **params: Any) -> Metrics:
    """Run each eval the prompt's criteria name (once each) and return the metrics measured (lesson 11)."""
    names = list(dict.fromkeys(c.eval for c in prompt.evaluation if c.eval))
    unknown = [n for n in names if n not in EVALS]
    if unknown:
        raise ValueError(f"{prompt.name}: criteria name unknown eval(s) {unknown}; known: {', '.join(EVALS)}")
    measured: Metrics = {}
    for name in names:
        measured.update(EVALS[name](prompt, provider, params))
    return measured
