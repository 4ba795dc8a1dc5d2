"""Tests for course_lib.prompts (builders) and course_lib.prompt_files (versioned prompt files)."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from course_lib.prompt_files import (
    PROMPTS_DIR,
    Criterion,
    PromptFile,
    PromptFileError,
    list_prompts,
    load_prompt,
    load_prompt_file,
    parse_prompt_file,
    parse_semver,
)
from course_lib.prompts import Example, SystemPrompt, few_shot_messages, few_shot_text, zero_shot
from course_lib.providers.scripted import ScriptedProvider

EXAMPLES = [
    Example(input="My name is Alice Brown.", output='{"name": "Alice Brown"}'),
    ("I'm Bob Lee from NYC.", '{"name": "Bob Lee"}'),
    {"input": "This is Charlie Wilson speaking.", "output": '{"name": "Charlie Wilson"}'},
]

# --------------------------------------------------------------------------- builders


def test_zero_shot_forms():
    assert zero_shot("Extract the name.") == [{"role": "user", "content": "Extract the name."}]
    assert zero_shot("Extract the name.", "I am Ann.", system="JSON only.") == [
        {"role": "system", "content": "JSON only."},
        {"role": "user", "content": "Extract the name.\n\nI am Ann."},
    ]
    with pytest.raises(ValueError, match="empty"):
        zero_shot("   ")


def test_few_shot_messages_alternate_and_end_with_the_query():
    msgs = few_shot_messages(
        EXAMPLES, "My name is Alice Johnson.", system="Extract names.", input_template="Extract: {input}"
    )
    assert [m["role"] for m in msgs] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert msgs[1] == {"role": "user", "content": "Extract: My name is Alice Brown."}
    assert msgs[4] == {"role": "assistant", "content": '{"name": "Bob Lee"}'}
    assert msgs[-1] == {"role": "user", "content": "Extract: My name is Alice Johnson."}


def test_few_shot_template_is_not_format_string():
    # Braces in a template (JSON) must not break it; only {input} is replaced.
    msgs = few_shot_messages([("a", "b")], "c", input_template='Reply as {"name": ...}: {input}')
    assert msgs[-1]["content"] == 'Reply as {"name": ...}: c'
    with pytest.raises(ValueError, match=r"\{input\}"):
        few_shot_messages([], "q", input_template="no placeholder")


def test_few_shot_text_inline():
    text = few_shot_text(EXAMPLES[:2], "I am Ann.", instruction="Extract the name as JSON.")
    assert text == (
        "Extract the name as JSON.\n\n"
        'Input: My name is Alice Brown.\nOutput: {"name": "Alice Brown"}\n\n'
        'Input: I\'m Bob Lee from NYC.\nOutput: {"name": "Bob Lee"}\n\n'
        "Input: I am Ann.\nOutput:"
    )
    assert few_shot_text([], "x", input_label="Q", output_label="A") == "Q: x\nA:"


def test_few_shot_rejects_bad_examples():
    with pytest.raises(ValidationError):
        few_shot_messages([{"input": "a"}], "q")
    with pytest.raises(ValidationError):
        few_shot_messages([("", "b")], "q")


def test_system_prompt_renders_sections_in_order():
    prompt = SystemPrompt(
        role="You are a support specialist for ExampleSoft.",
        constraints=["Only answer questions about ExampleSoft", "At most 120 words"],
        output_format=["Numbered steps"],
        tone=["Friendly", "Plain words"],
        good_examples=[("How do I reset my password?", "1. Open Settings\n2. Choose Reset")],
        bad_examples=[{"input": "How do I reset my password?", "output": "Maybe ask someone."}],
    )
    assert prompt.render() == (
        "# ROLE\nYou are a support specialist for ExampleSoft.\n\n"
        "# CONSTRAINTS\n- Only answer questions about ExampleSoft\n- At most 120 words\n\n"
        "# OUTPUT FORMAT\n- Numbered steps\n\n"
        "# TONE\n- Friendly\n- Plain words\n\n"
        "# GOOD RESPONSES\nUser: How do I reset my password?\nAssistant: 1. Open Settings\n2. Choose Reset\n\n"
        "# BAD RESPONSES (never answer like this)\nUser: How do I reset my password?\nAssistant: Maybe ask someone."
    )
    assert prompt.message() == {"role": "system", "content": prompt.render()}


def test_system_prompt_omits_empty_sections_and_needs_a_role():
    assert SystemPrompt(role="You summarise bug reports.", tone=["Terse"]).render() == (
        "# ROLE\nYou summarise bug reports.\n\n# TONE\n- Terse"
    )
    with pytest.raises(ValidationError):
        SystemPrompt(role="")


# --------------------------------------------------------------------------- semver and criteria


@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(0, 10_000))
def test_parse_semver_round_trip(major, minor, patch):
    assert parse_semver(f"{major}.{minor}.{patch}") == (major, minor, patch)


@pytest.mark.parametrize("bad", ["2.1", "2.1.0.1", "02.1.0", "2.1.x", "", "two"])
def test_parse_semver_rejects(bad):
    with pytest.raises(ValueError, match=r"MAJOR\.MINOR\.PATCH"):
        parse_semver(bad)


def test_parse_semver_hints_about_leading_v():
    with pytest.raises(ValueError, match="drop the leading 'v'"):
        parse_semver("v2.1.0")


def test_criterion_passes():
    c = Criterion(metric="accuracy", op=">=", target=0.95)
    assert c.passes(0.95) and c.passes(1.0) and not c.passes(0.94)
    assert Criterion(metric="p95", op="<", target=2, unit="s").passes(1.99)
    assert not Criterion(metric="p95", op="<", target=2, unit="s").passes(2.0)
    assert str(Criterion(metric="p95", op="<", target=2, unit="s")) == "p95 < 2 s"


# --------------------------------------------------------------------------- the shipped prompt file


def test_shipped_prompt_loads_and_is_consistent():
    assert "customer_support_summariser" in list_prompts()
    prompt = load_prompt("customer_support_summariser")
    assert prompt.name == "customer_support_summariser"
    assert prompt.version == prompt.changelog[0].version
    assert prompt.last_updated == prompt.changelog[0].date
    assert "@" in prompt.owner
    assert prompt.examples and prompt.evaluation
    assert (PROMPTS_DIR / "customer_support_summariser.toml").exists()


def test_prompt_file_messages_drive_a_provider():
    prompt = load_prompt("customer_support_summariser")
    provider = ScriptedProvider(["login | cannot sign in after reset | high"])
    result = provider.complete(prompt.messages("I reset my password and now I cannot log in."))
    call = provider.calls[0].messages
    assert call[0] == {"role": "system", "content": prompt.system_prompt}
    assert call[1] == {"role": "user", "content": prompt.examples[0].input}
    assert call[2] == {"role": "assistant", "content": prompt.examples[0].output}
    assert call[-1] == {"role": "user", "content": "I reset my password and now I cannot log in."}
    assert len(call) == 2 + 2 * len(prompt.examples)
    assert result.text.count("|") == 2


def test_check_reports_each_criterion():
    prompt = load_prompt("customer_support_summariser")
    result = prompt.check({"format_valid_rate": 0.99, "area_accuracy": 0.5})
    assert result == {"format_valid_rate": True, "area_accuracy": False, "p95_latency_s": False}


def test_release_adds_a_changelog_entry_on_top():
    prompt = load_prompt("customer_support_summariser")
    new = prompt.release("1.3.0", dt.date(2025, 6, 1), "Shorter rules.", system_prompt="Summarise tickets.")
    assert new.version == "1.3.0" and new.last_updated == dt.date(2025, 6, 1)
    assert new.changelog[0].summary == "Shorter rules." and new.changelog[1:] == prompt.changelog
    assert new.system_prompt == "Summarise tickets."
    assert prompt.version == "1.2.0"  # the original is unchanged
    with pytest.raises(ValidationError, match="newest first"):
        prompt.release("1.1.5", dt.date(2025, 6, 1), "Going backwards.")


# --------------------------------------------------------------------------- validation errors

VALID = {
    "name": "ticket",
    "version": "2.0.0",
    "last_updated": "2025-02-01",
    "owner": "team@example.com",
    "system_prompt": "Summarise the ticket.",
    "evaluation": [{"metric": "accuracy", "op": ">=", "target": 0.9}],
    "changelog": [
        {"version": "2.0.0", "date": "2025-02-01", "summary": "Rewrote the rules."},
        {"version": "1.0.0", "date": "2025-01-01", "summary": "First version."},
    ],
}


def write_json(tmp_path, data, name="ticket"):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def variant(**changes):
    data = copy.deepcopy(VALID)
    data.update(changes)
    return data


def test_valid_json_file_loads(tmp_path):
    prompt = load_prompt_file(write_json(tmp_path, VALID))
    assert isinstance(prompt, PromptFile)
    assert prompt.version == "2.0.0" and prompt.last_updated == dt.date(2025, 2, 1)
    assert load_prompt("ticket", tmp_path) == prompt
    assert list_prompts(tmp_path) == ["ticket"]


def _error(tmp_path, data) -> str:
    path = write_json(tmp_path, data)
    with pytest.raises(PromptFileError) as info:
        load_prompt_file(path)
    message = str(info.value)
    assert str(path) in message  # every error names the file
    return message


def test_error_bad_semver(tmp_path):
    msg = _error(tmp_path, variant(version="2.0"))
    assert "field 'version'" in msg and "MAJOR.MINOR.PATCH" in msg


def test_error_changelog_version_bad(tmp_path):
    data = variant()
    data["changelog"][1]["version"] = "v1.0.0"
    msg = _error(tmp_path, data)
    assert "field 'changelog[1].version'" in msg and "leading 'v'" in msg


def test_error_changelog_not_newest_first(tmp_path):
    data = variant(version="1.0.0", last_updated="2025-01-01")
    data["changelog"].reverse()
    msg = _error(tmp_path, data)
    assert "field 'changelog'" in msg and "newest first" in msg


def test_error_changelog_dates_go_backwards(tmp_path):
    data = variant()
    data["changelog"][1]["date"] = "2025-03-01"
    msg = _error(tmp_path, data)
    assert "field 'changelog'" in msg and "dated before" in msg


def test_error_changelog_undated(tmp_path):
    data = variant()
    del data["changelog"][0]["date"]
    msg = _error(tmp_path, data)
    assert "field 'changelog[0].date'" in msg and "missing" in msg


def test_error_version_does_not_match_changelog(tmp_path):
    msg = _error(tmp_path, variant(version="2.1.0"))
    assert "version is 2.1.0" in msg and "newest changelog entry is 2.0.0" in msg


def test_error_last_updated_does_not_match_changelog(tmp_path):
    msg = _error(tmp_path, variant(last_updated="2025-02-09"))
    assert "last_updated is 2025-02-09" in msg


def test_error_owner_and_missing_and_unknown_fields(tmp_path):
    data = variant(owner="bob", sytem_prompt="typo")
    del data["evaluation"]
    msg = _error(tmp_path, data)
    assert "field 'owner'" in msg and "contact email" in msg
    assert "field 'evaluation': missing" in msg
    assert "field 'sytem_prompt': unknown field" in msg
    assert "3 problem(s)" in msg


def test_error_empty_changelog_and_duplicate_metrics(tmp_path):
    crit = {"metric": "accuracy", "op": ">=", "target": 0.9}
    msg = _error(tmp_path, variant(changelog=[], evaluation=[crit, crit]))
    assert "field 'changelog'" in msg
    assert "field 'evaluation'" in msg and "more than once" in msg


def test_error_bad_operator(tmp_path):
    msg = _error(tmp_path, variant(evaluation=[{"metric": "accuracy", "op": "=>", "target": 0.9}]))
    assert "field 'evaluation[0].op'" in msg


def test_error_name_must_match_file(tmp_path):
    path = write_json(tmp_path, VALID, name="other")
    with pytest.raises(PromptFileError, match="field 'name' is 'ticket' but the file is named 'other'"):
        load_prompt_file(path)


def test_error_invalid_toml_and_json(tmp_path):
    bad = tmp_path / "ticket.toml"
    bad.write_text('name = "ticket"\nversion = 2.0.0\n', encoding="utf-8")
    with pytest.raises(PromptFileError, match=r"ticket\.toml: not valid TOML"):
        load_prompt_file(bad)
    with pytest.raises(PromptFileError, match="not valid JSON"):
        parse_prompt_file("{", fmt="json", source="x.json")
    with pytest.raises(PromptFileError, match="top level"):
        parse_prompt_file("[1, 2]", fmt="json", source="x.json")


def test_error_missing_file_unknown_prompt_and_suffix(tmp_path):
    with pytest.raises(PromptFileError, match="cannot read"):
        load_prompt_file(tmp_path / "nope.toml")
    with pytest.raises(PromptFileError, match=r"use \.toml or \.json"):
        load_prompt_file(tmp_path / "prompt.yaml")
    write_json(tmp_path, VALID)
    with pytest.raises(PromptFileError, match=r"no prompt named 'nope'.*available: ticket"):
        load_prompt("nope", tmp_path)


def test_toml_file_round_trip(tmp_path):
    path = tmp_path / "ticket.toml"
    path.write_text(
        """
name = "ticket"
version = "1.0.0"
last_updated = 2025-01-01
owner = "team@example.com"
system_prompt = '''
Summarise the ticket.
'''

[[evaluation]]
metric = "accuracy"
op = ">="
target = 0.9

[[changelog]]
version = "1.0.0"
date = 2025-01-01
summary = "First version."
""",
        encoding="utf-8",
    )
    prompt = load_prompt_file(path)
    assert prompt.system_prompt == "Summarise the ticket."
    assert prompt.changelog[0].date == dt.date(2025, 1, 1)
