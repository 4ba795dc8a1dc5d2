"""Review a large pull request by map-reduce: one call per file, then one call over the summaries (lesson 06).

An agent that reads 50 files into one growing history re-sends everything it has read on every
call. This pipeline never does: each file is reviewed on its own (*map*: the file's diff in, a
validated JSON review out, with one correction round for invalid replies), and the overall review is
written from the per-file summaries alone (*reduce*), packed most severe first into a token budget
so the final prompt can never outgrow it. Problems that recur across files are found in code, not by
the model. The provider is injected; the pipeline works with any object that has ``complete``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from course_lib.conversation import BudgetTooSmallError
from course_lib.providers.base import Usage
from course_lib.tokens import count_message_tokens
from course_lib.validators import ValidationFailedError, generate_validated

__all__ = [
    "FINAL_SYSTEM",
    "REVIEW_PARAMS",
    "REVIEW_SYSTEM",
    "FileReview",
    "Issue",
    "PRReviewResult",
    "cross_file_patterns",
    "file_message",
    "file_review_messages",
    "final_review_messages",
    "finding_line",
    "review_pr",
    "select_findings",
]

REVIEW_SYSTEM = """\
You review one file of a pull request. Reply with one JSON object and nothing else:
{"path": "<the file's path>", "summary": "<one sentence: what the change does and its main risk>", \
"severity": <0-10: the worst problem in the file, 0 if none>, "issues": [{"kind": "<snake_case>", \
"line": <line number in the new file>, "severity": <1-10>, "description": "<one sentence>"}]}
Report bugs, security holes, data-loss risks and missing tests; ignore style. An empty list of issues \
is a good answer for a good file."""
"""Instructions of every per-file review call (lesson 06)."""

FINAL_SYSTEM = """\
You write the overall review of a pull request from the findings of per-file reviews. Start with \
one of APPROVE, REQUEST CHANGES or REJECT on its own line, then the three problems to fix first \
(file and line), then what is good about the change, in at most 150 words."""
"""Instructions of the final (reduce) call (lesson 06)."""

REVIEW_PARAMS: dict[str, Any] = {"temperature": 0.0, "response_format": {"type": "json_object"}}
"""Sampling parameters of the per-file calls: deterministic JSON (lesson 06)."""


class Issue(BaseModel):
    """One problem a reviewer found: kind, line in the new file, severity 1-10, description (lesson 06)."""

    model_config = ConfigDict(frozen=True)

    kind: str = Field(min_length=1)
    line: int = Field(ge=1)
    severity: int = Field(ge=1, le=10)
    description: str = Field(min_length=1)


class FileReview(BaseModel):
    """The validated review of one file: path, one-sentence summary, severity 0-10, issues (lesson 06).

    Validate with ``context={"path": ...}`` to also check the reply is about the file that was sent.
    """

    model_config = ConfigDict(frozen=True)

    path: str
    summary: str = Field(min_length=1)
    severity: int = Field(ge=0, le=10)
    issues: list[Issue] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> FileReview:
        expected = (info.context or {}).get("path")
        if expected is not None and self.path != expected:
            raise ValueError(f"path must be {expected!r} (the file under review), not {self.path!r}")
        worst = max((i.severity for i in self.issues), default=0)
        if self.severity < worst:
            raise ValueError(f"severity {self.severity} is below the worst issue's severity {worst}")
        return self


def file_message(path: str, diff: str, index: int, total: int) -> str:
    """The user message that hands one file's diff to a reviewer (lesson 06)."""
    return f"File {index} of {total}: {path}\n```diff\n{diff.rstrip()}\n```"


def file_review_messages(path: str, diff: str, index: int, total: int) -> list[dict[str, str]]:
    """The messages of one per-file review call: instructions, then the file (lesson 06)."""
    return [
        {"role": "system", "content": REVIEW_SYSTEM},
        {"role": "user", "content": file_message(path, diff, index, total)},
    ]


def finding_line(review: FileReview) -> str:
    """One line per reviewed file for the final prompt: path, severity, summary, issue lines (lesson 06)."""
    where = ", ".join(f"{i.kind} at line {i.line}" for i in review.issues)
    return f"- {review.path} (severity {review.severity}): {review.summary}" + (
        f" [{where}]" if where else ""
    )


def cross_file_patterns(reviews: Sequence[FileReview], min_files: int = 3) -> dict[str, list[str]]:
    """Issue kinds found in at least ``min_files`` files, most widespread first: kind -> paths (lesson 06)."""
    seen: dict[str, list[str]] = {}
    for review in reviews:
        for kind in dict.fromkeys(i.kind for i in review.issues):
            seen.setdefault(kind, []).append(review.path)
    common = [(kind, paths) for kind, paths in seen.items() if len(paths) >= min_files]
    return dict(sorted(common, key=lambda kp: (-len(kp[1]), kp[0])))


def final_review_messages(
    title: str,
    findings: Sequence[str],
    *,
    reviewed: int,
    omitted: int = 0,
    clean: int = 0,
    patterns: Mapping[str, Sequence[str]] | None = None,
) -> list[dict[str, str]]:
    """The messages of the reduce call: the PR's title, what was reviewed, patterns, findings (lesson 06)."""
    parts = [f"Pull request: {title}", f"Files reviewed: {reviewed}; files with no findings: {clean}."]
    if patterns:
        parts.append(
            "Problems found in several files:\n"
            + "\n".join(f"- {kind} in {len(paths)} files" for kind, paths in patterns.items())
        )
    parts.append("Findings, most severe first:\n" + "\n".join(findings))
    if omitted:
        parts.append(f"({omitted} lower-severity findings left out to fit the budget.)")
    return [{"role": "system", "content": FINAL_SYSTEM}, {"role": "user", "content": "\n\n".join(parts)}]


