"""Tests for course_lib.validators: JSON extraction, readable validation errors, the self-correction loop."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

from course_lib.providers.base import BadRequestError, ChatResult, Choice, RateLimitError, Usage
from course_lib.providers.scripted import ScriptedProvider
from course_lib.retry import RetryPolicy
from course_lib.validators import (
    InvalidOutputError,
    JSONExtractionError,
    ValidationFailedError,
    complete_with_retry,
    correction_message,
    extract_json,
    format_validation_error,
    generate_validated,
    iter_validated,
    parse_output,
)

# --------------------------------------------------------------------------- extraction

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(), json_values, max_size=5)
prose_before = st.text(alphabet=st.characters(blacklist_characters="{"), max_size=40)
prose_after = st.text(max_size=40)
fences = st.sampled_from([("", ""), ("```json\n", "\n```"), ("```\n", "\n```"), ("```JSON ", "```")])


@given(
    json_objects,
    prose_before,
    prose_after,
    fences,
    st.sampled_from([None, 2]),
    st.booleans(),
    st.sampled_from(["", "\n", " ", "\n\n"]),
)
def test_any_object_wrapped_in_prose_and_fences_is_recovered(obj, before, after, fence, indent, ascii_, sep):
    dumped = json.dumps(obj, indent=indent, ensure_ascii=ascii_)
    text = f"{before}{sep}{fence[0]}{dumped}{fence[1]}{sep}{after}"
    assert extract_json(text) == obj


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('Sure! here:\n{"a": 1}', {"a": 1}),
        ('```json\n{"a": {"b": [1, {"c": 2}]}}\n```', {"a": {"b": [1, {"c": 2}]}}),
        ('{"a": 1}\nLet me know if you need anything else {', {"a": 1}),
        ('Note: {"text": "a } and a { inside", "n": 2} done', {"text": "a } and a { inside", "n": 2}),
        ('{"q": "he said \\"{\\""}', {"q": 'he said "{"'}),
        ('I think {this} is it: {"a": 1}', {"a": 1}),
        ('first {"a": 1} then {"b": 2}', {"a": 1}),
        ('[1, 2] and then {"a": 1}', {"a": 1}),
    ],
)
def test_extracts_objects_from_typical_model_replies(text, expected):
    assert extract_json(text) == expected


def test_arrays_only_when_asked():
    assert extract_json("Here: [1, 2, 3]", allow_array=True) == [1, 2, 3]
    with pytest.raises(JSONExtractionError, match="no JSON object"):
        extract_json("Here: [1, 2, 3]")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("I could not find a name.", "no JSON object in the reply (it starts 'I could not"),
        ("   ", "empty"),
        ('Sure! {"name": "Alice", "age": ', "invalid"),
        ("{'name': 'Alice'}", "double quotes"),
        ("42", "no JSON object"),
    ],
)
def test_extraction_errors_say_what_is_wrong(text, fragment):
    with pytest.raises(JSONExtractionError) as info:
        extract_json(text)
    assert fragment in str(info.value)


def test_non_text_is_rejected():
    with pytest.raises(JSONExtractionError, match="dict"):
        extract_json({"a": 1})  # type: ignore[arg-type]


# --------------------------------------------------------------------------- validation


class UserData(BaseModel):
    name: str = Field(min_length=1)
    age: int = Field(strict=True, ge=0, le=120)
    city: str
    email: str


GOOD = '{"name": "John Smith", "age": 35, "city": "Seattle", "email": "john@example.com"}'
AGE_AS_STRING = '{"name": "John Smith", "age": "35", "city": "Seattle", "email": "john@example.com"}'


def test_parse_output_validates_and_lists_every_problem():
    assert parse_output(f"Here you go:\n{GOOD}", UserData).age == 35
    with pytest.raises(InvalidOutputError) as info:
        parse_output('{"name": "", "age": "35", "city": "Seattle"}', UserData)
    message = str(info.value)
    assert "UserData" in message
    assert "- name: String should have at least 1 character" in message
    assert '- age: Input should be a valid integer (got "35")' in message
    assert "- email: Field required" in message
    assert info.value.raw.startswith('{"name": ""')


def test_parse_output_reports_missing_json_as_invalid_output():
    with pytest.raises(InvalidOutputError, match="no JSON object"):
        parse_output("John Smith, 35, Seattle", UserData)


def test_parse_output_passes_context_to_validators():
    from pydantic import ValidationInfo, field_validator

    class Numbered(BaseModel):
        n: int

        @field_validator("n")
        @classmethod
        def _expected(cls, v: int, info: ValidationInfo) -> int:
            want = (info.context or {}).get("want")
            if want is not None and v != want:
                raise ValueError(f"n must be {want}")
            return v

    assert parse_output('{"n": 2}', Numbered, context={"want": 2}).n == 2
    with pytest.raises(InvalidOutputError, match="n must be 3"):
        parse_output('{"n": 2}', Numbered, context={"want": 3})


def test_format_validation_error_names_fields_and_values():
    with pytest.raises(ValidationError) as info:
        UserData.model_validate({"name": "A", "age": 130, "city": "X", "email": "e"})
    assert format_validation_error(info.value) == "- age: Input should be less than or equal to 120 (got 130)"


def test_correction_message_shows_output_and_error():
    text = correction_message("RAW OUTPUT", "- age: wrong")
    assert "RAW OUTPUT" in text
    assert "- age: wrong" in text


# --------------------------------------------------------------------------- self-correction


def reply(text: str, prompt: int, completion: int) -> ChatResult:
    return ChatResult(
        choices=[Choice(text=text, finish_reason="stop")],
        usage=Usage(prompt_tokens=prompt, completion_tokens=completion),
    )


MESSAGES = [
    {"role": "system", "content": "Extract the user as JSON."},
    {"role": "user", "content": "John Smith, age 35, lives in Seattle, email john@example.com"},
]


def test_succeeds_on_the_second_attempt_after_a_string_where_an_int_belongs():
    provider = ScriptedProvider([reply(AGE_AS_STRING, 50, 20), reply(GOOD, 90, 19)])
    out = generate_validated(provider, MESSAGES, UserData, max_attempts=3)
    assert out.value == UserData(name="John Smith", age=35, city="Seattle", email="john@example.com")
    assert [a.ok for a in out.attempts] == [False, True]
    assert "age" in out.attempts[0].error
    assert out.usage == Usage(prompt_tokens=140, completion_tokens=39)
    assert len(provider.calls) == 2
    second = provider.calls[1].messages
    assert second[:2] == MESSAGES
    assert second[2] == {"role": "assistant", "content": AGE_AS_STRING}
    assert second[3]["role"] == "user"
    assert AGE_AS_STRING in second[3]["content"]
    assert "age: Input should be a valid integer" in second[3]["content"]
    assert out.messages[-1] == {"role": "assistant", "content": GOOD}


def test_raises_with_every_attempt_when_all_answers_are_bad():
    bad = ["not json at all", AGE_AS_STRING, '{"name": "John"}']
    provider = ScriptedProvider([reply(bad[0], 10, 1), reply(bad[1], 20, 2), reply(bad[2], 30, 3)])
    with pytest.raises(ValidationFailedError) as info:
        generate_validated(provider, MESSAGES, UserData, max_attempts=3)
    err = info.value
    assert [a.raw for a in err.attempts] == bad
    assert all(a.error for a in err.attempts)
    assert "no JSON object" in err.attempts[0].error
    assert "age" in err.attempts[1].error
    assert "city: Field required" in err.attempts[2].error
    assert err.usage == Usage(prompt_tokens=60, completion_tokens=6)
    assert "after 3 attempt(s)" in str(err)
    assert len(provider.calls) == 3


def test_one_attempt_means_no_correction():
    provider = ScriptedProvider([AGE_AS_STRING, GOOD])
    with pytest.raises(ValidationFailedError):
        generate_validated(provider, MESSAGES, UserData, max_attempts=1)
    assert len(provider.calls) == 1
    with pytest.raises(ValueError, match="at least 1"):
        generate_validated(provider, MESSAGES, UserData, max_attempts=0)


def test_params_reach_the_provider_and_the_input_is_not_mutated():
    provider = ScriptedProvider([AGE_AS_STRING, GOOD])
    messages = [dict(m) for m in MESSAGES]
    generate_validated(provider, messages, UserData, params={"temperature": 0})
    assert messages == MESSAGES
    assert all(call.params == {"temperature": 0} for call in provider.calls)


def test_iter_validated_yields_each_attempt_as_it_happens():
    provider = ScriptedProvider(["nope", GOOD])
    gen = iter_validated(provider, MESSAGES, UserData)
    first = next(gen)
    assert not first.ok
    assert len(provider.calls) == 1
    second = next(gen)
    assert second.ok
    with pytest.raises(StopIteration) as stop:
        next(gen)
    validated = stop.value.value  # ExceptionInfo -> StopIteration -> its return value
    assert validated.value.name == "John Smith"


def test_provider_errors_are_retried_and_not_counted_as_attempts():
    sleeps: list[float] = []
    notices = []
    provider = ScriptedProvider([RateLimitError("429", retry_after=7.0), AGE_AS_STRING, GOOD])
    out = generate_validated(
        provider,
        MESSAGES,
        UserData,
        max_attempts=2,
        retry=RetryPolicy(max_attempts=3, seed=1),
        sleep=sleeps.append,
        on_retry=notices.append,
    )
    assert out.value.age == 35
    assert len(out.attempts) == 2
    assert sleeps == [7.0]
    assert [(n.attempt, type(n.error).__name__, n.delay_s) for n in notices] == [(1, "RateLimitError", 7.0)]


def test_provider_errors_propagate_without_a_policy_and_bad_requests_are_never_retried():
    with pytest.raises(RateLimitError):
        generate_validated(ScriptedProvider([RateLimitError("429"), GOOD]), MESSAGES, UserData)
    sleeps: list[float] = []
    provider = ScriptedProvider([BadRequestError("400"), GOOD])
    with pytest.raises(BadRequestError):
        complete_with_retry(provider, MESSAGES, retry=RetryPolicy(max_attempts=5), sleep=sleeps.append)
    assert sleeps == []
    assert len(provider.calls) == 1
