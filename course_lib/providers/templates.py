"""Chat templates as pure functions: a message list in, the raw prompt string out (lesson 02).

A chat API takes a list of ``{"role", "content"}`` messages; the model underneath reads one string with
special tokens between the turns. Servers that expose only a raw-completion endpoint leave that step to
us. Each function here reproduces, byte for byte, the official Jinja template published with the model
(the tests compare them on many generated conversations):

- :func:`render_chatml` — ChatML, as in ``teknium/OpenHermes-2.5-Mistral-7B``.
- :func:`render_llama3` — ``meta-llama/Meta-Llama-3-8B-Instruct``: two newlines after each header, none
  after ``<|eot_id|>``, and each content trimmed.
- :func:`render_llama2` — ``meta-llama/Llama-2-7b-chat-hf``: ``[INST] <<SYS>> … <</SYS>>`` in the first turn.
- :func:`render_mistral` — ``mistralai/Mistral-7B-Instruct-v0.2`` (Mistral's "v1" template): one optional
  leading system message, placed with a blank line before the first user message inside its ``[INST]``.

Where the official template raises (roles that do not alternate), these functions raise
:class:`TemplateError` with the same message. They are also stricter in one way: where the official
template would silently drop a message (a ``system`` or ``tool`` message in the middle of a Llama-2
conversation, a system message with no user message after it), they raise instead, because a prompt
that quietly loses an instruction is a bug that is very hard to find.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "TEMPLATES",
    "ChatTemplate",
    "TemplateError",
    "get_template",
    "render_chatml",
    "render_llama2",
    "render_llama3",
    "render_mistral",
]

LLAMA2_ALTERNATION = "Conversation roles must alternate user/assistant/user/assistant/..."
MISTRAL_ALTERNATION = (
    "After the optional system message, conversation roles must alternate user/assistant/user/assistant/..."
)
MISTRAL_ROLES = (
    "Only user and assistant roles are supported, with the exception of an initial optional system message!"
)


class TemplateError(ValueError):
    """A conversation the chat template cannot render; the message says what to change (lesson 02)."""


def _turns(messages: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Check the message list and return it as ``(role, content)`` pairs of strings."""
    if isinstance(messages, str | bytes) or not isinstance(messages, Sequence):
        raise TemplateError("messages must be a list of {'role': ..., 'content': ...} dicts")
    if not messages:
        raise TemplateError("messages is empty: a prompt needs at least one message")
    turns = []
    for i, m in enumerate(messages):
        if not isinstance(m, Mapping):
            raise TemplateError(
                f"message {i} is a {type(m).__name__}, not a {{'role': ..., 'content': ...}} dict"
            )
        role, content = m.get("role"), m.get("content")
        if not isinstance(role, str):
            raise TemplateError(f"message {i} has no string 'role'")
        if not isinstance(content, str):
            raise TemplateError(
                f"message {i} ({role}) has content of type {type(content).__name__}; chat templates render "
                "plain text only: join text parts into one string first"
            )
        turns.append((role, content))
    return turns


def _split_system(turns: list[tuple[str, str]]) -> tuple[str | None, list[tuple[str, str]]]:
    """Take a leading system message off the conversation, as the Llama-2 and Mistral templates do."""
    if turns[0][0] == "system":
        return turns[0][1], turns[1:]
    return None, turns


def render_chatml(messages: Sequence[Mapping[str, Any]], *, add_generation_prompt: bool = True) -> str:
    """Render ChatML: ``<|im_start|>role\\ncontent<|im_end|>\\n`` per message (lesson 02)."""
    text = "".join(f"<|im_start|>{role}\n{content}<|im_end|>\n" for role, content in _turns(messages))
    return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")


def render_llama3(
    messages: Sequence[Mapping[str, Any]],
    *,
    add_generation_prompt: bool = True,
    bos_token: str = "<|begin_of_text|>",
) -> str:
    """Render the Llama-3 Instruct format: headers, a blank line, trimmed content, ``<|eot_id|>`` (lesson 02)."""
    body = "".join(
        f"<|start_header_id|>{role}<|end_header_id|>\n\n{content.strip()}<|eot_id|>"
        for role, content in _turns(messages)
    )
    header = "<|start_header_id|>assistant<|end_header_id|>\n\n" if add_generation_prompt else ""
    return bos_token + body + header


