"""Tests for the lesson 06 pull-request review: the synthetic PR, the map-reduce pipeline, the token budgets."""

from __future__ import annotations

import hashlib
import json
import re
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from course_lib.conversation import BudgetTooSmallError
from course_lib.lessons.l06_agent_loop.pr_budget import (
    FINAL_REQUEST,
    SEQUENTIAL_SYSTEM,
    map_reduce_latency,
    run_sequential,
    whole_pr_messages,
)
from course_lib.lessons.l06_agent_loop.pr_review import (
    FileReview,
    cross_file_patterns,
    file_message,
    final_review_messages,
    finding_line,
    review_pr,
    select_findings,
)
from course_lib.lessons.l06_agent_loop.pr_synthetic import ISSUE_KINDS, synthetic_pr
from course_lib.providers.scripted import ScriptedProvider
from course_lib.tokens import count_message_tokens

PR = synthetic_pr()

# What each planted problem looks like on its line (independent of the generator's bookkeeping).
EVIDENCE = {
    "sql_injection": 'execute(f"SELECT',
    "missing_auth_check": "def export_",
    "debug_enabled": "enabled: true",
    "float_money": "float(item.amount_cents)",
    "missing_none_check": "plan.seat_price_cents",
    "unbounded_retry": "while True:",
    "n_plus_one": "self.db.query(",
    "off_by_one_pagination": "start + size + 1",
    "missing_index": "op.foreign_key(",
    "broad_except": "except Exception:",
    "naive_datetime": "datetime.now()",
    "skipped_test": "@pytest.mark.skip",
}


def added_lines(diff: str) -> dict[int, str]:
    """New-file line number -> text of every '+' line, read from the hunk headers."""
    lines: dict[int, str] = {}
    number = 0
    for line in diff.splitlines():
        hunk = re.match(r"@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@", line)
        if hunk:
            number = int(hunk.group(1))
            continue
        if line.startswith(("+++", "---", "diff ", "new file")):
            continue
        if line.startswith("+"):
            lines[number] = line[1:]
            number += 1
        elif line.startswith(" "):
            number += 1
    return lines


# --------------------------------------------------------------------------- the synthetic PR


def test_synthetic_pr_has_fifty_unique_files_and_twenty_planted_issues() -> None:
    assert len(PR.files) == 50
    assert len({f.path for f in PR.files}) == 50
    assert len(PR.issues) == sum(k.count for k in ISSUE_KINDS.values()) == 20
    assert {f.kind for f in PR.files} == {
        "api",
        "domain",
        "storage",
        "jobs",
        "migration",
        "test",
        "web",
        "config",
        "doc",
    }
    assert {f.status for f in PR.files} == {"added", "modified"}


def test_every_planted_issue_sits_on_an_added_line_that_shows_it() -> None:
    for file in PR.files:
        added = added_lines(file.diff)
        assert file.added == len(added)
        for issue in file.issues:
            assert issue.line in added, (file.path, issue)
            assert EVIDENCE[issue.kind] in added[issue.line], (file.path, issue, added[issue.line])
            assert issue.kind in ISSUE_KINDS and ISSUE_KINDS[issue.kind].file_kind == file.kind


def test_diffs_are_unified_diffs_with_headers_and_no_marker_left() -> None:
    for file in PR.files:
        first = file.diff.splitlines()[0]
        assert first == f"diff --git a/{file.path} b/{file.path}"
        assert f"+++ b/{file.path}" in file.diff
        assert ("--- /dev/null" in file.diff) == (file.status == "added")
        assert "#!" not in file.diff and "$" not in file.diff.replace("${", "")
        assert file.added > 0


