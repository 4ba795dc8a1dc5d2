"""The regression gate: fail a prompt change that makes the eval worse, with an exit code CI reads (lesson 11).

:func:`gate` compares two runs on the same cases and epochs: pass rates with Wilson intervals, the cases
that flipped, and the exact McNemar test on the paired answers. It fails the candidate when it loses
more answers than it gains and the difference is unlikely to be chance (``p < alpha``), or when its
pass rate drops more than ``tolerance`` below the baseline. From the command line::

    python -m course_lib.evals.gate --baseline 1.0.0 --candidate 2.0.0

runs the ``name_extraction`` task on both versions of the ``name_extractor`` prompt (replayed by
default) and exits 1 when the candidate regresses, 0 when it may ship.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence

from pydantic import BaseModel

from course_lib.evals.stats import mcnemar_exact, wilson_interval

__all__ = ["GateResult", "gate", "main"]


class GateResult(BaseModel):
    """The gate's verdict with everything it was based on (lesson 11)."""

    passed: bool
    baseline_rate: float
    candidate_rate: float
    baseline_interval: tuple[float, float]
    candidate_interval: tuple[float, float]
    lost: int
    gained: int
    p_value: float
    flipped_cases: dict[str, int]
    """case id → candidate passes minus baseline passes over the epochs (only cases that changed)."""
    reason: str

    def report(self) -> str:
        """The verdict in a few lines, for a CI log."""
        lo_b, hi_b = self.baseline_interval
        lo_c, hi_c = self.candidate_interval
        return (
            f"baseline  {self.baseline_rate:.1%} [{lo_b:.1%}, {hi_b:.1%}]\n"
            f"candidate {self.candidate_rate:.1%} [{lo_c:.1%}, {hi_c:.1%}]\n"
            f"paired answers: {self.lost} lost, {self.gained} gained (exact McNemar p = {self.p_value:.3g})\n"
            f"{'PASS' if self.passed else 'FAIL'}: {self.reason}"
        )


def gate(
    baseline: Mapping[str, Sequence[bool]],
    candidate: Mapping[str, Sequence[bool]],
    *,
    alpha: float = 0.05,
    tolerance: float = 0.0,
) -> GateResult:
    """Compare two runs (case id → pass per epoch) on the same cases and epochs (lesson 11)."""
    if set(baseline) != set(candidate) or not baseline:
        raise ValueError("the gate compares two runs on the same, non-empty set of cases")
    lost = gained = 0
    flipped: dict[str, int] = {}
    for case, before in baseline.items():
        after = candidate[case]
        if len(after) != len(before):
            raise ValueError(f"case {case}: {len(before)} baseline epochs but {len(after)} candidate epochs")
        lost += sum(b and not a for b, a in zip(before, after, strict=True))
        gained += sum(a and not b for b, a in zip(before, after, strict=True))
        delta = sum(after) - sum(before)
        if delta:
            flipped[case] = delta
    n = sum(len(v) for v in baseline.values())
    k_base = sum(sum(v) for v in baseline.values())
    k_cand = sum(sum(v) for v in candidate.values())
    p = mcnemar_exact(lost, gained)
    drop = (k_base - k_cand) / n
    if lost > gained and p < alpha:
        passed, reason = (
            False,
            f"significant regression: {lost} answers lost vs {gained} gained, p < {alpha:g}",
        )
    elif drop > tolerance:
        passed, reason = False, f"pass rate dropped by {drop:.1%}, more than the tolerance of {tolerance:.1%}"
    else:
        passed, reason = True, "no regression beyond chance and tolerance"
    return GateResult(
        passed=passed,
        baseline_rate=k_base / n,
        candidate_rate=k_cand / n,
        baseline_interval=wilson_interval(k_base, n),
        candidate_interval=wilson_interval(k_cand, n),
        lost=lost,
        gained=gained,
        p_value=p,
        flipped_cases=flipped,
        reason=reason,
    )


def _default_log_dir() -> str:
    import os
    import tempfile
    from pathlib import Path

    return os.environ.get("COURSE_EVAL_LOGS") or str(Path(tempfile.gettempdir()) / "course-inspect-logs")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m course_lib.evals.gate``: exit 1 when the candidate prompt version regresses (lesson 11)."""
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.evals.gate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--baseline", required=True, help="the name_extractor version in production")
    parser.add_argument("--candidate", required=True, help="the version that wants to ship")
    parser.add_argument(
        "--model", default="course/replay/SmolLM2-135M-Instruct", help="the model the candidate runs on"
    )
    parser.add_argument(
        "--baseline-model",
        default=None,
        help="the model the baseline runs on (default: --model); drift: replay vs live",
    )
    parser.add_argument(
        "--recordings", default="11_evaluation", help="replay recordings (replay models only)"
    )
    parser.add_argument("--scorer", default="exact_json")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--tolerance", type=float, default=0.0)
    parser.add_argument(
        "--log-dir",
        default=None,
        help="where Inspect writes its logs (default: COURSE_EVAL_LOGS or a temp folder)",
    )
    args = parser.parse_args(argv)

    from inspect_ai import eval as inspect_eval

    from course_lib.evals.tasks import name_extraction

    runs = []
    for version, model in ((args.baseline, args.baseline_model or args.model), (args.candidate, args.model)):
        model_args = {"recordings": args.recordings} if model.startswith("course/replay") else {}
        (log,) = inspect_eval(
            name_extraction(version=version, epochs=args.epochs),
            model=model,
            model_args=model_args,
            log_dir=args.log_dir or _default_log_dir(),
            display="none",
            log_level="error",
            log_realtime=False,
            score_display=False,
        )
        if log.status != "success":
            print(f"eval of version {version} ended {log.status}: {log.error}", file=sys.stderr)
            return 2
        scores: dict[str, list[bool]] = {}
        for sample in sorted(log.samples or [], key=lambda s: (str(s.id), s.epoch)):
            scores.setdefault(str(sample.id), []).append(sample.scores[args.scorer].value == "C")
        runs.append(scores)
    result = gate(runs[0], runs[1], alpha=args.alpha, tolerance=args.tolerance)
    print(
        f"name_extractor {args.baseline} on {args.baseline_model or args.model} → "
        f"{args.candidate} on {args.model} ({args.scorer})"
    )
    print(result.report())
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
