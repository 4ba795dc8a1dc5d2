"""Assistant prefill through the Anthropic adapter: start the model's answer yourself (lesson 02).

Anthropic's Messages API continues a conversation that ends with an ``assistant`` turn: the text you
put there is the start of the answer, and the reply holds only what comes after it. Prefill ``{`` and
the answer is JSON from its first character, with no preamble to strip. The catch is a common
mistake: the reply does not repeat the prefill, so parsing the reply alone fails;
:func:`join_prefill` puts the two back together.

:func:`scripted_ticket_reply` is the scripted server's answer (written by the course, labelled
``scripted``): prose around the JSON when nothing is prefilled, the rest of the object when ``{`` is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["PREFILL", "join_prefill", "scripted_ticket_reply", "ticket_json_messages"]

PREFILL = "{"
"""The assistant turn's opening: the answer starts as a JSON object (lesson 02)."""
_INSTRUCTION = (
    "Classify the ticket. Reply with a JSON object with the keys product (login, billing, export or "
    "webhooks) and severity (low, normal or high)."
)


def ticket_json_messages(ticket: str, *, prefill: str | None = PREFILL) -> list[dict[str, str]]:
    """The request: the instruction and ticket, then (unless ``prefill`` is None) the answer's opening (lesson 02)."""
    messages = [{"role": "system", "content": _INSTRUCTION}, {"role": "user", "content": ticket}]
    if prefill:
        messages.append({"role": "assistant", "content": prefill})
    return messages


def join_prefill(prefill: str | None, reply: str) -> str:
    """The whole answer: the prefill followed by the reply that continues it (lesson 02)."""
    return (prefill or "") + reply


def _classify(ticket: str) -> dict[str, str]:
    low = ticket.lower()
    product = next((p for p in ("webhook", "export", "log in", "invoice") if p in low), "other")
    product = {"webhook": "webhooks", "log in": "login", "invoice": "billing"}.get(product, product)
    severity = "high" if any(w in low for w in ("lost", "cannot", "failing")) else "normal"
    return {"product": product, "severity": severity}


def scripted_ticket_reply(body: Mapping[str, Any]) -> str:
    """The scripted server's answer to a ticket request, continuing an assistant prefill if there is one (lesson 02)."""
    messages = list(body.get("messages") or [])
    ticket = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
    answer = json.dumps(_classify(str(ticket)))
    if messages and messages[-1].get("role") == "assistant":
        opening = str(messages[-1].get("content") or "")
        if not answer.startswith(opening):
            raise ValueError(f"the scripted reply cannot continue the prefill {opening!r}")
        return answer[len(opening) :]
    return f"Sure! Here is the classification:\n\n{answer}\n\nLet me know if you need anything else."