def test_same_seed_same_pr_other_seed_other_pr() -> None:
    # The lesson's recordings are keyed on these diffs: a change to the generator must be deliberate.
    digest = hashlib.sha256("".join(f.diff for f in PR.files).encode()).hexdigest()
    assert digest == hashlib.sha256("".join(f.diff for f in synthetic_pr().files).encode()).hexdigest()
    assert digest != hashlib.sha256("".join(f.diff for f in synthetic_pr(seed=7).files).encode()).hexdigest()
    small = synthetic_pr(n_files=12)
    assert len(small.files) == 12 and len({f.path for f in small.files}) == 12
    with pytest.raises(ValueError, match="at least one file"):
        synthetic_pr(n_files=0)


# --------------------------------------------------------------------------- the review schema


def review(path: str, severity: int, *issues: tuple[str, int, int]) -> FileReview:
    return FileReview(
        path=path,
        summary=f"summary of {path}",
        severity=severity,
        issues=[{"kind": k, "line": line, "severity": s, "description": "d"} for k, line, s in issues],
    )


def test_file_review_rejects_the_wrong_path_and_a_severity_below_its_issues() -> None:
    data = {"path": "a.py", "summary": "ok", "severity": 3, "issues": [{"kind": "x", "line": 2, "severity": 7, "description": "d"}]}  # fmt: skip
    with pytest.raises(ValidationError, match="below the worst issue"):
        FileReview.model_validate(data)
    with pytest.raises(ValidationError, match=r"must be 'b\.py'"):
        FileReview.model_validate({**data, "severity": 7}, context={"path": "b.py"})
    with pytest.raises(ValidationError):
        FileReview.model_validate({**data, "severity": 11})
    assert FileReview.model_validate({**data, "severity": 7}, context={"path": "a.py"}).severity == 7


def test_finding_line_and_patterns() -> None:
    reviews = [
        review("a.py", 9, ("sql_injection", 3, 9), ("broad_except", 9, 4)),
        review("b.py", 9, ("sql_injection", 5, 9), ("sql_injection", 8, 9)),
        review("c.py", 4, ("broad_except", 1, 4)),
        review("d.py", 9, ("sql_injection", 1, 9)),
        review("e.py", 0),
    ]
    assert (
        finding_line(reviews[0])
        == "- a.py (severity 9): summary of a.py [sql_injection at line 3, broad_except at line 9]"
    )
    assert finding_line(reviews[4]) == "- e.py (severity 0): summary of e.py"
    assert cross_file_patterns(reviews) == {"sql_injection": ["a.py", "b.py", "d.py"]}
    assert cross_file_patterns(reviews, min_files=2) == {
        "sql_injection": ["a.py", "b.py", "d.py"],
        "broad_except": ["a.py", "c.py"],
    }


# --------------------------------------------------------------------------- packing the final prompt

REVIEWS = [review(f"src/m{i:02d}.py", (i * 7) % 11, *([("bug", 1, (i * 7) % 11)] if (i * 7) % 11 else [])) for i in range(30)]  # fmt: skip


def final_tokens(included, omitted, reviews=REVIEWS) -> int:
    messages = final_review_messages(
        "T",
        [finding_line(r) for r in included],
        reviewed=len(reviews),
        omitted=len(omitted),
        clean=sum(1 for r in reviews if r.severity == 0),
    )
    return count_message_tokens(messages, "gpt-4o-mini")


@settings(max_examples=40, deadline=None)
@given(budget=st.integers(min_value=120, max_value=1200))
def test_select_findings_fits_the_budget_most_severe_first(budget: int) -> None:
    included, omitted = select_findings(REVIEWS, budget, title="T")
    assert final_tokens(included, omitted) <= budget
    ranked = sorted((r for r in REVIEWS if r.severity), key=lambda r: (-r.severity, r.path))
    assert included + omitted == ranked  # a prefix of the ranking is kept, nothing is lost
    if omitted:  # the next finding really did not fit
        assert final_tokens([*included, omitted[0]], omitted[1:]) > budget


def test_select_findings_raises_when_nothing_fits() -> None:
    with pytest.raises(BudgetTooSmallError):
        select_findings(REVIEWS, 20, title="T")
    assert select_findings([review("a.py", 0)], 500, title="T") == ([], [])


