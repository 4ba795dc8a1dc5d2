"""Exercise 06: other styles pass, stubs score zero, planted bugs fail (notebooks: test_exercises.py)."""

from __future__ import annotations

import json

from exercise_support import StubClass, assert_fails, assert_stubs_fail, stub

from course_lib.grading import load_exercise
from course_lib.grading.checks import ex06
from course_lib.tokens import count_message_tokens, count_tokens

MODEL = "gpt-4o-mini"

# --------------------------------------------------------------------------- correct implementations in other styles


def run_loop_ok(next_step, max_iterations):
    if max_iterations < 1:
        raise ValueError("need at least one iteration")
    steps, iteration = [], 0
    while True:
        iteration += 1
        step = next_step(steps[:])
        steps.append(step)
        if step["step_type"] == "final_answer":
            return {"status": "answered", "answer": step["answer"], "iterations": iteration, "steps": steps}
        if iteration >= max_iterations:
            return {"status": "max_iterations", "answer": None, "iterations": iteration, "steps": steps}


class MemoryOk:
    def __init__(self, summarise, working_limit=3, short_term_limit=5):
        if min(working_limit, short_term_limit) < 1:
            raise ValueError("limits")
        self.summarise, self.w, self.s = summarise, working_limit, short_term_limit
        self.working, self.short_term, self.long_term = [], [], []

    def add(self, step):
        self.working.append(step)
        while len(self.working) > self.w:
            self.short_term.append(self.summarise(self.working.pop(0)))
            while len(self.short_term) > self.s:
                self.long_term.append(self.short_term.pop(0))


def build_context_ok(system, task, steps, budget, model=MODEL):
    """Another style: grow from the newest step while it fits."""
    head = [{"role": "system", "content": system}, {"role": "user", "content": task}]
    if count_message_tokens(head, model) > budget:
        raise ValueError("too small")
    n = 0
    while n < len(steps):
        trial = head + [{"role": "assistant", "content": s} for s in steps[len(steps) - n - 1 :]]
        if count_message_tokens(trial, model) > budget:
            break
        n += 1
    return head + [{"role": "assistant", "content": s} for s in steps[len(steps) - n :]]


def _valid(text):
    try:
        data = json.loads(text)
    except ValueError:
        return None
    ok = (
        isinstance(data, dict)
        and isinstance(data.get("summary"), str)
        and data["summary"].strip()
        and type(data.get("severity")) is int
        and 0 <= data["severity"] <= 10
    )
    return {"summary": data["summary"], "severity": data["severity"]} if ok else None


def review_files_ok(provider, files, *, carry_history=False, retry=True, keep_reply=True, retries=1):
    results, conversation = {}, []
    for path, diff in files:
        messages = [{"role": "system", "content": "Review. JSON only."}]
        messages += conversation if carry_history else []
        messages.append({"role": "user", "content": f"{path}\n{diff}"})
        reply = provider.complete(messages, temperature=0).text
        value = _valid(reply)
        for _ in range(retries if retry else 0):
            if value is not None:
                break
            again = [*messages, {"role": "assistant", "content": reply}] if keep_reply else list(messages)
            again.append({"role": "user", "content": "That was not the JSON object asked for."})
            reply = provider.complete(again, temperature=0).text
            value = _valid(reply)
        if carry_history:
            conversation += [messages[-1], {"role": "assistant", "content": reply}]
        results[path] = value
    return results


def test_correct_implementations_in_another_style_pass() -> None:
    ex06.check_run_loop(run_loop_ok)
    ex06.check_tiered_memory(MemoryOk)
    ex06.check_build_context(build_context_ok)
    ex06.check_review_files(review_files_ok)


def test_questions_registered_with_points() -> None:
    assert [(q.id, q.points, q.targets) for q in load_exercise(6)] == [
        ("6.1", 2, ("run_loop",)),
        ("6.2", 2, ("TieredMemory",)),
        ("6.3", 2, ("build_context",)),
        ("6.4", 2, ("review_files",)),
    ]


