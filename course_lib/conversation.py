"""Chat messages and conversation state: sliding windows and token budgets (lesson 02).

A chat model is a stateless function: every request must carry the whole conversation the model
should see. This module builds messages, keeps a conversation's transcript, and decides which part of
it to send. The trimming rules are pure functions over message lists so they can be tested (and
plotted) on their own:

* :func:`sliding_window` keeps the system prompt and at most N other messages;
* :func:`keep_last_turns` keeps the system prompt and the last N turns;
* :func:`trim_to_budget` keeps the system prompt and the latest turn and drops the oldest turns until
  the prompt fits a token budget. Unlike a ``while too_big: pop()`` loop it always terminates: when the
  messages it must keep are already over budget it raises :class:`BudgetTooSmallError`.

A *turn* starts at a user message and runs to the next user message, so it holds the assistant's
answer and any tool calls and tool results in between. Windows only ever start at a turn boundary: a
trimmed prompt never opens with an answer whose question was cut, or with a tool result whose call was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .providers.base import ChatResult, Message
from .tokens import count_message_tokens

__all__ = [
    "BudgetTooSmallError",
    "Conversation",
    "Counter",
    "assistant_message",
    "keep_last_turns",
    "prompt_tokens_per_turn",
    "sliding_window",
    "split_system",
    "split_turns",
    "system_message",
    "tool_message",
    "trim_to_budget",
    "user_message",
]

Counter = Callable[[Sequence[Message]], int]
"""A function returning the prompt tokens of a message list, e.g. ``count_message_tokens`` (lesson 02)."""

_PINNED_ROLES = ("system", "developer")


class BudgetTooSmallError(ValueError):
    """The messages that must always be sent do not fit the token budget on their own (lesson 02)."""

    def __init__(self, needed: int, budget: int, what: str = "the system prompt and the latest turn"):
        super().__init__(
            f"{what} need {needed} tokens but the budget is {budget}: nothing left to drop. "
            f"Raise the budget to at least {needed} tokens or shorten {what}."
        )
        self.needed = needed
        self.budget = budget


# --------------------------------------------------------------------------- message builders


def system_message(content: str) -> dict[str, Any]:
    """A system message: global instructions the model follows for the whole conversation (lesson 02)."""
    return {"role": "system", "content": content}


def user_message(content: str, *, name: str | None = None) -> dict[str, Any]:
    """A user message, optionally with a participant ``name`` (lesson 02)."""
    message: dict[str, Any] = {"role": "user", "content": content}
    if name is not None:
        message["name"] = name
    return message


def assistant_message(
    content: str | None, *, tool_calls: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """An assistant message: a previous answer, or a request to call tools (lesson 02)."""
    if content is None and not tool_calls:
        raise ValueError("an assistant message needs content or tool_calls")
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return message


def tool_message(content: str, *, tool_call_id: str) -> dict[str, Any]:
    """The result of a tool call, linked to the call by ``tool_call_id`` (lesson 02)."""
    if not tool_call_id:
        raise ValueError("a tool message needs the tool_call_id of the call it answers")
    return {"role": "tool", "content": content, "tool_call_id": tool_call_id}


# --------------------------------------------------------------------------- pure trimming logic


def split_system(messages: Sequence[Message]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split off the leading system (or developer) messages, which are never trimmed (lesson 02)."""
    msgs = [dict(m) for m in messages]
    i = 0
    while i < len(msgs) and msgs[i].get("role") in _PINNED_ROLES:
        i += 1
    return msgs[:i], msgs[i:]


def split_turns(messages: Sequence[Message]) -> list[list[dict[str, Any]]]:
    """Group non-system messages into turns, each starting at a user message (lesson 02).

    Messages before the first user message (say, an assistant greeting) form a turn of their own.
    """
    turns: list[list[dict[str, Any]]] = []
    for m in messages:
        if m.get("role") == "user" or not turns:
            turns.append([])
        turns[-1].append(dict(m))
    return turns


def _turn_starts(rest: Sequence[Message]) -> list[int]:
    """Indices where a trimmed history may start: 0 and every user message."""
    return [0, *(i for i, m in enumerate(rest) if i > 0 and m.get("role") == "user")]


def sliding_window(messages: Sequence[Message], max_messages: int) -> list[dict[str, Any]]:
    """The system prompt plus the longest recent history of at most ``max_messages`` messages (lesson 02).

    The kept history starts at a turn boundary, so it may hold fewer than ``max_messages``.
    """
    if max_messages < 0:
        raise ValueError(f"max_messages must be >= 0, got {max_messages}")
    pinned, rest = split_system(messages)
    for start in _turn_starts(rest):
        if len(rest) - start <= max_messages:
            return pinned + rest[start:]
    return pinned


def keep_last_turns(messages: Sequence[Message], max_turns: int) -> list[dict[str, Any]]:
    """The system prompt plus the last ``max_turns`` turns (lesson 02)."""
    if max_turns < 0:
        raise ValueError(f"max_turns must be >= 0, got {max_turns}")
    pinned, rest = split_system(messages)
    turns = split_turns(rest)
    kept = turns[len(turns) - max_turns :] if max_turns else []
    return pinned + [m for turn in kept for m in turn]