# --------------------------------------------------------------------------- the pipeline


def files(n: int) -> list:
    return [SimpleNamespace(path=f"f{i}.py", diff=f"+line {i}\n") for i in range(1, n + 1)]


def responder(bad: set[str] | None = None):
    def reply(messages, params):
        user = messages[1]["content"]
        if user.startswith("Pull request:"):
            return "REQUEST CHANGES"
        path = user.split(": ", 1)[1].split("\n", 1)[0]
        if path in (bad or set()):
            return "I cannot review this."
        n = int(path[1:-3])
        issues = [{"kind": "bug", "line": 1, "severity": n, "description": "d"}] if n % 2 else []
        return json.dumps({"path": path, "summary": f"s{n}", "severity": n if n % 2 else 0, "issues": issues})

    return reply


def test_review_pr_maps_each_file_then_reduces_within_budget() -> None:
    provider = ScriptedProvider(responder())
    result = review_pr(provider, files(6), title="T", final_budget=400)
    assert [r.path for r in result.reviews] == [f"f{i}.py" for i in range(1, 7)]
    assert result.calls == 7 == len(provider.calls)
    per_file_calls = provider.calls[:6]
    assert all(
        len(c.messages) == 2 and c.params["response_format"] == {"type": "json_object"}
        for c in per_file_calls
    )
    assert (
        "f3.py" in per_file_calls[2].messages[1]["content"]
        and "+line 3" in per_file_calls[2].messages[1]["content"]
    )
    assert [r.path for r in result.included] == ["f5.py", "f3.py", "f1.py"]
    assert result.final_prompt_tokens <= 400
    assert result.final_text == "REQUEST CHANGES"
    assert result.usage.prompt_tokens == sum(count_message_tokens(c.messages) for c in provider.calls)
    assert result.peak_prompt_tokens == max([*result.file_prompt_tokens, result.final_prompt_tokens])


def test_review_pr_corrects_once_then_lists_files_it_could_not_review() -> None:
    provider = ScriptedProvider(responder(bad={"f2.py"}))
    result = review_pr(provider, files(3), title="T", max_attempts=2)
    assert result.failed.keys() == {"f2.py"}
    assert "no JSON object" in result.failed["f2.py"]
    assert [r.path for r in result.reviews] == ["f1.py", "f3.py"]
    correction = provider.calls[2]
    assert (
        correction.messages[-1]["role"] == "user"
        and "could not be used" in correction.messages[-1]["content"]
    )
    assert result.calls == 3 + 2  # f1, f2 twice, f3, the final call
    with pytest.raises(ValueError, match="no files"):
        review_pr(provider, [], title="T")


# --------------------------------------------------------------------------- token budgets

FEW = list(PR.files[:6])
REPLIES = [
    json.dumps({"path": f.path, "summary": f"summary {i}", "severity": 0, "issues": []})
    for i, f in enumerate(FEW)
]


def test_full_history_sends_everything_before_each_file() -> None:
    run = run_sequential(FEW, REPLIES, title="T")
    assert run.status == "answered" and run.files_reviewed == 6 and len(run.per_iteration) == 7
    head = [
        {"role": "system", "content": SEQUENTIAL_SYSTEM},
        {"role": "user", "content": "Pull request: T\n6 files follow, one per message."},
    ]
    history = []
    for i, file in enumerate(FEW, start=1):
        current = {"role": "user", "content": file_message(file.path, file.diff, i, 6)}
        assert run.per_iteration[i - 1] == count_message_tokens([*head, *history, current], "gpt-4o-mini")
        history += [current, {"role": "assistant", "content": REPLIES[i - 1]}]
    final = {"role": "user", "content": FINAL_REQUEST}
    assert run.per_iteration[-1] == count_message_tokens([*head, *history, final], "gpt-4o-mini")


