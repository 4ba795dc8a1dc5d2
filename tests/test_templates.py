"""Our chat-template functions against the models' official Jinja templates, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from course_lib.providers.templates import (
    TEMPLATES,
    ChatTemplate,
    TemplateError,
    get_template,
    render_chatml,
    render_llama2,
    render_llama3,
    render_mistral,
)

DATA = Path(__file__).parent / "data" / "chat_templates"
FILES = {
    "chatml": "chatml_openhermes-2.5-mistral-7b.jinja",
    "llama3": "llama3_meta-llama-3-8b-instruct.jinja",
    "llama2": "llama2_llama-2-7b-chat-hf.jinja",
    "mistral": "mistral_mistral-7b-instruct-v0.2.jinja",
}
TOKENS = {
    "chatml": {},
    "llama3": {"bos_token": "<|begin_of_text|>"},
    "llama2": {"bos_token": "<s>", "eos_token": "</s>"},
    "mistral": {"bos_token": "<s>", "eos_token": "</s>"},
}
OURS = {"chatml": render_chatml, "llama3": render_llama3, "llama2": render_llama2, "mistral": render_mistral}


def _raise_exception(message: str) -> None:
    raise JinjaTemplateError(message)


def _compile(name: str):
    # The environment Hugging Face transformers uses for apply_chat_template.
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = _raise_exception
    source = (DATA / FILES[name]).read_text(encoding="utf-8")
    return env.from_string(source)


OFFICIAL = {name: _compile(name) for name in FILES}


def official(name: str, messages: list[dict], add_generation_prompt: bool) -> str:
    """Render with the official template; raises jinja2's TemplateError where the template raises."""
    return OFFICIAL[name].render(
        messages=messages, add_generation_prompt=add_generation_prompt, **TOKENS[name]
    )


def silently_drops(name: str, messages: list[dict]) -> bool:
    """Conversations the official template renders while losing a message (where we raise instead)."""
    if name not in ("llama2", "mistral"):
        return False
    loop = messages[1:] if messages[0]["role"] == "system" else messages
    if not loop:
        return True
    if name == "llama2":
        return any(i % 2 == 1 and m["role"] not in ("user", "assistant") for i, m in enumerate(loop))
    return False


# ------------------------------------------------------------------------------ strategies

SPECIAL = st.sampled_from(
    [
        "",
        " ",
        "\n",
        "  padded  ",
        "\n\nlines\nand\n\n",
        "tabs\tand\u00a0nbsp\u2003",
        "{{ not a template }} {% if %}",
        "<|im_end|>",
        "[INST] fake [/INST]",
        "<<SYS>>",
        "naïve café 日本語 🚀",
        "\u2028line separator\u2029",
    ]
)
CONTENT = st.one_of(st.text(max_size=40), SPECIAL)
ROLE = st.sampled_from(["system", "user", "assistant", "tool"])


@st.composite
def alternating(draw) -> list[dict]:
    """A well-formed conversation: an optional system message, then user/assistant turns."""
    n = draw(st.integers(min_value=1, max_value=6))
    msgs = [{"role": "system", "content": draw(CONTENT)}] if draw(st.booleans()) else []
    for i in range(n):
        msgs.append({"role": "user" if i % 2 == 0 else "assistant", "content": draw(CONTENT)})
    return msgs


ANY_ROLES = st.lists(st.fixed_dictionaries({"role": ROLE, "content": CONTENT}), min_size=1, max_size=6)
CONVERSATIONS = st.one_of(alternating(), ANY_ROLES)


def check_against_official(name: str, messages: list[dict], add_generation_prompt: bool) -> None:
    ours = OURS[name]
    try:
        expected = official(name, messages, add_generation_prompt)
    except JinjaTemplateError as exc:
        with pytest.raises(TemplateError) as info:
            ours(messages, add_generation_prompt=add_generation_prompt)
        assert str(exc) in str(info.value)
        return
    if silently_drops(name, messages):
        with pytest.raises(TemplateError):
            ours(messages, add_generation_prompt=add_generation_prompt)
        return
    assert ours(messages, add_generation_prompt=add_generation_prompt) == expected


@pytest.mark.parametrize("name", sorted(FILES))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=CONVERSATIONS, add_generation_prompt=st.booleans())
@example(messages=[{"role": "user", "content": "Hi"}], add_generation_prompt=True)
@example(
    messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "  2+2?\n"},
        {"role": "assistant", "content": " 4 "},
        {"role": "user", "content": "And 2+3?"},
    ],
    add_generation_prompt=True,
)
def test_matches_official_template(name: str, messages: list[dict], add_generation_prompt: bool) -> None:
    check_against_official(name, messages, add_generation_prompt)


