"""Two prompt versions compared case by case, and the same gate on a staged migration (lesson 11).

:func:`case_table` lines up two runs per case (passes out of the epochs); :func:`rollout` walks a
migration through canary → gradual stages: at each stage a share of the golden cases (chosen by a
stable hash of the case id, as a router picks users) goes to the candidate, the regression gate
compares the candidate's answers with the incumbent's on exactly those cases, and the rollout stops
and rolls back at the first stage the gate fails.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from pydantic import BaseModel

from course_lib.evals.gate import GateResult, gate

__all__ = ["STAGES", "Stage", "bucket", "case_table", "rollout", "rotate_epochs"]

STAGES: tuple[float, ...] = (0.05, 0.25, 0.5, 1.0)
"""The rollout's shares of traffic: a canary, then gradual steps (lesson 11)."""

Run = Mapping[str, Sequence[bool]]


def case_table(before: Run, after: Run) -> list[tuple[str, int, int]]:
    """(case id, passes before, passes after) for the cases whose count changed, biggest loss first."""
    rows = [
        (case, sum(before[case]), sum(after[case]))
        for case in before
        if sum(before[case]) != sum(after[case])
    ]
    return sorted(rows, key=lambda r: (r[2] - r[1], r[0]))


def bucket(case_id: str) -> float:
    """A stable number in [0, 1) for a case id: the router's hash (lesson 11)."""
    return int(hashlib.sha256(case_id.encode()).hexdigest()[:8], 16) / 16**8


class Stage(BaseModel):
    """One stage of a rollout: its share, the cases routed to the candidate, and the gate's verdict."""

    share: float
    cases: int
    result: GateResult | None
    """None when the stage routed too few cases to judge (it then holds)."""

    @property
    def passed(self) -> bool:
        """The stage may proceed."""
        return self.result is None or self.result.passed


def rotate_epochs(run: Run, by: int = 1) -> dict[str, list[bool]]:
    """The same answers with the epochs rotated: another draw of the same model, paired differently."""
    return {case: list(v[by:]) + list(v[:by]) for case, v in run.items()}


def rollout(
    incumbent: Run, candidate: Run, stages: Sequence[float] = STAGES, *, alpha: float = 0.05
) -> list[Stage]:
    """Walk the candidate through ``stages``; stop after the first stage whose gate fails (lesson 11)."""
    out: list[Stage] = []
    for share in stages:
        routed = [case for case in incumbent if bucket(case) < share]
        result = (
            gate(
                {c: incumbent[c] for c in routed},
                {c: candidate[c] for c in routed},
                alpha=alpha,
                tolerance=1.0,
            )
            if routed
            else None
        )
        out.append(Stage(share=share, cases=len(routed), result=result))
        if result is not None and not result.passed:
            break
    return out
