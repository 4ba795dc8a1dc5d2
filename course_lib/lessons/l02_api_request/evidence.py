"""The claims of lesson 02 and what backs each one: its evidence box.

Measured figures are recomputed from SmolLM2-135M-Instruct's answers recorded through the local
server's chat endpoint and its raw ``/completions`` endpoint (``02_api_request``); the test suite checks
that they still follow.
"""

from __future__ import annotations

from course_lib.lessons._evidence import LOCAL_MODEL, Claim

__all__ = ["CLAIMS", "TICKETS", "template_figure"]

RECORDINGS = "02_api_request"
TICKET_SYSTEM = "You summarise customer support tickets in one sentence for the on-call engineer."
TICKETS = {
    "login": "Hi, since this morning our team cannot log in. The password reset email arrives but the link says "
    "'token expired' straight away. We are on the Business plan, account ACME-4411.",
    "export": "The CSV export of invoices for March has the amounts in cents instead of euros. Our accountant "
    "noticed it today; February's export was fine.",
    "webhooks": "Webhook deliveries to https://hooks.example.org/orders have been failing with HTTP 500 since the "
    "02:00 deploy. We lost about 300 order notifications.",
}
"""The lesson's three support tickets (lesson 02)."""


def template_figure() -> str:
    """How often the ChatML adapter matches the chat endpoint, and the Llama-3 template's prompt-token ratio."""
    from course_lib.providers.offline_adapters import replay_completion_provider
    from course_lib.providers.registry import get_provider

    chat = get_provider(recordings=RECORDINGS, model=LOCAL_MODEL)
    chatml = replay_completion_provider(RECORDINGS, "chatml", LOCAL_MODEL)
    llama3 = replay_completion_provider(RECORDINGS, "llama3", LOCAL_MODEL)
    same = tokens_chatml = tokens_llama3 = 0
    for ticket in TICKETS.values():
        messages = [{"role": "system", "content": TICKET_SYSTEM}, {"role": "user", "content": ticket}]
        a, b, c = (p.complete(messages, temperature=0, max_tokens=60) for p in (chat, chatml, llama3))
        same += a.text == b.text and a.usage.prompt_tokens == b.usage.prompt_tokens
        tokens_chatml += b.usage.prompt_tokens
        tokens_llama3 += c.usage.prompt_tokens
    return (
        f"ChatML adapter = chat endpoint on {same} of {len(TICKETS)} tickets; "
        f"Llama-3 template: {tokens_llama3 / tokens_chatml:.1f}x the prompt tokens"
    )


CLAIMS = [
    Claim(
        "An adapter that renders the model's own chat template reproduces the server's chat endpoint; the wrong "
        "template fails silently, with more tokens and worse answers",
        "measured",
        "ChatML adapter = chat endpoint on 3 of 3 tickets; Llama-3 template: 2.0x the prompt tokens",
        where="The template must match the model",
        recordings=RECORDINGS,
        figure=template_figure,
    ),
    Claim(
        "Every request re-sends the whole conversation, so prompt tokens grow each turn; trimming bounds them",
        "illustrated",
        "the on-call conversation's answers are scripted; the token counts are tiktoken's, computed",
        where="The tokens re-sent at each turn",
    ),
    Claim(
        "One business function runs unchanged through the OpenAI, raw-completion and Anthropic adapters",
        "illustrated",
        "gpt-4o-mini and Anthropic answers are scripted; the raw-completion answers are SmolLM2's, recorded",
        where="Checkpoint: migrating models",
    ),
    Claim(
        "Assistant prefill makes the answer start as JSON; the reply must be joined to the prefill",
        "illustrated",
        "a scripted stand-in for Anthropic's Messages API; the parsing is computed",
        where="Assistant prefill",
    ),
    Claim(
        "A blue-green cutover with failover loses no answer and rolls back a bad deployment at the first stage",
        "illustrated",
        "simulated: scripted blue and green models, green's failures injected on a seeded schedule",
        where="Blue-green",
    ),
]