def render_llama2(
    messages: Sequence[Mapping[str, Any]],
    *,
    add_generation_prompt: bool = True,
    bos_token: str = "<s>",
    eos_token: str = "</s>",
) -> str:
    """Render the Llama-2 chat format: ``<s>[INST] <<SYS>>…<</SYS>> user [/INST] answer </s>`` (lesson 02).

    ``add_generation_prompt`` has no effect (the official template ignores it): a prompt that ends with a
    user turn already ends with ``[/INST]``, where the model's answer begins.
    """
    system, loop = _split_system(_turns(messages))
    if any((role == "user") != (i % 2 == 0) for i, (role, _) in enumerate(loop)):
        raise TemplateError(LLAMA2_ALTERNATION)
    parts = []
    for i, (role, content) in enumerate(loop):
        if role not in ("user", "assistant"):
            raise TemplateError(
                f"message {i + (system is not None)} has role {role!r}, which the Llama-2 template drops "
                "silently; only one system message, first, then user/assistant turns"
            )
        if i == 0 and system is not None:
            content = f"<<SYS>>\n{system}\n<</SYS>>\n\n{content}"
        if role == "user":
            parts.append(f"{bos_token}[INST] {content.strip()} [/INST]")
        else:
            parts.append(f" {content.strip()} {eos_token}")
    if not parts:
        raise TemplateError("the conversation has a system message but no user message to attach it to")
    return "".join(parts)


def render_mistral(
    messages: Sequence[Mapping[str, Any]],
    *,
    add_generation_prompt: bool = True,
    bos_token: str = "<s>",
    eos_token: str = "</s>",
) -> str:
    """Render Mistral-7B-Instruct-v0.2's format: ``<s> [INST] system\\n\\nuser [/INST] answer</s>`` (lesson 02).

    ``add_generation_prompt`` has no effect (the official template ignores it), as for Llama-2.
    """
    system, loop = _split_system(_turns(messages))
    if not loop:
        raise TemplateError("the conversation has a system message but no user message to attach it to")
    parts = [bos_token]
    for i, (role, content) in enumerate(loop):
        if (role == "user") != (i % 2 == 0):
            raise TemplateError(MISTRAL_ALTERNATION)
        if role == "user":
            if i == 0 and system is not None:
                parts.append(f" [INST] {system}\n\n{content} [/INST]")
            else:
                parts.append(f" [INST] {content} [/INST]")
        elif role == "assistant":
            parts.append(f" {content}{eos_token}")
        else:
            raise TemplateError(MISTRAL_ROLES)
    return "".join(parts)


@dataclass(frozen=True)
class ChatTemplate:
    """A named chat format: how to render a conversation and which strings end the answer (lesson 02)."""

    name: str
    render_fn: Callable[..., str]
    stop: tuple[str, ...]
    source: str
    """The model repository whose official ``chat_template`` this reproduces."""

    def render(self, messages: Sequence[Mapping[str, Any]], *, add_generation_prompt: bool = True) -> str:
        """Render ``messages`` to the raw prompt string."""
        return self.render_fn(messages, add_generation_prompt=add_generation_prompt)

    def __repr__(self) -> str:
        return f"ChatTemplate({self.name!r})"


TEMPLATES: dict[str, ChatTemplate] = {
    "chatml": ChatTemplate("chatml", render_chatml, ("<|im_end|>",), "teknium/OpenHermes-2.5-Mistral-7B"),
    "llama2": ChatTemplate("llama2", render_llama2, ("</s>",), "meta-llama/Llama-2-7b-chat-hf"),
    "llama3": ChatTemplate(
        "llama3", render_llama3, ("<|eot_id|>", "<|end_of_text|>"), "meta-llama/Meta-Llama-3-8B-Instruct"
    ),
    "mistral": ChatTemplate("mistral", render_mistral, ("</s>",), "mistralai/Mistral-7B-Instruct-v0.2"),
}


def get_template(name: str | ChatTemplate) -> ChatTemplate:
    """Look a chat template up by name: ``chatml``, ``llama2``, ``llama3`` or ``mistral`` (lesson 02).

    Case, ``-``, ``_`` and spaces are ignored, so ``"Llama-3"`` works too.
    """
    if isinstance(name, ChatTemplate):
        return name
    key = str(name).lower().replace("-", "").replace("_", "").replace(" ", "")
    try:
        return TEMPLATES[key]
    except KeyError:
        raise TemplateError(f"unknown chat template {name!r}; known: {sorted(TEMPLATES)}") from None
