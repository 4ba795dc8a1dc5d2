"""Check modules, one per exercise: ``exNN.py`` holds the checks of exercise NN (exercises).

A check module registers each question with :func:`question` and tests the learner's function or class
through the helpers re-exported here, raising :class:`CheckFailed` with a specific hint. Guidelines:

- test behaviour with several cases, edge cases included, never the shape of the code;
- inject :func:`scripted_provider` / :func:`faulty_provider` where the code calls a model;
- use :func:`property_check` (hypothesis) where a pure function allows;
- say in each hint what was called, what came back, what was expected and why.

``ex99.py`` is a small worked example the grader's own tests use.
"""

from ..helpers import (
    call,
    call_with_text,
    describe_call,
    expect_close,
    expect_equal,
    expect_raises,
    expect_type,
    faulty_provider,
    is_close,
    property_check,
    scripted_provider,
    show,
)
from ..registry import CheckFailed, NotGraded, question
from ..remote import current_value, is_class, learner_copy

__all__ = [
    "CheckFailed",
    "NotGraded",
    "call",
    "call_with_text",
    "current_value",
    "describe_call",
    "expect_close",
    "expect_equal",
    "expect_raises",
    "expect_type",
    "faulty_provider",
    "is_class",
    "is_close",
    "learner_copy",
    "property_check",
    "question",
    "scripted_provider",
    "show",
]