def select_findings(
    reviews: Sequence[FileReview],
    budget: int,
    *,
    title: str = "",
    reviewed: int | None = None,
    patterns: Mapping[str, Sequence[str]] | None = None,
    model: str = "gpt-4o-mini",
) -> tuple[list[FileReview], list[FileReview]]:
    """Pack the findings into the final prompt, most severe first, within ``budget`` tokens (lesson 06).

    Only files with findings (severity > 0) compete; ties go to the path in alphabetical order. The
    first finding that does not fit ends the packing, so a less severe finding never takes the place
    of a more severe one. Returns (included, omitted). Raises :class:`BudgetTooSmallError` when not even
    the prompt without findings fits.
    """
    ranked = sorted((r for r in reviews if r.severity > 0), key=lambda r: (-r.severity, r.path))
    clean = sum(1 for r in reviews if r.severity == 0)
    count = reviewed if reviewed is not None else len(reviews)

    def tokens(chosen: Sequence[FileReview], omitted: int) -> int:
        lines = [finding_line(r) for r in chosen]
        messages = final_review_messages(
            title, lines, reviewed=count, omitted=omitted, clean=clean, patterns=patterns
        )
        return count_message_tokens(messages, model)

    floor = tokens([], len(ranked))
    if floor > budget:
        raise BudgetTooSmallError(floor, budget, what="the final prompt without any finding")
    included: list[FileReview] = []
    for i, review in enumerate(ranked):
        if tokens([*included, review], len(ranked) - i - 1) > budget:
            return included, ranked[i:]
        included.append(review)
    return included, []


@dataclass
class PRReviewResult:
    """What the map-reduce review did: reviews, failures, tokens per call, the final review (lesson 06)."""

    reviews: list[FileReview]
    failed: dict[str, str]
    file_prompt_tokens: list[int]
    final_prompt_tokens: int
    included: list[FileReview]
    omitted: list[FileReview]
    patterns: dict[str, list[str]]
    final_text: str
    usage: Usage = field(default_factory=Usage)
    calls: int = 0
    final_messages: list[dict[str, str]] = field(default_factory=list, repr=False)

    @property
    def peak_prompt_tokens(self) -> int:
        """The largest prompt of any call: what the context window must hold."""
        return max([*self.file_prompt_tokens, self.final_prompt_tokens])

    @property
    def total_prompt_tokens(self) -> int:
        """Prompt tokens billed over the whole review, corrections included."""
        return self.usage.prompt_tokens


def review_pr(
    provider: Any,
    files: Sequence[Any],
    *,
    title: str,
    final_budget: int = 1200,
    max_attempts: int = 2,
    params: Mapping[str, Any] | None = None,
    final_params: Mapping[str, Any] | None = None,
    min_pattern_files: int = 3,
    model: str = "gpt-4o-mini",
) -> PRReviewResult:
    """Map: review each file (``.path`` and ``.diff``) on its own; reduce: one review of the findings (lesson 06).

    A file whose replies stay invalid after ``max_attempts`` is listed in ``failed`` and the review
    goes on. The final prompt is built by :func:`select_findings` within ``final_budget`` tokens.
    """
    if not files:
        raise ValueError("the pull request has no files to review")
    reviews: list[FileReview] = []
    failed: dict[str, str] = {}
    per_file: list[int] = []
    usage, calls = Usage(), 0
    for index, file in enumerate(files, start=1):
        messages = file_review_messages(file.path, file.diff, index, len(files))
        per_file.append(count_message_tokens(messages, model))
        try:
            done = generate_validated(
                provider,
                messages,
                FileReview,
                max_attempts,
                params=dict(REVIEW_PARAMS if params is None else params),
                context={"path": file.path},
            )
        except ValidationFailedError as exc:
            failed[file.path] = exc.attempts[-1].error or "invalid reply"
            usage, calls = usage + exc.usage, calls + len(exc.attempts)
            continue
        reviews.append(done.value)
        usage, calls = usage + done.usage, calls + len(done.attempts)
    patterns = cross_file_patterns(reviews, min_pattern_files)
    included, omitted = select_findings(
        reviews, final_budget, title=title, reviewed=len(reviews), patterns=patterns, model=model
    )
    final_messages = final_review_messages(
        title,
        [finding_line(r) for r in included],
        reviewed=len(reviews),
        omitted=len(omitted),
        clean=sum(1 for r in reviews if r.severity == 0),
        patterns=patterns,
    )
    final = provider.complete(final_messages, **dict(final_params or {"temperature": 0.0}))
    return PRReviewResult(
        reviews=reviews,
        failed=failed,
        file_prompt_tokens=per_file,
        final_prompt_tokens=count_message_tokens(final_messages, model),
        included=included,
        omitted=omitted,
        patterns=patterns,
        final_text=final.text,
        usage=usage + final.usage,
        calls=calls + 1,
        final_messages=final_messages,
    )