# --------------------------------------------------------------------------- planted bugs


def test_off_by_one_loop_allowing_max_plus_one_iterations_fails() -> None:
    def off_by_one(next_step, max_iterations):
        if max_iterations < 1:
            raise ValueError
        steps = []
        for iteration in range(max_iterations + 1):  # one too many
            step = next_step(list(steps))
            steps.append(step)
            if step["step_type"] == "final_answer":
                return {
                    "status": "answered",
                    "answer": step["answer"],
                    "iterations": iteration + 1,
                    "steps": steps,
                }
        return {"status": "max_iterations", "answer": None, "iterations": max_iterations, "steps": steps}

    assert_fails(ex06.check_run_loop, off_by_one, "one more than max_iterations", "Off by one")


def test_limit_checked_before_the_answer_fails() -> None:
    def limit_first(next_step, max_iterations):
        if max_iterations < 1:
            raise ValueError
        steps = []
        for iteration in range(1, max_iterations + 1):
            step = next_step(list(steps))
            steps.append(step)
            if iteration == max_iterations:
                return {"status": "max_iterations", "answer": None, "iterations": iteration, "steps": steps}
            if step["step_type"] == "final_answer":
                return {
                    "status": "answered",
                    "answer": step["answer"],
                    "iterations": iteration,
                    "steps": steps,
                }
        raise AssertionError

    assert_fails(ex06.check_run_loop, limit_first, "last allowed call still counts")


def test_loop_that_forgets_the_history_fails() -> None:
    def amnesiac(next_step, max_iterations):
        if max_iterations < 1:
            raise ValueError
        steps = []
        for iteration in range(1, max_iterations + 1):
            step = next_step([])
            steps.append(step)
            if step["step_type"] == "final_answer":
                return {
                    "status": "answered",
                    "answer": step["answer"],
                    "iterations": iteration,
                    "steps": steps,
                }
        return {"status": "max_iterations", "answer": None, "iterations": max_iterations, "steps": steps}

    assert_fails(ex06.check_run_loop, amnesiac, "append each step before the next call")


def test_memory_that_evicts_the_newest_step_fails() -> None:
    class Swapped(MemoryOk):
        def add(self, step):
            self.working.append(step)
            if len(self.working) > self.w:
                self.short_term.append(self.summarise(self.working.pop()))  # the newest, not the oldest
            if len(self.short_term) > self.s:
                self.long_term.append(self.short_term.pop(0))

    assert_fails(ex06.check_tiered_memory, Swapped, "pop the oldest step, not the newest")


def test_memory_that_promotes_the_newest_summary_fails() -> None:
    class Swapped(MemoryOk):
        def add(self, step):
            self.working.append(step)
            if len(self.working) > self.w:
                self.short_term.append(self.summarise(self.working.pop(0)))
            if len(self.short_term) > self.s:
                self.long_term.append(self.short_term.pop())  # the newest summary

    assert_fails(ex06.check_tiered_memory, Swapped, "short_term is")


def test_memory_that_summarises_twice_fails() -> None:
    class Twice(MemoryOk):
        def add(self, step):
            self.working.append(step)
            if len(self.working) > self.w:
                self.short_term.append(self.summarise(self.working.pop(0)))
            if len(self.short_term) > self.s:
                self.long_term.append(self.summarise(self.short_term.pop(0)))

    assert_fails(ex06.check_tiered_memory, Twice, "long_term is")


def test_context_counting_only_content_tokens_fails() -> None:
    def content_only(system, task, steps, budget, model=MODEL):
        head = [{"role": "system", "content": system}, {"role": "user", "content": task}]
        used = sum(count_tokens(m["content"], model) for m in head)
        if used > budget:
            raise ValueError
        kept = []
        for step in reversed(steps):
            cost = count_tokens(step, model)
            if used + cost > budget:
                break
            used += cost
            kept.insert(0, {"role": "assistant", "content": step})
        return head + kept

    assert_fails(ex06.check_build_context, content_only, "over the budget", "framing")


