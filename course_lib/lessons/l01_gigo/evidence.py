"""The claims of lesson 01 and what backs each one: its evidence box.

Measured figures are recomputed from the answers SmolLM2-135M-Instruct gave when the lesson's requests
were recorded (``01_gigo``); the test suite checks that they still follow.
"""

from __future__ import annotations

from course_lib.lessons._evidence import LOCAL_MODEL, Claim

__all__ = [
    "CLAIMS",
    "classifier_figure",
    "entropy_figure",
    "prompt_writer_figure",
    "spread_figure",
]

RECORDINGS = "01_gigo"


def _tiny():
    from course_lib.providers.registry import get_provider

    return get_provider(model=LOCAL_MODEL, recordings=RECORDINGS)


def spread_figure() -> str:
    """On-topic answers out of 16, vague vs classified with the one best policy."""
    from course_lib.lessons.l01_gigo.scenario import answer_spread, grounded_request, vague_request

    tiny = _tiny()
    params = {"temperature": 0.8, "max_tokens": 80}
    vague = answer_spread(
        [tiny.complete(vague_request("Money not showing"), **params).text for _ in range(16)]
    )
    one = grounded_request("Money not showing", "BALANCE", k=1)
    grounded = answer_spread([tiny.complete(one, **params).text for _ in range(16)])
    return (
        f"on topic: vague {vague.on_topic}/16, classified + 1 policy {grounded.on_topic}/16 "
        f"({grounded.top_topic_share:.0%} on its most common reading)"
    )


def entropy_figure() -> str:
    """Mean entropy over the top 20, vague vs specific, and in how many pairs the specific one is lower."""
    from course_lib.lessons.l01_gigo.entropy import entropy_summary, measure_entropy

    s = entropy_summary(measure_entropy(_tiny()))
    return (
        f"mean over the top 20: vague {s['mean_bits']['vague']:.2f} bits, specific "
        f"{s['mean_bits']['specific']:.2f} bits; specific lower in {s['specific_lower']} of {s['pairs']} pairs"
    )


def prompt_writer_figure() -> str:
    """Held-out score of the human instruction vs the best of the model-written candidates."""
    from course_lib.lessons.l01_gigo.entropy import META_PARAMS, META_PROMPT
    from course_lib.lessons.l01_gigo.prompt_search import pick_and_judge

    tiny = _tiny()
    ask = [{"role": "user", "content": META_PROMPT}]
    candidates = [tiny.complete(ask, **META_PARAMS).text for _ in range(4)]
    v = pick_and_judge(tiny, candidates)
    best = v.best_held_out
    assert best is not None
    return (
        f"held-out exact answers: human-written {v.human_held_out.right}/{v.human_held_out.total}, "
        f"best of {len(v.candidates_dev)} model-written {best.right}/{best.total}"
    )


def classifier_figure() -> str:
    """Right intents out of the labelled queries no FAQ rule answers, SmolLM2 as the classifier."""
    from course_lib.classify import ProviderClassifier
    from course_lib.lessons.l01_gigo.banking import load_banking_kb
    from course_lib.lessons.l01_gigo.scenario import BANKING_BATCH

    kb = load_banking_kb()
    classify = ProviderClassifier(_tiny(), kb.categories, default="OTHER", domain="banking")
    labelled = [(q, label) for q, label in BANKING_BATCH if label != "FAQ"]
    verdicts = [(classify(q), label) for q, label in labelled]
    right = sum(v.category == label for v, label in verdicts)
    lucky = sum(v.category == label and v.confidence == 0 for v, label in verdicts)
    return f"{right} of {len(labelled)} intents right, {lucky} of them only by falling back to OTHER"


CLAIMS = [
    Claim(
        "A vague request scatters a model's answers; classifying it and injecting context pulls them onto the topic",
        "measured",
        "on topic: vague 6/16, classified + 1 policy 14/16 (44% on its most common reading)",
        where="Measuring the spread",
        recordings=RECORDINGS,
        figure=spread_figure,
    ),
    Claim(
        "A specific request lowers the entropy of the next tokens only where the model knows the answer",
        "measured",
        "mean over the top 20: vague 2.33 bits, specific 1.97 bits; specific lower in 3 of 6 pairs",
        where="GIGO in bits",
        recordings=RECORDINGS,
        figure=entropy_figure,
    ),
    Claim(
        "A 135M model cannot write a usable prompt for itself: score candidates before trusting them",
        "measured",
        "held-out exact answers: human-written 2/20, best of 4 model-written 0/20",
        where="Should a model write the prompt?",
        recordings=RECORDINGS,
        figure=prompt_writer_figure,
    ),
    Claim(
        "A model tier is only as good as its model: measure the classifier on labelled queries",
        "measured",
        "5 of 11 intents right, 2 of them only by falling back to OTHER",
        where="The classifier: the cheap step",
        recordings=RECORDINGS,
        figure=classifier_figure,
    ),
    Claim(
        "Training on recursively generated data makes models forget the tails of the distribution (model collapse)",
        "cited",
        "Shumailov, Shumaylov, Zhao, Papernot, Anderson & Gal, 2024, Nature 631: language models, VAEs and "
        "Gaussian mixtures trained generation after generation on their own output",
        where="Should a model write the prompt?",
    ),
    Claim(
        "Model-written instructions, scored and selected on data, match human ones on large models",
        "cited",
        "Zhou et al., 2023 (APE, ICLR), InstructGPT: better than or comparable to human instructions on 24 of 24 "
        "Instruction Induction tasks and 17 of 21 BIG-Bench tasks",
        where="Should a model write the prompt?",
    ),
    Claim(
        "An optimiser model can improve on human-designed prompts",
        "cited",
        "Yang et al., 2024 (OPRO, ICLR), PaLM 2-L as scorer: up to 8% better than human-designed prompts on "
        "GSM8K and up to 50% on Big-Bench Hard tasks",
        where="Should a model write the prompt?",
    ),
    Claim(
        "The tiered pipeline answers cheap queries with rules, escalates unsure ones, validates and hands off",
        "illustrated",
        "classifier and answer replies of gpt-4o-mini and gpt-4o are scripted; routing, validation and cost are computed",
        where="The pipeline on a batch",
    ),
    Claim(
        "The cascade cuts the daily bill",
        "illustrated",
        "assumed per-tier prices and tier mix, computed by cascade_economics (change them with the sliders)",
        where="The economics of the cascade",
    ),
]
