"""Lesson 11's evidence box: each claim about evaluation and what backs it (lesson 11).

The measured figures are recomputed from the SmolLM2-135M recordings (``11_evaluation``, and lesson
07's for the contacts) by the functions the lesson calls; the test suite checks they still match.
"""

from __future__ import annotations

from course_lib.lessons._evidence import Claim
from course_lib.lessons.l11_evaluation.runs import LOCAL_MODEL, RECORDINGS

__all__ = ["CLAIMS", "gate_verdicts", "intent_figure", "judge_figure", "migration_figure", "version_figure"]


def version_figure() -> str:
    """Exact-JSON answers of the two prompt versions over 44 sentences x 5 epochs (lesson 11)."""
    from course_lib.lessons.l11_evaluation.runs import run_names

    parts = []
    for version in ("1.0.0", "2.0.0"):
        k, n = run_names(version).passed("exact_json")
        parts.append(f"{version}: {k}/{n}")
    return "exact JSON answers " + ", ".join(parts)


def gate_verdicts() -> str:
    """The gate on the upgrade and on the rollback (lesson 11)."""
    from course_lib.evals.gate import gate
    from course_lib.lessons.l11_evaluation.runs import run_names

    old, new = run_names("1.0.0").scores["exact_json"], run_names("2.0.0").scores["exact_json"]
    up, down = gate(old, new), gate(new, old)
    return (
        f"1.0.0→2.0.0 {'passes' if up.passed else 'blocked'}; 2.0.0→1.0.0 "
        f"{'passes' if down.passed else 'blocked'} ({down.lost} answers lost, {down.gained} gained, p = {down.p_value:.1g})"
    )


def intent_figure() -> str:
    """Right intents of lesson 01's classifier prompt on SmolLM2, 20 queries x 5 epochs (lesson 11)."""
    from course_lib.lessons.l11_evaluation.runs import run_intents

    k, n = run_intents().passed("intent_match")
    return f"{k} of {n} answers name the labelled intent"


def judge_figure() -> str:
    """The SmolLM2 judge against the human labels (lesson 11)."""
    from course_lib.lessons.l11_evaluation.judge import judge_agreement
    from course_lib.providers.registry import get_provider

    a = judge_agreement(get_provider("replay", model=LOCAL_MODEL, recordings=RECORDINGS))
    return f"agrees on {a.agree} of {a.items}; Cohen's kappa {a.kappa:.2f}"


def migration_figure() -> str:
    """Where the staged rollout stops a candidate that ignores the worked examples (lesson 11)."""
    from course_lib.lessons.l11_evaluation.compare import rollout, rotate_epochs
    from course_lib.lessons.l11_evaluation.runs import run_names

    incumbent = run_names("2.0.0").scores["exact_json"]
    same = rollout(incumbent, rotate_epochs(incumbent))
    bad = rollout(incumbent, run_names("1.0.0").scores["exact_json"])
    stopped = next((s for s in bad if not s.passed), None)
    where = f"rolled back at {stopped.share:.0%} ({stopped.cases} cases)" if stopped else "never stopped"
    return f"new draw of the same model: {sum(s.passed for s in same)}/{len(same)} stages pass; example-blind candidate {where}"


CLAIMS = [
    Claim(
        "Worked examples move this model: the plain instruction almost never gives the exact JSON, three examples usually do",
        "measured",
        "exact JSON answers 1.0.0: 2/220, 2.0.0: 165/220",
        where="A first eval on Inspect",
        recordings=RECORDINGS,
        figure=version_figure,
    ),
    Claim(
        "A paired gate passes the upgrade and blocks the rollback",
        "measured",
        "1.0.0→2.0.0 passes; 2.0.0→1.0.0 blocked (164 answers lost, 1 gained, p = 7e-48)",
        where="Two versions, case by case",
        recordings=RECORDINGS,
        figure=gate_verdicts,
    ),
    Claim(
        "The eval shows SmolLM2 unfit to be lesson 01's intent classifier",
        "measured",
        "43 of 100 answers name the labelled intent",
        where='An eval that says "not this model"',
        recordings=RECORDINGS,
        figure=intent_figure,
    ),
    Claim(
        "A small model judge agrees with people no better than chance, so its verdicts are not used",
        "measured",
        "agrees on 12 of 30; Cohen's kappa -0.20",
        where="A model judge, checked before it is trusted",
        recordings=RECORDINGS,
        figure=judge_figure,
    ),
    Claim(
        "Staged rollout with the gate: a new draw of the same model goes through, a worse candidate is stopped",
        "measured",
        "new draw of the same model: 4/4 stages pass; example-blind candidate rolled back at 5% (2 cases)",
        where="The same eval gates a migration",
        recordings=RECORDINGS,
        figure=migration_figure,
    ),
    Claim(
        "The Wilson interval stays inside [0, 1] and does not collapse at 0 or n passes, unlike p ± 1.96·SE",
        "cited",
        "Wilson, E. B. (1927), Probable inference, the law of succession, and statistical inference, JASA 22(158)",
        where="Epochs",
    ),
    Claim(
        "Paired answers are compared by their discordant pairs alone",
        "cited",
        "McNemar, Q. (1947), Note on the sampling error of the difference between correlated proportions, Psychometrika 12(2)",
        where="Two versions, case by case",
    ),
    Claim(
        "Agreement beyond chance is measured with kappa, not raw agreement",
        "cited",
        "Cohen, J. (1960), A coefficient of agreement for nominal scales, Educational and Psychological Measurement 20(1)",
        where="A model judge, checked before it is trusted",
    ),
]
