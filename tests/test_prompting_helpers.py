"""Tests of lesson 03's few-shot cost helpers, widget and plots (no chromadb: a fake selector)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest

from course_lib.lessons.l03_prompt_fundamentals.format_check import FormatSummary
from course_lib.lessons.l03_prompt_fundamentals.plots import plot_fewshot_cost, plot_format_consistency
from course_lib.lessons.l03_prompt_fundamentals.widgets import (
    fewshot_k_report,
    fewshot_k_widget,
    fewshot_request_cost,
    fewshot_token_curve,
)
from course_lib.retrieval import LabeledExample, Retrieved, fewshot_messages
from course_lib.tokens import count_message_tokens, count_tokens

EXAMPLES = [
    LabeledExample(id=f"e{i}", text=f"Clause number {i} about rent and repairs of the flat.", label=label)
    for i, label in enumerate(["Lease", "Lease", "NDA", "Loan", "NDA", "Lease"])
]


class FakeSelector:
    """Ranks examples by their position; remembers the k it was asked for."""

    system = "Classify. Categories: {labels}."
    labels = sorted({e.label for e in EXAMPLES})
    examples = EXAMPLES

    def __init__(self) -> None:
        self.asked: list[int] = []

    def select(self, query: str, k: int) -> list[Retrieved]:
        self.asked.append(k)
        return [Retrieved(example=e, similarity=1 - i / 10) for i, e in enumerate(EXAMPLES[:k])]

    def static_messages(self, query: str) -> list[dict[str, str]]:
        return fewshot_messages(EXAMPLES, query, system=self.system, labels=self.labels)


def test_request_cost_prices_input_output_and_embedding() -> None:
    # gpt-4: 30 USD in, 60 USD out per million tokens; text-embedding-3-small: 0.02 per million (dated table)
    assert fewshot_request_cost(2500, 10, "gpt-4") == pytest.approx(0.0756)
    assert fewshot_request_cost(620, 10, "gpt-4", embedding_tokens=500) == pytest.approx(0.0192 + 0.00001)
    assert fewshot_request_cost(0, 0, "gpt-4o-mini") == 0


def test_token_curve_uses_one_retrieval_and_grows_with_k() -> None:
    selector = FakeSelector()
    curve = fewshot_token_curve(selector, "query text", [1, 3, 6], model="gpt-4o")
    assert selector.asked == [6]
    assert list(curve) == [1, 3, 6] and curve[1] < curve[3] < curve[6]
    expected = fewshot_messages(EXAMPLES[:3], "query text", system=selector.system, labels=selector.labels)
    assert curve[3] == count_message_tokens(expected, "gpt-4o")
    assert curve[6] == count_message_tokens(selector.static_messages("query text"), "gpt-4o")
    assert fewshot_token_curve(selector, "q", []) == {}


def test_k_report_lists_examples_and_prices_both_prompts() -> None:
    selector = FakeSelector()
    query = "Rent is due on the first day."
    text = fewshot_k_report(selector, query, 2, model="gpt-4o-mini", requests_per_month=1000, output_tokens=5)
    lines = text.splitlines()
    assert lines[0] == "k = 2 retrieved of 6 stored examples:"
    assert lines[1].startswith("  1.000  Lease") and lines[2].startswith("  0.900  Lease")
    static = count_message_tokens(selector.static_messages(query), "gpt-4o-mini")
    dynamic = count_message_tokens(
        fewshot_messages(EXAMPLES[:2], query, system=selector.system, labels=selector.labels), "gpt-4o-mini"
    )
    assert f"static {static:>6,}" in text and f"dynamic {dynamic:>6,}" in text
    static_usd = fewshot_request_cost(static, 5, "gpt-4o-mini") * 1000
    dynamic_usd = (
        fewshot_request_cost(
            dynamic, 5, "gpt-4o-mini", embedding_tokens=count_tokens(query, "text-embedding-3-small")
        )
        * 1000
    )
    assert f"static ${static_usd:,.2f}/month" in text and f"dynamic ${dynamic_usd:,.2f}/month" in text


def test_widget_shows_the_report_and_follows_the_slider() -> None:
    selector = FakeSelector()
    box = fewshot_k_widget(selector, "rent", k=2, k_max=50)
    slider, _output = box.children
    assert (slider.value, slider.max) == (2, len(EXAMPLES))
    slider.value = 4
    assert selector.asked[-1] == 4


def _summary(condition: str, kinds: dict[str, int]) -> FormatSummary:
    n = sum(kinds.values())
    return FormatSummary(
        condition=condition,
        n=n,
        kinds=kinds,
        target_rate=kinds.get("json_exact", 0) / n,
        exact_rate=kinds.get("json_exact", 0) / n,
        modal_kind=max(kinds, key=kinds.get),
        modal_rate=max(kinds.values()) / n,
    )


def test_plots_draw_what_they_are_given() -> None:
    import matplotlib.pyplot as plt

    rows = [_summary("zero-shot", {"sentence": 30, "bare": 10}), _summary("few-shot", {"json_exact": 40})]
    fig = plot_format_consistency(rows, {"few-shot": 0.95})
    left, right = fig.axes
    assert [round(p.get_height(), 3) for p in right.patches] == [0.0, 1.0]
    widths = sorted(round(p.get_width(), 3) for p in left.patches)  # 3 shapes seen x 2 conditions
    assert widths == [0.0, 0.0, 0.0, 0.25, 0.75, 1.0]
    plt.close(fig)

    fig = plot_fewshot_cost({1: 100, 3: 180}, 1700, {"static": [1.0, 10.0], "dynamic": [0.1, 1.0]}, [10, 100])
    left, right = fig.axes
    assert left.lines[0].get_ydata().tolist() == [100, 180]
    assert [line.get_label() for line in right.lines] == ["static", "dynamic"]
    plt.close(fig)
