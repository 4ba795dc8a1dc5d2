"""The claims of lesson 00 and what backs each one: its evidence box.

The measured figure is recomputed from the answers SmolLM2-135M-Instruct gave when the lesson's
question was recorded (``00_setup``); the test suite checks that it still follows.
"""

from __future__ import annotations

from course_lib.lessons._evidence import LOCAL_MODEL, Claim

__all__ = ["CLAIMS", "QUESTION", "replay_figure"]

RECORDINGS = "00_setup"
QUESTION = [
    {"role": "system", "content": "You are a concise assistant for software engineers."},
    {"role": "user", "content": "In one sentence: what is a large language model, to a backend engineer?"},
]
"""The lesson's first question (lesson 00)."""


def replay_figure() -> str:
    """Distinct answers among the recorded samples, and whether two fresh replays serve the same ones."""
    from course_lib.providers.registry import get_provider

    def run() -> list[str]:
        small = get_provider(model=LOCAL_MODEL, recordings=RECORDINGS)
        return [small.complete(QUESTION, temperature=0.8, max_tokens=60).text for _ in range(3)]

    first, second = run(), run()
    return (
        f"{len(set(first))} distinct answers in {len(first)} samples at temperature 0.8; "
        f"a second replay serves the same {sum(a == b for a, b in zip(first, second, strict=True))} of {len(first)}"
    )


CLAIMS = [
    Claim(
        "A model is a stochastic function: the same request at temperature 0.8 gives different answers, "
        "and replay serves them back in the same order every run",
        "measured",
        "3 distinct answers in 3 samples at temperature 0.8; a second replay serves the same 3 of 3",
        where="A first call",
        recordings=RECORDINGS,
        figure=replay_figure,
    ),
    Claim(
        "The first answer shows the shape of a good reply",
        "illustrated",
        "the gpt-4o-mini answer and the four colour samples are scripted, and say so in source",
        where="A first call; code written for the openai SDK runs unchanged",
    ),
]
