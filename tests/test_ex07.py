"""Exercise 07: other styles pass, stubs score zero, planted bugs fail (notebooks: test_exercises.py)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from exercise_support import StubClass, assert_fails, assert_stubs_fail, stub

from course_lib.grading import load_exercise
from course_lib.grading.checks import ex07
from course_lib.lessons.l07_structured_output.layers import Contact
from course_lib.providers.scripted import ScriptedProvider
from course_lib.validators import ValidationFailedError, generate_validated
from course_lib.validators import extract_json as library_extract_json

# --------------------------------------------------------------------------- correct implementations


def extract_ok(text: str) -> dict:
    decoder = json.JSONDecoder()
    for i, char in enumerate(text):
        if char == "{":
            try:
                value, _ = decoder.raw_decode(text, i)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    raise ValueError("no JSON object")


class Failed(Exception):
    def __init__(self, attempts):
        super().__init__("failed")
        self.attempts = attempts


def loop_ok(provider, messages, model_cls, max_attempts=3):
    if max_attempts < 1:
        raise ValueError("max_attempts")
    conversation = list(messages)
    attempts = []
    for _ in range(max_attempts):
        reply = provider.complete(conversation).text
        try:
            return model_cls.model_validate_json(reply)
        except ValueError as error:
            attempts.append((reply, str(error)))
            conversation = [
                *conversation,
                {"role": "assistant", "content": reply},
                {"role": "user", "content": f"Fix this error and reply with JSON only:\n{error}"},
            ]
    raise Failed(attempts)


def loop_with_library(provider, messages, model_cls, max_attempts=3):
    """The course's generate_validated, wrapped: its ValidationFailedError carries ValidationAttempts."""
    return generate_validated(provider, messages, model_cls, max_attempts).value


class BoxOk:
    def __init__(self):
        self.items: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []

    def add(self, item_id, payload, attempts):
        if item_id in self.items and self.items[item_id]["status"] == "pending":
            self.items[item_id]["attempts"] = self.items[item_id]["attempts"] + list(attempts)
            return
        self.items[item_id] = {
            "payload": payload,
            "attempts": list(attempts),
            "status": "pending",
            "resolution": None,
        }
        if item_id not in self.order:
            self.order.append(item_id)

    def pending(self):
        return [i for i in self.order if self.items[i]["status"] == "pending"]

    def get(self, item_id):
        return self.items[item_id]

    def resolve(self, item_id, data, model_cls):
        if self.items[item_id]["status"] != "pending":
            raise ValueError("not pending")
        value = model_cls(**data)
        self.items[item_id].update(status="resolved", resolution=value)
        return value


def test_correct_implementations_in_other_styles_pass() -> None:
    ex07.check_extract_json(extract_ok)
    ex07.check_extract_json(library_extract_json)
    ex07.check_correct_until_valid(loop_ok)
    ex07.check_dead_letter_box(BoxOk)


def test_the_library_loop_passes_too() -> None:
    ex07.check_correct_until_valid(loop_with_library)
    with pytest.raises(ValidationFailedError):
        loop_with_library(ScriptedProvider(["no"]), [{"role": "user", "content": "x"}], Contact, 1)


def test_questions_registered_with_points() -> None:
    assert [(q.id, q.points, q.targets) for q in load_exercise(7)] == [
        ("7.1", 2, ("extract_json",)),
        ("7.2", 3, ("correct_until_valid",)),
        ("7.3", 2, ("DeadLetterBox",)),
    ]


# --------------------------------------------------------------------------- planted bugs


def test_greedy_regex_extraction_fails() -> None:
    def greedy(text):
        match = re.search(r"\{.*\}", text, re.DOTALL)
        if match is None:
            raise ValueError("no JSON")
        return json.loads(match.group(0))

    assert_fails(
        ex07.check_extract_json, greedy, "the prose after the object contains braces", "LAST closing brace"
    )


def test_lazy_regex_extraction_fails() -> None:
    def lazy(text):
        for match in re.finditer(r"\{.*?\}", text, re.DOTALL):
            try:
                return json.loads(match.group(0))
            except ValueError:
                continue
        raise ValueError("no JSON")

    assert_fails(ex07.check_extract_json, lazy, "nested object")


def test_extraction_that_returns_none_fails() -> None:
    def quiet(text):
        try:
            return extract_ok(text)
        except ValueError:
            return None

    assert_fails(ex07.check_extract_json, quiet, "expected it to raise ValueError")


def test_extraction_that_gives_up_at_the_first_brace_fails() -> None:
    def first_brace_only(text):
        start = text.find("{")
        if start < 0:
            raise ValueError("none")
        return json.JSONDecoder().raw_decode(text, start)[0]

    assert_fails(ex07.check_extract_json, first_brace_only, "try the next '{'")


def test_loop_without_error_feedback_fails() -> None:
    def no_feedback(provider, messages, model_cls, max_attempts=3):
        if max_attempts < 1:
            raise ValueError("max_attempts")
        attempts = []
        for _ in range(max_attempts):
            reply = provider.complete(messages).text
            try:
                return model_cls.model_validate_json(reply)
            except ValueError as error:
                attempts.append((reply, str(error)))
        raise Failed(attempts)

    assert_fails(ex07.check_correct_until_valid, no_feedback, "does not contain the invalid reply")


def test_loop_that_feeds_back_the_reply_but_not_the_error_fails() -> None:
    def no_error(provider, messages, model_cls, max_attempts=3):
        if max_attempts < 1:
            raise ValueError("max_attempts")
        conversation, attempts = list(messages), []
        for _ in range(max_attempts):
            reply = provider.complete(conversation).text
            try:
                return model_cls.model_validate_json(reply)
            except ValueError as error:
                attempts.append((reply, str(error)))
                conversation += [
                    {"role": "assistant", "content": reply},
                    {"role": "user", "content": "That was wrong, try again."},
                ]
        raise Failed(attempts)

    assert_fails(ex07.check_correct_until_valid, no_error, "does not contain the validation error")


