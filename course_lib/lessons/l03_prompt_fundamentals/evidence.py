"""The claims of lesson 03 and what backs each one: its evidence box.

Measured figures are recomputed from the answers SmolLM2-135M-Instruct gave when the lesson's requests
were recorded (``03_prompt_fundamentals``); the test suite checks that they still follow.
"""

from __future__ import annotations

from course_lib.lessons._evidence import LOCAL_MODEL, Claim

__all__ = ["CLAIMS", "format_figure", "k_sweep_figure", "retrieval_figure"]

RECORDINGS = "03_prompt_fundamentals"


def _small():
    from course_lib.providers.registry import get_provider

    return get_provider(model=LOCAL_MODEL, recordings=RECORDINGS)


def format_figure() -> str:
    """Answers in the exact target format per condition of the format experiment."""
    from course_lib.lessons.l03_prompt_fundamentals.format_check import run_format_experiment, summarise

    rows = summarise(run_format_experiment(_small(), samples=8, temperature=0.7, max_tokens=40))
    return "exact format: " + ", ".join(f"{r.condition} {round(r.target_rate * r.n)}/{r.n}" for r in rows)


def k_sweep_figure() -> str:
    """Exact answers for each number of examples, and the fewest within 5 points of the best."""
    from course_lib.lessons.l03_prompt_fundamentals.k_sweep import run_k_sweep, smallest_sufficient_k

    points = run_k_sweep(_small())
    rates = ", ".join(f"k={p.k} {p.right}/{p.n}" for p in points)
    return f"exact answers: {rates}; fewest within 5 points of the best: k={smallest_sufficient_k(points).k}"


def retrieval_figure() -> str:
    """Right clause labels with no examples vs 3 retrieved, and how often the answer is the nearest example's label."""
    from collections import Counter

    from course_lib.retrieval import FewShotSelector, fewshot_messages

    small, selector = _small(), FewShotSelector()
    queries = [e for e in selector.examples if e.id.endswith(("-1", "-2"))]
    right, copied = Counter(), 0
    for e in queries:
        three = [h.example for h in selector.select(e.text, 4) if h.example.id != e.id][:3]
        for shots in ([], three):
            messages = fewshot_messages(shots, e.text, system=selector.system, labels=selector.labels)
            answer = small.complete(messages, temperature=0, max_tokens=8).text.strip().rstrip(".")
            right[len(shots)] += answer.lower() == e.label.lower()
        copied += answer.lower() == three[0].label.lower()
    n = len(queries)
    return f"right label: no examples {right[0]}/{n}, 3 retrieved {right[3]}/{n}; nearest example's label {copied}/{n}"


CLAIMS = [
    Claim(
        "Worked examples fix the shape of an answer far better than describing the format",
        "measured",
        "exact format: zero-shot 0/40, zero-shot + format rule 5/40, few-shot (3 examples) 40/40",
        where="Measuring format consistency",
        recordings=RECORDINGS,
        figure=format_figure,
    ),
    Claim(
        "A few examples are enough: the format rate levels off while the tokens keep growing (3–5 rule of thumb)",
        "measured",
        "exact answers: k=0 0/20, k=1 15/20, k=2 18/20, k=3 19/20, k=5 19/20, k=8 20/20; "
        "fewest within 5 points of the best: k=3",
        where="How many examples?",
        recordings=RECORDINGS,
        figure=k_sweep_figure,
    ),
    Claim(
        "Retrieved examples make a small model answer with a label, often the nearest example's",
        "measured",
        "right label: no examples 0/20, 3 retrieved 12/20; nearest example's label 12/20",
        where="Does retrieval find the right examples?",
        recordings=RECORDINGS,
        figure=retrieval_figure,
    ),
    Claim(
        "Beyond a handful of examples, gains are small; examples mostly teach format and label space",
        "cited",
        "Min et al., 2022 (EMNLP), 12 models incl. MetaICL 774M, GPT-J 6B and GPT-3 175B: performance does not "
        "increase much for k ≥ 8; random labels cost only 0.8–1.6 points",
        where="How many examples?",
    ),
    Claim(
        "Examples similar to the input beat random ones on large models",
        "cited",
        "Liu et al., 2022 (DeeLIO workshop), GPT-3: retrieving semantically similar examples consistently "
        "outperformed random selection on their benchmarks",
        where="Does retrieval find the right examples?",
    ),
    Claim(
        "A capable model follows the system prompt over a conflicting user request; the prompt's evolution",
        "illustrated",
        "the gpt-4o-mini replies are scripted; the small model's replies beside them are recorded",
        where="System prompts; A prompt's evolution",
    ),
    Claim(
        "Dynamic few-shot cuts the bill by the examples' share of the prompt",
        "illustrated",
        "assumed token counts and volume, priced with the dated price table; our prompts' tokens counted",
        where="What it saves, in dollars",
    ),
]