def trim_to_budget(
    messages: Sequence[Message],
    max_tokens: int,
    *,
    model: str = "gpt-4o",
    counter: Counter | None = None,
) -> list[dict[str, Any]]:
    """Drop the oldest turns until the prompt fits ``max_tokens`` (lesson 02).

    Always keeps the system prompt and the latest turn (the last user message and anything after it).
    Raises :class:`BudgetTooSmallError` when those alone exceed the budget. Tokens are counted with
    ``counter`` (default: tiktoken through :func:`course_lib.tokens.count_message_tokens`).
    """
    count = counter or (lambda msgs: count_message_tokens(msgs, model))
    pinned, rest = split_system(messages)
    starts = _turn_starts(rest)
    # The last candidate is the latest turn alone; a conversation without any user message keeps its
    # last message as the latest one.
    last = starts[-1] if rest and rest[starts[-1]].get("role") == "user" else max(len(rest) - 1, 0)
    candidates = [s for s in starts if s < last] + [last]
    for start in candidates:  # a bounded loop: at most one count per turn
        prompt = pinned + rest[start:]
        if count(prompt) <= max_tokens:
            return prompt
    needed = count(pinned + rest[last:])
    raise BudgetTooSmallError(needed, max_tokens)


def prompt_tokens_per_turn(
    messages: Sequence[Message],
    *,
    max_messages: int | None = None,
    max_tokens: int | None = None,
    model: str = "gpt-4o",
) -> list[int]:
    """Prompt tokens sent at each user turn of a transcript, with optional trimming, for a plot (lesson 02).

    Element i is the size of the request that asked the (i+1)-th user question: everything before
    that question plus the question, after the sliding window and/or the token budget are applied.
    """
    msgs = [dict(m) for m in messages]
    out = []
    for i, m in enumerate(msgs):
        if m.get("role") != "user":
            continue
        prompt = msgs[: i + 1]
        if max_messages is not None:
            prompt = sliding_window(prompt, max_messages)
        if max_tokens is not None:
            prompt = trim_to_budget(prompt, max_tokens, model=model)
        out.append(count_message_tokens(prompt, model))
    return out


# --------------------------------------------------------------------------- conversation state


class Conversation:
    """A conversation's transcript plus the policy deciding what is sent to the model (lesson 02).

    The full transcript is kept in :attr:`history`; :meth:`messages` returns the prompt to send,
    after the optional sliding window (``max_messages``) and token budget (``max_tokens``).
    """

    def __init__(
        self,
        system_prompt: str | None = None,
        *,
        max_messages: int | None = None,
        max_tokens: int | None = None,
        model: str = "gpt-4o",
    ) -> None:
        if max_messages is not None and max_messages < 1:
            raise ValueError(f"max_messages must be >= 1 so the question itself is sent, got {max_messages}")
        self.history: list[dict[str, Any]] = [system_message(system_prompt)] if system_prompt else []
        self.max_messages = max_messages
        self.max_tokens = max_tokens
        self.model = model
        self.results: list[ChatResult] = []
        """The provider's answer to every :meth:`ask`, in order."""
        self.sent_tokens: list[int] = []
        """Prompt tokens (counted locally) of every request :meth:`ask` sent."""

    @property
    def system_prompt(self) -> str | None:
        """The system prompt, or None."""
        pinned, _ = split_system(self.history)
        return str(pinned[0]["content"]) if pinned else None

    def add(self, message: Message) -> None:
        """Append any message to the transcript."""
        if "role" not in message:
            raise ValueError("a message needs a 'role' (system, user, assistant or tool)")
        self.history.append(dict(message))

    def add_user(self, content: str) -> None:
        """Append a user message."""
        self.add(user_message(content))

    def add_assistant(self, content: str) -> None:
        """Append an assistant message."""
        self.add(assistant_message(content))

    def messages(self) -> list[dict[str, Any]]:
        """The prompt to send now: the transcript after the window and the token budget."""
        prompt = [dict(m) for m in self.history]
        if self.max_messages is not None:
            prompt = sliding_window(prompt, self.max_messages)
        if self.max_tokens is not None:
            prompt = trim_to_budget(prompt, self.max_tokens, model=self.model)
        return prompt

    def ask(self, provider: Any, text: str, **params: Any) -> ChatResult:
        """Add ``text`` as a user message, send the prompt, append and return the answer.

        If the call fails, the question is taken back out of the transcript so a retry does not
        send it twice.
        """
        self.add_user(text)
        try:
            prompt = self.messages()
            result = provider.complete(prompt, **params)
        except BaseException:
            self.history.pop()
            raise
        return self._record(prompt, result)

    async def aask(self, provider: Any, text: str, **params: Any) -> ChatResult:
        """Async form of :meth:`ask` (uses the provider's ``acomplete``)."""
        self.add_user(text)
        try:
            prompt = self.messages()
            result = await provider.acomplete(prompt, **params)
        except BaseException:
            self.history.pop()
            raise
        return self._record(prompt, result)

    def _record(self, prompt: list[dict[str, Any]], result: ChatResult) -> ChatResult:
        self.add_assistant(result.text)
        self.results.append(result)
        self.sent_tokens.append(count_message_tokens(prompt, self.model))
        return result

    def tokens_per_turn(self, *, max_messages: int | None = None, max_tokens: int | None = None) -> list[int]:
        """Prompt tokens each user turn of this transcript costs under a given policy (for a plot)."""
        return prompt_tokens_per_turn(
            self.history, max_messages=max_messages, max_tokens=max_tokens, model=self.model
        )

    def token_count(self) -> int:
        """Prompt tokens of :meth:`messages` as it would be sent now."""
        return count_message_tokens(self.messages(), self.model)

    def __len__(self) -> int:
        return len(self.history)

    def __repr__(self) -> str:
        return (
            f"Conversation(messages={len(self.history)}, max_messages={self.max_messages}, "
            f"max_tokens={self.max_tokens})"
        )