def test_hierarchical_memory_sends_less_and_stops_where_told() -> None:
    full = run_sequential(FEW, REPLIES, title="T")
    tiered = run_sequential(FEW, REPLIES, title="T", working_limit=1, short_term_limit=2, k=1)
    assert tiered.tokens.total < full.tokens.total
    assert all(t <= f for t, f in zip(tiered.per_iteration, full.per_iteration, strict=True))
    stopped = run_sequential(FEW, REPLIES, title="T", max_iterations=4)
    assert (stopped.status, stopped.files_reviewed, len(stopped.per_iteration)) == ("max_iterations", 4, 4)
    assert "stopped at max_iterations=4" in stopped.describe()
    window = full.per_iteration[3]  # iteration 5 is the first that does not fit
    overflow = run_sequential(FEW, REPLIES, title="T", window=window)
    assert (overflow.status, overflow.files_reviewed) == ("context_overflow", 4)
    assert "failed at iteration 5" in overflow.describe()
    with pytest.raises(ValueError, match="one reply per file"):
        run_sequential(FEW, REPLIES[:-1], title="T")


def test_whole_pr_prompt_and_latency() -> None:
    messages = whole_pr_messages("T", "D", FEW)
    assert all(f.diff.rstrip() in messages[1]["content"] for f in FEW)
    assert map_reduce_latency(50, 3.0, 50) == 6.0
    assert map_reduce_latency(50, 3.0, 8) == 7 * 3.0 + 3.0
    assert map_reduce_latency(50, 3.0, 1, final_s=5.0) == 155.0
    with pytest.raises(ValueError):
        map_reduce_latency(5, 1.0, 0)


def test_lesson_recordings_cover_the_whole_review() -> None:
    from course_lib import get_provider

    provider = get_provider(recordings="06_agent_loop", model="gpt-4o-mini")
    result = review_pr(provider, list(PR.files), title=PR.title, final_budget=700)
    assert len(result.reviews) == 50 and not result.failed
    assert result.calls == 52  # one file needed one correction
    assert result.final_text.startswith("REQUEST CHANGES")


def test_plots_of_growth_and_budgets() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.lessons.l06_agent_loop.plots import plot_context_growth, plot_strategy_budget
    from course_lib.lessons.l06_agent_loop.pr_budget import StrategyTokens

    fig = plot_context_growth({"a": [1, 2, 3], "b": [1, 1, 1]}, windows={"w": 2})
    left, right = fig.axes
    assert [list(line.get_ydata()) for line in right.lines] == [[1, 3, 6], [1, 2, 3]]
    assert [list(line.get_ydata()) for line in left.lines][-1] == [2, 2]  # the window
    plt.close(fig)
    rows = [StrategyTokens("one", (10,)), StrategyTokens("many", (3, 4, 5))]
    assert (rows[1].calls, rows[1].peak, rows[1].total) == (3, 5, 12)
    fig = plot_strategy_budget(rows, window=("w", 8))
    assert [t.get_text() for t in fig.axes[1].texts] == ["10", "12"]
    plt.close(fig)
    for bad in (lambda: plot_context_growth({}), lambda: plot_strategy_budget([])):
        with pytest.raises(ValueError, match="empty"):
            bad()


def test_loop_budget_report_and_widget() -> None:
    from course_lib.lessons.l06_agent_loop.widgets import loop_budget_report, loop_budget_widget

    text = loop_budget_report(FEW, REPLIES, title="T", max_iterations=3, working_limit=1, window=None)
    first, full, tiered = text.splitlines()
    assert first == "max_iterations=3, working memory=1 file(s), no window limit"
    assert full.startswith("full history") and "stopped at max_iterations=3: 3 of 6 files" in full
    assert tiered.startswith("hierarchical (w=1)")
    widget = loop_budget_widget(FEW, REPLIES, title="T")
    sliders = {c.description: c for c in widget.children if hasattr(c, "description")}
    assert sliders["max iterations"].value == 7 and sliders["working memory (files)"].value == 3
