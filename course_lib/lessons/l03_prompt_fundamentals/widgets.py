"""Few-shot cost helpers and the "number of examples" widget of lesson 03.

The plain functions price a few-shot request from counted tokens (:func:`fewshot_request_cost`),
count the dynamic prompt for every ``k`` from one retrieval (:func:`fewshot_token_curve`) and
describe what ``k`` retrieved examples cost against sending all of them (:func:`fewshot_k_report`).
:func:`fewshot_k_widget` puts a slider on that report. ipywidgets is imported only inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from course_lib.cost import request_cost
from course_lib.providers.base import Usage
from course_lib.retrieval import fewshot_messages
from course_lib.tokens import count_message_tokens, count_tokens

__all__ = [
    "EMBEDDING_MODEL",
    "fewshot_k_report",
    "fewshot_k_widget",
    "fewshot_request_cost",
    "fewshot_token_curve",
]

EMBEDDING_MODEL = "text-embedding-3-small"
"""The hosted embedding model that prices the query's embedding (lesson 03)."""


def fewshot_request_cost(
    prompt_tokens: int,
    completion_tokens: int,
    model: str,
    *,
    embedding_tokens: int = 0,
    embedding_model: str = EMBEDDING_MODEL,
) -> float:
    """USD for one request: prompt and completion at ``model``'s prices, plus embedding the query (lesson 03)."""
    cost = request_cost(Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens), model).total
    if embedding_tokens:
        cost += request_cost(Usage(prompt_tokens=embedding_tokens), embedding_model).total
    return cost


def fewshot_token_curve(
    selector: Any, query: str, ks: Sequence[int], *, model: str = "gpt-4o"
) -> dict[int, int]:
    """Prompt tokens of the dynamic prompt for each ``k`` in ``ks``, from a single retrieval (lesson 03)."""
    if not ks:
        return {}
    ranked = [r.example for r in selector.select(query, max(ks))]
    return {
        k: count_message_tokens(
            fewshot_messages(ranked[:k], query, system=selector.system, labels=selector.labels), model
        )
        for k in ks
    }


def fewshot_k_report(
    selector: Any,
    query: str,
    k: int,
    *,
    model: str = "gpt-4o-mini",
    requests_per_month: int = 100_000,
    output_tokens: int = 10,
) -> str:
    """The ``k`` retrieved examples, and tokens and monthly cost of the dynamic vs the static prompt (lesson 03).

    The dynamic request also pays for embedding the query with :data:`EMBEDDING_MODEL`.
    """
    hits = selector.select(query, k)
    static = count_message_tokens(selector.static_messages(query), model)
    dynamic = count_message_tokens(
        fewshot_messages([h.example for h in hits], query, system=selector.system, labels=selector.labels),
        model,
    )
    static_cost = fewshot_request_cost(static, output_tokens, model) * requests_per_month
    dynamic_cost = (
        fewshot_request_cost(
            dynamic, output_tokens, model, embedding_tokens=count_tokens(query, EMBEDDING_MODEL)
        )
        * requests_per_month
    )
    lines = [f"k = {len(hits)} retrieved of {len(selector.examples)} stored examples:"]
    lines += [
        f"  {h.similarity:.3f}  {h.example.label:<15} {h.example.text[:60]}{'…' if len(h.example.text) > 60 else ''}"
        for h in hits
    ]
    saving = 1 - dynamic_cost / static_cost if static_cost else 0.0
    lines += [
        f"prompt tokens  static {static:>6,}   dynamic {dynamic:>6,}   ({1 - dynamic / static:.0%} fewer)",
        f"{model}, {requests_per_month:,} requests/month, {output_tokens} output tokens each:",
        f"  static ${static_cost:,.2f}/month   dynamic ${dynamic_cost:,.2f}/month   saving {saving:.0%}",
    ]
    return "\n".join(lines)


def fewshot_k_widget(selector: Any, query: str, *, k_max: int = 20, k: int = 3, **report: Any) -> Any:
    """A slider over ``k`` showing :func:`fewshot_k_report` for ``query`` (lesson 03)."""
    import ipywidgets as widgets

    slider = widgets.IntSlider(
        value=k, min=1, max=min(k_max, len(selector.examples)), description="examples k"
    )
    out = widgets.Output()

    def show(change: Any = None) -> None:
        out.clear_output(wait=True)
        with out:
            print(fewshot_k_report(selector, query, slider.value, **report))

    slider.observe(show, names="value")
    show()
    return widgets.VBox([slider, out])