def test_loop_with_one_attempt_too_many_fails() -> None:
    def off_by_one(provider, messages, model_cls, max_attempts=3):
        return loop_ok(provider, messages, model_cls, max_attempts + 1)

    assert_fails(ex07.check_correct_until_valid, off_by_one, "after 4 calls", "counts every call")


def test_loop_with_one_attempt_too_few_fails() -> None:
    def one_short(provider, messages, model_cls, max_attempts=3):
        if max_attempts < 1:
            raise ValueError("max_attempts")
        return loop_ok(provider, messages, model_cls, max(1, max_attempts - 1))

    assert_fails(ex07.check_correct_until_valid, one_short, "made 2 calls")


def test_loop_that_raises_without_the_attempts_fails() -> None:
    def bare(provider, messages, model_cls, max_attempts=3):
        try:
            return loop_ok(provider, messages, model_cls, max_attempts)
        except Failed:
            raise RuntimeError("could not extract valid data") from None

    assert_fails(ex07.check_correct_until_valid, bare, "without an `attempts` list")


def test_loop_that_keeps_only_the_last_attempt_fails() -> None:
    def last_only(provider, messages, model_cls, max_attempts=3):
        try:
            return loop_ok(provider, messages, model_cls, max_attempts)
        except Failed as exc:
            raise Failed(exc.attempts[-1:]) from None

    assert_fails(ex07.check_correct_until_valid, last_only, "expected all three, in order")


def test_loop_that_mutates_the_callers_messages_fails() -> None:
    def mutating(provider, messages, model_cls, max_attempts=3):
        """Grows the caller's list instead of a copy."""
        if max_attempts < 1:
            raise ValueError("max_attempts")
        attempts = []
        for _ in range(max_attempts):
            reply = provider.complete(messages).text
            try:
                return model_cls.model_validate_json(reply)
            except ValueError as error:
                attempts.append((reply, str(error)))
                messages += [
                    {"role": "assistant", "content": reply},
                    {"role": "user", "content": f"Fix this error:\n{error}"},
                ]
        raise Failed(attempts)

    assert_fails(ex07.check_correct_until_valid, mutating, "changed the `messages` list")


def test_loop_that_returns_a_dict_fails() -> None:
    def as_dict(provider, messages, model_cls, max_attempts=3):
        return loop_ok(provider, messages, model_cls, max_attempts).model_dump()

    assert_fails(ex07.check_correct_until_valid, as_dict, "not a dict")


def test_box_that_stores_unvalidated_resolutions_fails() -> None:
    class Trusting(BoxOk):
        def resolve(self, item_id, data, model_cls):
            if self.items[item_id]["status"] != "pending":
                raise ValueError("not pending")
            value = model_cls.model_construct(**data)
            self.items[item_id].update(status="resolved", resolution=value)
            return value

    assert_fails(ex07.check_dead_letter_box, Trusting, "was accepted", "model_validate")


def test_box_that_loses_the_item_on_a_rejected_resolution_fails() -> None:
    class Lossy(BoxOk):
        def resolve(self, item_id, data, model_cls):
            item = self.items.pop(item_id)
            self.order.remove(item_id)
            value = model_cls(**data)
            self.items[item_id] = {**item, "status": "resolved", "resolution": value}
            self.order.append(item_id)
            return value

    assert_fails(ex07.check_dead_letter_box, Lossy, "the item was lost")


def test_box_that_overwrites_attempts_fails() -> None:
    class Overwrites(BoxOk):
        def add(self, item_id, payload, attempts):
            super().add(item_id, payload, [])
            self.items[item_id]["attempts"] = list(attempts)

    assert_fails(ex07.check_dead_letter_box, Overwrites, "expected it listed once with ['c1', 'c2']")


def test_box_with_class_level_storage_fails() -> None:
    class Shared(BoxOk):
        items: dict = {}  # noqa: RUF012 - the planted bug
        order: list = []  # noqa: RUF012 - the planted bug

        def __init__(self):
            pass

    assert_fails(ex07.check_dead_letter_box, Shared, "not in a class attribute")


def test_stubs_fail_with_a_hint_and_missing_names_are_reported() -> None:
    assert_stubs_fail(
        {
            "7.1": ("extract_json", stub),
            "7.2": ("correct_until_valid", stub),
            "7.3": ("DeadLetterBox", StubClass),
        },
        missing="7.3",
    )


def _planted(number: int, name: str, old: str, new: str):
    """The solution's ``name`` with one planted bug: ``old`` replaced by ``new``."""
    from exercise_support import exec_namespace, solution_path, solution_sources, with_planted_bug

    return exec_namespace(with_planted_bug(solution_sources(solution_path(number)), old, new))[name]


@pytest.mark.parametrize("kept", ["str(None)", "reply", '"validation failed"'])
def test_attempts_without_their_error_text_fail(kept: str) -> None:
    bad = _planted(
        7, "correct_until_valid", "attempts.append((reply, str(error)))", f"attempts.append((reply, {kept}))"
    )
    assert_fails(ex07.check_correct_until_valid, bad, "which does not say what was wrong")


def test_attempts_keeping_the_exception_itself_pass() -> None:
    ok = _planted(
        7, "correct_until_valid", "attempts.append((reply, str(error)))", "attempts.append((reply, error))"
    )
    ex07.check_correct_until_valid(ok)