def test_context_dropping_the_newest_steps_fails() -> None:
    def keeps_oldest(system, task, steps, budget, model=MODEL):
        head = [{"role": "system", "content": system}, {"role": "user", "content": task}]
        if count_message_tokens(head, model) > budget:
            raise ValueError
        kept = []
        for step in steps:
            if count_message_tokens([*head, *kept, {"role": "assistant", "content": step}], model) > budget:
                break
            kept.append({"role": "assistant", "content": step})
        return head + kept

    assert_fails(ex06.check_build_context, keeps_oldest, "drop the oldest steps first")


def test_context_that_never_refuses_fails() -> None:
    def never_refuses(system, task, steps, budget, model=MODEL):
        try:
            return build_context_ok(system, task, steps, budget, model)
        except ValueError:
            return [{"role": "system", "content": system}, {"role": "user", "content": task}]

    assert_fails(ex06.check_build_context, never_refuses, "expected it to raise ValueError")


def test_review_that_carries_history_between_files_fails() -> None:
    def one_conversation(provider, files):
        return review_files_ok(provider, files, carry_history=True)

    assert_fails(ex06.check_review_files, one_conversation, "no history carried")


def test_review_without_a_correction_fails() -> None:
    def no_retry(provider, files):
        return review_files_ok(provider, files, retry=False)

    assert_fails(ex06.check_review_files, no_retry, "one more call after an invalid reply")


def test_review_that_retries_without_the_bad_reply_fails() -> None:
    def blind_retry(provider, files):
        return review_files_ok(provider, files, keep_reply=False)

    assert_fails(ex06.check_review_files, blind_retry, "the bad reply as an assistant message")


def test_review_that_retries_twice_fails() -> None:
    def stubborn(provider, files):
        return review_files_ok(provider, files, retries=2)

    assert_fails(ex06.check_review_files, stubborn, "never more")


def test_stubs_fail_with_a_hint_and_missing_names_are_reported() -> None:
    assert_stubs_fail(
        {
            "6.1": ("run_loop", stub),
            "6.2": ("TieredMemory", StubClass),
            "6.3": ("build_context", stub),
            "6.4": ("review_files", stub),
        },
        missing="6.2",
    )


def _planted(number: int, name: str, old: str, new: str):
    """The solution's ``name`` with one planted bug: ``old`` replaced by ``new``."""
    from exercise_support import exec_namespace, solution_path, solution_sources, with_planted_bug

    return exec_namespace(with_planted_bug(solution_sources(solution_path(number)), old, new))[name]


def test_context_counted_with_the_default_model_fails() -> None:
    bad = _planted(
        6,
        "build_context",
        "count_message_tokens(head + candidate, model)",
        "count_message_tokens(head + candidate)",
    )
    assert_fails(ex06.check_build_context, bad, "model='gpt-4'", "`model` argument")


def test_context_whose_head_is_counted_with_the_default_model_fails() -> None:
    bad = _planted(
        6,
        "build_context",
        "if count_message_tokens(head, model) > budget:",
        "if count_message_tokens(head) > budget:",
    )
    assert_fails(ex06.check_build_context, bad, "expected it to raise ValueError", "`model` argument")


def test_loop_result_without_the_answer_key_fails() -> None:
    bad = _planted(
        6,
        "run_loop",
        'return {"status": "max_iterations", "answer": None,',
        'return {"status": "max_iterations",',
    )
    assert_fails(ex06.check_run_loop, bad, "without the key(s) ['answer']")


def test_review_refusing_severity_ten_fails() -> None:
    bad = _planted(6, "review_files", "not 0 <= severity <= 10", "not 0 <= severity < 10")
    assert_fails(ex06.check_review_files, bad, "severity 10 is inside 0 to 10")


def test_review_correction_without_temperature_zero_fails() -> None:
    bad = _planted(6, "review_files", "provider.complete(retry, temperature=0)", "provider.complete(retry)")
    assert_fails(ex06.check_review_files, bad, "use 0 for the correction request too")
