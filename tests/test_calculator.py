"""Tests for course_lib.calculator: agreement with Python arithmetic, rejection of everything else, limits."""

from __future__ import annotations

import math
import operator
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.calculator import (
    MAX_EXPRESSION_CHARS,
    MAX_INT_BITS,
    CalculatorError,
    check_expression,
    format_number,
    normalize_expression,
    safe_eval,
)

# --------------------------------------------------------------------------- a reference built from Python's operators

ERROR = object()
OPS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}


def _within_limits(value):
    if isinstance(value, complex):
        return ERROR
    if isinstance(value, float) and not math.isfinite(value):
        return ERROR
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        return ERROR
    return value


def _apply(op, left, right):
    """Python's own arithmetic on two values; ERROR where Python fails or a result leaves the limits."""
    if left is ERROR or right is ERROR:
        return ERROR
    try:
        return _within_limits(OPS[op](left, right))
    except (ZeroDivisionError, OverflowError):
        return ERROR


leaves = st.one_of(
    st.integers(min_value=0, max_value=10**6),
    st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
).map(lambda v: (repr(v), v))


def _extend(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "//", "%"]), children).map(
        lambda t: (f"({t[0][0]}) {t[1]} ({t[2][0]})", _apply(t[1], t[0][1], t[2][1]))
    )
    power = st.tuples(children, st.integers(min_value=-2, max_value=4)).map(
        lambda t: (f"({t[0][0]}) ** ({t[1]})", _apply("**", t[0][1], t[1]))
    )
    negate = children.map(lambda c: (f"-({c[0]})", ERROR if c[1] is ERROR else -c[1]))
    plus = children.map(lambda c: (f"+({c[0]})", c[1]))
    return st.one_of(binary, power, negate, plus)


expressions = st.recursive(leaves, _extend, max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_agrees_with_python_arithmetic(case):
    text, expected = case
    if expected is ERROR:
        with pytest.raises(CalculatorError):
            safe_eval(text)
    else:
        got = safe_eval(text)
        assert type(got) is type(expected)
        assert got == expected


@pytest.mark.parametrize(
    "text",
    [
        "2 + 3 * 4",
        "-2 ** 2",
        "2 ** -1",
        "7 // 2 * 3",
        "7 % 3 ** 2",
        "(1 + 2) * (3 - 4) / 5",
        "+-+3",
        "2 ** 3 ** 2",
    ],
)
def test_precedence_matches_python(text):
    assert safe_eval(text) == eval(text)  # the test's own literal, not model input


# --------------------------------------------------------------------------- rejection


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("__import__('os')", "function calls"),
        ("__import__('os').system('true')", "not allowed"),
        ("a+1", "names"),
        ("(1).real", "attribute"),
        ("[1]", "lists"),
        ("(1, 2)", "tuples"),
        ("x[0]", "subscripts"),
        ("abs(-1)", "function calls"),
        ("'12'", "only numbers"),
        ("True + 1", "only numbers"),
        ("None", "only numbers"),
        ("1j", "only numbers"),
        ("1 < 2", "comparisons"),
        ("1 and 2", "'and'/'or'"),
        ("1 << 2", "LShift"),
        ("6 & 3", "BitAnd"),
        ("~1", "Invert"),
        ("not 1", "Not"),
        ("lambda: 1", "not arithmetic"),
        ("[i for i in (1, 2)]", "not arithmetic"),
        ("{1: 2}", "not arithmetic"),
        ("1 if 1 else 2", "not arithmetic"),
        ("f'{1}'", "not arithmetic"),
        ("(x := 1)", "not arithmetic"),
        ("1 +", "cannot parse"),
        ("", "empty"),
    ],
)
def test_rejects_anything_but_arithmetic_with_a_clear_message(text, fragment):
    with pytest.raises(CalculatorError) as info:
        safe_eval(text)
    assert fragment in str(info.value)


BAD_FRAGMENTS = ["x", "__import__('os')", "(1).real", "[1]", "abs(1)", "'a'", "{1}", "a.b", "y[0]", "len"]


@given(expressions, st.sampled_from(BAD_FRAGMENTS), st.sampled_from(["+", "*", "-"]))
def test_any_expression_with_a_non_arithmetic_part_is_rejected(case, bad, op):
    with pytest.raises(CalculatorError):
        safe_eval(f"({case[0]}) {op} {bad}")
    with pytest.raises(CalculatorError):
        check_expression(f"{bad} {op} ({case[0]})")


def test_nothing_runs_when_an_expression_is_rejected(tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(CalculatorError):
        safe_eval(f"__import__('pathlib').Path({str(marker)!r}).touch()")
    assert not marker.exists()


# --------------------------------------------------------------------------- limits and errors


def test_huge_powers_fail_fast():
    start = time.perf_counter()
    for text in ["9 ** 9 ** 9", "10 ** 10 ** 10", "2 ** 4096", "(2 ** 4000) * (2 ** 4000)", "7 ** 100000"]:
        with pytest.raises(CalculatorError, match=r"limit|too large"):
            safe_eval(text)
    assert time.perf_counter() - start < 1.0


def test_the_largest_allowed_integer_is_exact():
    assert safe_eval("2 ** 4095") == 2**4095
    assert safe_eval("1 ** (10 ** 100)") == 1


def test_float_overflow_is_an_error_not_infinity():
    for text in ["1e308 * 10", "1e400", "2.0 ** 5000", "10 ** 1000 / 3"]:
        with pytest.raises(CalculatorError, match="too large"):
            safe_eval(text)


@pytest.mark.parametrize("text", ["1 / 0", "1 // 0", "5 % 0", "0 ** -1", "1.5 / (2 - 2)"])
def test_division_by_zero_is_explained(text):
    with pytest.raises(CalculatorError, match="division by zero"):
        safe_eval(text)


def test_complex_results_are_rejected():
    with pytest.raises(CalculatorError, match=r"\(-8\) \*\* 0.5 is not a real number"):
        safe_eval("(-8) ** 0.5")


def test_long_and_deep_expressions_are_rejected():
    with pytest.raises(CalculatorError, match=str(MAX_EXPRESSION_CHARS)):
        safe_eval("1 + " * 200 + "1")
    with pytest.raises(CalculatorError):
        safe_eval("(" * 240 + "1" + ")" * 240)
    with pytest.raises(CalculatorError, match="parts"):
        safe_eval("+".join(["1"] * 150))


def test_non_string_input_is_rejected():
    with pytest.raises(CalculatorError, match="string"):
        safe_eval(12)  # type: ignore[arg-type]


def test_common_symbols_are_normalised():
    assert normalize_expression(" 3 × 4 ÷ 2 ") == "3 * 4 / 2"
    assert safe_eval("3 × 4 ÷ 2") == 6.0
    assert safe_eval("2^10") == 1024
    assert safe_eval("−3 + 1") == -2
    assert check_expression("1000 × 1.1049") == "1000 * 1.1049"


def test_compound_interest_from_the_lesson():
    assert safe_eval("1000 * (1 + 0.05 / 12) ** (12 * 2)") == pytest.approx(1104.9413355583, abs=1e-9)


def test_format_number_is_exact_and_deterministic():
    assert format_number(24) == "24"
    assert format_number(0.1 + 0.2) == "0.30000000000000004"
    assert float(format_number(1104.941335558327)) == 1104.941335558327
    with pytest.raises(TypeError):
        format_number(True)
    with pytest.raises(TypeError):
        format_number("1")  # type: ignore[arg-type]