@pytest.mark.parametrize("name", sorted(FILES))
@settings(max_examples=100, deadline=None)
@given(messages=alternating(), add_generation_prompt=st.booleans())
def test_well_formed_conversations_always_render(name, messages, add_generation_prompt) -> None:
    if name in ("llama2", "mistral") and len(messages) == 1:
        return
    assert OURS[name](messages, add_generation_prompt=add_generation_prompt) == official(
        name, messages, add_generation_prompt
    )


# ------------------------------------------------------------------------------ fixed examples

CONVO = [
    {"role": "system", "content": "You are a JSON parser."},
    {"role": "user", "content": "Extract: John Smith"},
]


def test_llama3_has_two_newlines_after_headers_and_none_after_eot() -> None:
    # A common hand-written prompt has one newline after each header and one after <|eot_id|>: both wrong.
    assert render_llama3(CONVO) == (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a JSON parser.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nExtract: John Smith<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )


def test_llama3_without_generation_prompt_ends_at_eot() -> None:
    assert render_llama3(CONVO, add_generation_prompt=False).endswith("John Smith<|eot_id|>")


def test_chatml_example() -> None:
    assert render_chatml(CONVO) == (
        "<|im_start|>system\nYou are a JSON parser.<|im_end|>\n"
        "<|im_start|>user\nExtract: John Smith<|im_end|>\n<|im_start|>assistant\n"
    )


def test_llama2_example_with_history() -> None:
    convo = [
        *CONVO,
        {"role": "assistant", "content": '{"name": "John Smith"}'},
        {"role": "user", "content": "Next"},
    ]
    assert render_llama2(convo) == (
        "<s>[INST] <<SYS>>\nYou are a JSON parser.\n<</SYS>>\n\nExtract: John Smith [/INST]"
        ' {"name": "John Smith"} </s><s>[INST] Next [/INST]'
    )


def test_mistral_example_puts_system_in_first_inst() -> None:
    convo = [*CONVO, {"role": "assistant", "content": "{}"}, {"role": "user", "content": "Next"}]
    assert render_mistral(convo) == (
        "<s> [INST] You are a JSON parser.\n\nExtract: John Smith [/INST] {}</s> [INST] Next [/INST]"
    )


@pytest.mark.parametrize("render", [render_llama2, render_mistral])
def test_alternation_is_enforced(render) -> None:
    with pytest.raises(TemplateError, match="alternate"):
        render([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
    with pytest.raises(TemplateError, match="alternate"):
        render([{"role": "assistant", "content": "a"}])


def test_mistral_rejects_a_second_system_message() -> None:
    convo = [*CONVO, {"role": "system", "content": "late"}]
    with pytest.raises(TemplateError, match="Only user and assistant roles"):
        render_mistral(convo)


@pytest.mark.parametrize("render", [render_llama2, render_mistral])
def test_system_message_alone_is_refused_not_dropped(render) -> None:
    with pytest.raises(TemplateError, match="no user message"):
        render([{"role": "system", "content": "instructions"}])


def test_llama2_refuses_a_message_the_official_template_would_drop() -> None:
    convo = [*CONVO, {"role": "tool", "content": "42"}]
    assert "42" not in official("llama2", convo, True)  # the official template loses it silently
    with pytest.raises(TemplateError, match="drops"):
        render_llama2(convo)


@pytest.mark.parametrize("render", list(OURS.values()))
@pytest.mark.parametrize(
    ("messages", "match"),
    [
        ([], "empty"),
        ("hello", "list"),
        ([{"role": "user", "content": None}], "content"),
        ([{"role": "user", "content": [{"type": "text", "text": "hi"}]}], "plain text"),
        ([{"content": "hi"}], "role"),
        (["hi"], "dict"),
    ],
)
def test_bad_input_is_a_clear_error(render, messages, match) -> None:
    with pytest.raises(TemplateError, match=match):
        render(messages)


def test_registry_lookup_and_stop_tokens() -> None:
    assert get_template("Llama-3") is TEMPLATES["llama3"]
    assert get_template("CHAT_ML").name == "chatml"
    tpl = get_template("mistral")
    assert get_template(tpl) is tpl
    assert TEMPLATES["llama3"].stop == ("<|eot_id|>", "<|end_of_text|>")
    assert TEMPLATES["chatml"].stop == ("<|im_end|>",)
    assert isinstance(tpl, ChatTemplate)
    assert tpl.render(CONVO) == render_mistral(CONVO)
    with pytest.raises(TemplateError, match="known"):
        get_template("gemma")
    assert repr(tpl) == "ChatTemplate('mistral')"


def test_template_errors_are_value_errors() -> None:
    assert issubclass(TemplateError, ValueError)
