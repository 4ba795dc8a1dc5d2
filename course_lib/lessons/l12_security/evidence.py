"""Lesson 12's evidence box: each claim about untrusted input and what backs it (lesson 12).

The measured figures are recomputed from the SmolLM2-135M recordings of the attack corpus with the same
functions as the lesson; the test suite checks that they still match the text below.
"""

from __future__ import annotations

from functools import cache

from course_lib.lessons._evidence import Claim
from course_lib.lessons.l12_security.experiment import RECORDINGS, attack_table, measure

__all__ = ["CLAIMS", "attack_counts", "benign_counts", "free_route_attempts"]


@cache
def _cells() -> dict[tuple[str, str], object]:
    return {(c.defence, c.category): c for c in attack_table(measure())}


def attack_counts() -> str:
    """Attacks that got through, out of 12, for each defence (lesson 12)."""
    cells = _cells()
    return "; ".join(
        f"{d} {cells[(d, 'all attacks')].attack}/{cells[(d, 'all attacks')].n}"  # type: ignore[attr-defined]
        for d in ("plain", "rule", "spotlight", "structured")
    )


def benign_counts() -> str:
    """Benign emails handled, out of 3, for each defence (lesson 12)."""
    cells = _cells()
    return "; ".join(
        f"{d} {cells[(d, 'benign')].task}/{cells[(d, 'benign')].n}"  # type: ignore[attr-defined]
        for d in ("plain", "rule", "spotlight", "structured")
    )


def free_route_attempts() -> str:
    """Injected text that landed in a free-text field, and how many the allow-list let through (lesson 12)."""
    cell = _cells()[("structured_free", "all attacks")]
    return (
        f"{cell.attempted}/{cell.n} raw replies carried the injected marker; {cell.attack} passed validation"  # type: ignore[attr-defined]
    )


CLAIMS: list[Claim] = [
    Claim(
        "A system-prompt rule is not a security boundary: on the small model neither it nor spotlighting stopped the corpus; the structured defence let no marker through",
        "measured",
        attack_counts(),
        "Measured: attack success on the real small model",
        RECORDINGS,
        attack_counts,
    ),
    Claim(
        "Benign emails still handled by each defence (the small model often fails the plain task itself)",
        "measured",
        benign_counts(),
        "Measured: attack success on the real small model",
        RECORDINGS,
        benign_counts,
    ),
    Claim(
        "A free-text field is a channel for injected text; an allow-list on the field closes it",
        "measured",
        free_route_attempts(),
        "A free-text field is a channel",
        RECORDINGS,
        free_route_attempts,
    ),
    Claim(
        "Indirect prompt injection through retrieved content compromises real LLM-integrated applications",
        "cited",
        "Greshake et al., 2023, 'Not what you've signed up for' (demonstrations on real applications; no rate)",
        "Text in, orders in",
    ),
    Claim(
        "More capable models can be more vulnerable to indirect injection on text tasks",
        "cited",
        "Yi et al., 2023, BIPIA benchmark (arXiv 2312.14197): finding stated in its abstract, across the LLMs tested",
        "What a 135M model's numbers do and do not tell",
    ),
    Claim(
        "Spotlighting lowers attack success on large models",
        "cited",
        "Hines et al., 2024 (arXiv 2403.14720): GPT-family models, from above 50 % to below 2 %",
        "What a 135M model's numbers do and do not tell",
    ),
    Claim(
        "Tool-using agents built on current large models remain open to injection through tool results",
        "cited",
        "Debenedetti et al., 2024, AgentDojo: 97 tasks, 629 security test cases; attacks break some security properties but not all",
        "What a 135M model's numbers do and do not tell",
    ),
    Claim(
        "A tool policy blocks and logs an exfiltrating tool call whatever the model does",
        "illustrated",
        "scripted model that obeys the injection; the policy's decision is computed by course code",
        "Patterns that hold whatever the model does",
    ),
]
"""The lesson's claims, in the order the lesson makes them (lesson 12)."""
