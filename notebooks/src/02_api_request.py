# %% [markdown]
# # 02 · The protocol: anatomy of an LLM API request
#
# **Objectives**
# - Build a chat request from messages and roles, and see why every request carries the whole conversation.
# - Measure the prompt tokens each turn re-sends, and what a sliding window or a token budget saves and loses.
# - Trim history correctly: keep the system prompt, never start with an orphaned answer, always terminate.
# - See the same conversation as four chat templates, byte for byte, and why a wrong template hurts.
# - Run one business function unchanged through three adapters: OpenAI chat, a raw-completion server
#   with a chat template, and Anthropic's Messages API; start an answer yourself with assistant prefill.
# - Move traffic from one model deployment to another (blue-green) without losing an answer.

# %% [markdown]
# ## Messages and roles
#
# A chat API does not take a string. It takes a list of messages, each with a **role** and some
# **content**:
#
# | role | who writes it | what it is for |
# | --- | --- | --- |
# | `system` (or `developer`) | you, once per conversation | standing instructions: persona, format, limits |
# | `user` | the person (or upstream service) | the question or the data of this turn |
# | `assistant` | the model, on earlier turns | its previous answers, sent back as history |
# | `tool` | your code | the result of a tool the model asked to call (lesson 06) |
#
# The builders in `course_lib.conversation` make these dicts, and every provider checks the list before
# sending it, so a malformed message fails here, with a reason, instead of as an HTTP 400.

# %%
from course_lib.conversation import assistant_message, system_message, user_message
from course_lib.providers.base import validate_messages

messages = [
    system_message("Answer in one sentence."),
    user_message("What is a p95 latency?"),
    assistant_message("The time within which 95% of requests complete."),
    user_message("And p99?"),
]
print([m["role"] for m in messages])
try:
    validate_messages([*messages, {"role": "bot", "content": "hello"}])
except ValueError as err:
    print("rejected:", err)

# %% [markdown]
# ## The model remembers nothing
#
# A model behind an API is a stateless function: the answer depends only on the request. A conversation
# exists because *the client* keeps the transcript and sends all of it with every new question.
# `Conversation` does exactly that: `ask()` appends the question, sends the history, appends the answer.
#
# The conversation below is an on-call engineer talking an incident through. Its answers are replayed
# from this lesson's recordings; they are **scripted** (written by the course to show what a capable
# model answers), as `source` says.

# %%
from course_lib import get_provider
from course_lib.conversation import Conversation

SYSTEM = (
    "You are the on-call assistant of a payments API team. Answer in at most four short sentences, "
    "name concrete commands or metrics, and say when a human must decide."
)
QUESTIONS = [
    "p95 latency of POST /charges went from 280 ms to 1.9 s right after the 14:05 deploy. Where do I look first?",
    "Traces say the database span went from 40 ms to 1.5 s. The release added an index on charges.customer_id.",
    "pg_stat_activity shows 180 sessions waiting on a lock held by the CREATE INDEX, which is not concurrent. Cancel it?",
    "Cancelled. p95 is back to 300 ms. What do I post in the incident channel?",
    "How do we stop a migration like this from reaching production again?",
    "Draft the first three sentences of the postmortem summary.",
]
provider = get_provider(recordings="02_api_request", model="gpt-4o-mini")

# %%
conversation = Conversation(SYSTEM, model="gpt-4o-mini")
for turn, question in enumerate(QUESTIONS, 1):
    result = conversation.ask(provider, question, temperature=0)
    print(f"turn {turn}: sent {len(conversation.history) - 1:2} messages, "
          f"{result.usage.prompt_tokens:3} prompt tokens [{result.source}]  {result.text[:60]}…")

# %% [markdown]
# Each request re-sent everything before it: the system prompt, every question and every answer. The
# provider's `usage.prompt_tokens` agrees with the count `Conversation` made before sending
# (`sent_tokens`, counted with tiktoken), so the cost of a turn is known *before* the call.

# %%
print("counted before sending:", conversation.sent_tokens)
print("reported in usage:     ", [r.usage.prompt_tokens for r in conversation.results])

# %% [markdown]
# Send the fourth question on its own, without the history, and the model has nothing to go on: the
# cause, the time and the fix were only ever in the earlier messages. (Scripted answer.)

# %%
alone = provider.complete([system_message(SYSTEM), user_message(QUESTIONS[3])], temperature=0)
print(f"[{alone.source}] {alone.text}")

# %% [markdown]
# ## The tokens re-sent at each turn
#
# When every turn adds about the same number of tokens, the request grows linearly with the turn number
# and the conversation's total with the square of its length. `prompt_tokens_per_turn` replays the
# transcript's requests under a policy without calling any model: the whole history, a sliding window
# of the last 4 messages, or a budget of 400 prompt tokens.

# %%
from course_lib.conversation import prompt_tokens_per_turn

BUDGET = 400
policies = {
    "whole history": {},
    "window of 4 messages": {"max_messages": 4},
    f"budget of {BUDGET} tokens": {"max_tokens": BUDGET},
}
per_turn = {name: prompt_tokens_per_turn(conversation.history, model="gpt-4o-mini", **kw) for name, kw in policies.items()}
for name, tokens in per_turn.items():
    print(f"{name:22} {tokens}  total {sum(tokens)}")

# %%
import matplotlib.pyplot as plt

from course_lib.lessons.l02_api_request.plots import plot_tokens_per_turn

plot_tokens_per_turn(per_turn, budget=BUDGET)
plt.show()

# %% [markdown]
# Trimming is not free. The sixth question asks for a postmortem; the window of 4 messages sends only
# the last question, its answer and the new question, so none of the incident's facts (the latency,
# the index, the time of the fix) reach the model. A budget drops old turns only when it must. Which
# policy is right depends on how far back your conversations refer.
#
# A common shortcut estimates tokens as characters ÷ 4. On this transcript's English prose the rule lands close
# to tiktoken's count; on a log line full of ids and numbers it is far off. A budget needs the real count.

# %%
from course_lib.tokens import count_message_tokens, count_tokens, estimate_tokens_by_chars

last_request = conversation.history[:-1]
by_chars = sum(estimate_tokens_by_chars(m["content"]) for m in last_request)
print(f"last request: chars ÷ 4 = {by_chars}, tiktoken = {count_message_tokens(last_request, 'gpt-4o-mini')}")
log_line = "trace_id=2f9c1e7a55b14c3e9d2a8f0e6b7c1d2e span=db.query dur_ms=1512 ts=14:05:33.182Z"
print(f"log line:     chars ÷ 4 = {estimate_tokens_by_chars(log_line)}, tiktoken = {count_tokens(log_line, 'gpt-4o-mini')}")


# %% [markdown]
# ## A sliding window that keeps what it must
#
# A common first version keeps the system prompt plus `messages[-max_history:]`. It has two bugs, both
# reproduced below:
#
# - with `max_history=0`, `messages[-0:]` is `messages[0:]`, the *whole* list: nothing is trimmed and the
#   system prompt is sent twice;
# - the window is counted in messages, so it can start with an assistant answer whose question was cut off.

# %%
def naive_window(messages, max_history):
    """A common mistake, to show its bugs: the system prompt plus the last max_history messages."""
    if len(messages) > max_history + 1:
        return [messages[0]] + messages[-max_history:]
    return list(messages)


history = conversation.history
print("max_history=0:", len(naive_window(history, 0)), "messages of", len(history),
      "| system prompts:", [m["role"] for m in naive_window(history, 0)].count("system"))
print("max_history=3:", [m["role"] for m in naive_window(history, 3)])

# %% [markdown]
# `sliding_window` keeps the leading system prompt, then the longest run of recent messages that fits
# the window *and* starts at a user message, so a window of 3 may send fewer than 3. A window of 0 sends
# the system prompt alone.

# %%
from course_lib.conversation import sliding_window

for n in (0, 3, 4):
    print(f"window {n}:", [m["role"] for m in sliding_window(history, n)])

# %% [markdown]
# ## Try it: window size and token budget
#
# Move the sliders: the text shows the prompt tokens of every turn, the total billed, and which messages
# the request for the last turn sends or drops. At its maximum, each slider keeps everything.

# %% tags=["nbval-ignore-output"]
from course_lib.lessons.l02_api_request.widgets import format_window_report, window_explorer, window_report

window_explorer(history, model="gpt-4o-mini")

# %% [markdown]
# The same function, called directly with a window of 6 messages and a 300-token budget:

# %%
print(format_window_report(window_report(history, max_messages=6, max_tokens=300, model="gpt-4o-mini")))


# %% [markdown]
# ## A token budget that always terminates
#
# A common way to fit a budget: pop the oldest non-system message *while* the prompt is over budget. When
# the system prompt alone is over budget, there is nothing left to pop and the loop never ends. Below,
# that loop with a cap added so the notebook finishes, against a 40-token budget:

# %%
def naive_trim(messages, max_tokens, max_rounds=1_000):
    """A common mistake, with a cap so it stops: pop the oldest message while over budget."""
    messages = list(messages)
    for rounds in range(max_rounds):
        if count_message_tokens(messages, "gpt-4o-mini") <= max_tokens:
            return messages, rounds
        if len(messages) > 1:
            messages.pop(1)
    return messages, max_rounds


left, rounds = naive_trim(history, 40)
print(f"after {rounds} rounds: {len(left)} message left, {count_message_tokens(left, 'gpt-4o-mini')} tokens > 40")

# %% [markdown]
# `trim_to_budget` drops whole turns, oldest first, in a loop bounded by the number of turns. It always
# keeps the system prompt and the latest question, and when those alone exceed the budget it raises
# `BudgetTooSmallError`, which says how many tokens are needed.

# %%
from course_lib.conversation import BudgetTooSmallError, trim_to_budget

print([m["role"] for m in trim_to_budget(history[:-1], BUDGET, model="gpt-4o-mini")])
try:
    trim_to_budget(history[:-1], 40, model="gpt-4o-mini")
except BudgetTooSmallError as err:
    print("BudgetTooSmallError:", err)

# %% [markdown]
# ## Under the API: chat templates
#
# The model itself reads one string. The server turns the message list into that string with the
# model's **chat template**, using special tokens the model saw around every turn in training. Here is
# one short conversation in four templates, each reproducing its model's official template byte for byte.

# %%
from course_lib.providers.templates import TEMPLATES

demo = [
    system_message("Be concise."),
    user_message("What is 2+2?"),
    assistant_message("4"),
    user_message("And 2+3?"),
]
for name, template in TEMPLATES.items():
    print(f"── {name} ({template.source}), stops at {list(template.stop)}")
    print(template.render(demo))

# %% [markdown]
# Same roles, four wire formats: ChatML wraps each message in `<|im_start|>role … <|im_end|>`; Llama-3
# uses header tokens and `<|eot_id|>`; Llama-2 and Mistral fold the system prompt into the first user
# turn inside `[INST] … [/INST]`. A server with a chat endpoint does this step for you; a raw-completion
# endpoint leaves it to you.
#
# A Llama-3 prompt written by hand often puts *one* newline after each header and a newline after each
# `<|eot_id|>`. The official template puts *two* newlines after the header and *nothing* after
# `<|eot_id|>`. Split both strings at the special tokens and compare the pieces between them:

# %%
import re

from course_lib.providers.templates import render_llama3


def handwritten_llama3(messages):
    """A common hand-written Llama-3 rendering, to compare with the official format."""
    parts = [f"<|start_header_id|>{m['role']}<|end_header_id|>\n{m['content']}<|eot_id|>\n" for m in messages]
    return "<|begin_of_text|>" + "".join(parts) + "<|start_header_id|>assistant<|end_header_id|>\n"


ask = [system_message("You are a JSON parser."), user_message("Extract: John Smith")]
by_hand, official = handwritten_llama3(ask), render_llama3(ask)
pairs = list(zip(re.split(r"(<\|[a-z_]+\|>)", by_hand), re.split(r"(<\|[a-z_]+\|>)", official), strict=True))
for i, (a, b) in enumerate(pairs):
    if a != b:
        print(f"piece {i:2}: by hand {a!r:28} official {b!r}")
print(f"{sum(a != b for a, b in pairs)} of {len(pairs)} pieces differ; "
      f"lengths: by hand {len(by_hand)}, official {len(official)}; equal strings: {by_hand == official}")

# %% [markdown]
# The lengths differ by a single byte while several pieces differ, so a length check would not catch it. The model was trained on the official layout; a prompt in another layout is one it has
# never seen. Only a byte-exact comparison against the official template tells you the renderer is
# right, which is what this course's tests (and exercise 2.1) do.

# %% [markdown]
# ## Checkpoint: migrating models without touching business code
#
# Suppose 50 services call one vendor's SDK directly, and the company moves to a self-hosted model that
# serves another format. The answer is the **adapter pattern**: business code
# talks to one interface, `complete(messages, **params) -> ChatResult`, and receives the provider it
# should use (dependency injection); each adapter translates to its vendor's wire format. Here is one
# business function, written once:

# %%
from course_lib.providers.base import ChatResult

TICKET_SYSTEM = "You summarise customer support tickets in one sentence for the on-call engineer."


def summarise_ticket(provider, ticket: str) -> ChatResult:
    """Business logic: messages and the provider interface, nothing vendor-specific."""
    messages = [system_message(TICKET_SYSTEM), user_message(ticket)]
    return provider.complete(messages, temperature=0, max_tokens=60)


# %% [markdown]
# Three adapters, each on an offline server of its own shape, so the official SDKs parse every answer:
#
# - the **OpenAI** chat adapter on this lesson's recordings (`gpt-4o-mini`, **scripted** answers);
# - the **raw-completion** adapter, which renders the chat with a template and calls `/completions`. It
#   uses **ChatML**, SmolLM2's format, and replays answers **recorded** from the real SmolLM2-135M;
# - the **Anthropic** adapter on a stand-in for the Messages API whose answers are **scripted** (no
#   Claude model was called).

# %%
from course_lib.providers.offline_adapters import ScriptedAnthropicServer, replay_completion_provider

TICKETS = {
    "login": "Hi, since this morning our team cannot log in. The password reset email arrives but the link says 'token expired' straight away. We are on the Business plan, account ACME-4411.",
    "export": "The CSV export of invoices for March has the amounts in cents instead of euros. Our accountant noticed it today; February's export was fine.",
    "webhooks": "Webhook deliveries to https://hooks.example.org/orders have been failing with HTTP 500 since the 02:00 deploy. We lost about 300 order notifications.",
}
claude = ScriptedAnthropicServer({
    TICKETS["login"]: "Account ACME-4411 (Business plan) has been locked out since this morning: password reset links expire immediately.",
    TICKETS["export"]: "March's invoice CSV export reports amounts in cents rather than euros; February's export was correct.",
    TICKETS["webhooks"]: "Since the 02:00 deploy, webhooks to hooks.example.org/orders return HTTP 500; about 300 order notifications were lost.",
})

# %%
adapters = {
    "OpenAI chat": provider,
    "completion + ChatML": replay_completion_provider("02_api_request", "chatml", "SmolLM2-135M-Instruct"),
    "Anthropic Messages": claude.provider(),
}
answers = {}
for ticket_name, ticket in TICKETS.items():
    print(f"── {ticket_name}")
    for adapter_name, adapter in adapters.items():
        answers[ticket_name, adapter_name] = result = summarise_ticket(adapter, ticket)
        text = " ".join(result.text.split())
        print(f"{adapter_name:20} [{result.source}, {result.model}, {result.finish_reason}] {text[:100]}")

# %% [markdown]
# `summarise_ticket` never changed. Each adapter spoke its own wire format; here is what each one sent
# for the first ticket. The OpenAI adapter sends the messages as they are:

# %%
import json

sent = [provider.transport.entries[r["key"]].request for r in provider.transport.requests]
first_openai = next(r for r in sent if r["messages"][-1]["content"] == TICKETS["login"])
print(json.dumps(first_openai, indent=1))

# %% [markdown]
# The raw-completion adapter sends one string, rendered with ChatML, and the template's end-of-turn token
# as the stop sequence:

# %%
raw = adapters["completion + ChatML"]
print(repr(raw.render([system_message(TICKET_SYSTEM), user_message(TICKETS["login"])])))
print("stop:", list(raw.template.stop))

# %% [markdown]
# The Anthropic adapter moves the system prompt to its own `system` field and requires `max_tokens`:

# %%
first = claude.requests[0]
print({k: (v if k != "messages" else [m["role"] for m in v]) for k, v in sorted(first.items())})

# %% [markdown]
# Configuration picks the adapter: `get_provider()` reads `COURSE_PROVIDER`
# (lesson 00), so moving from OpenAI to a self-hosted server is a deployment change, not a code change.
#
# ### The template must match the model
#
# SmolLM2 was also recorded through the server's own `/chat/completions` endpoint (the server applies
# the model's template) and through `/completions` with the **Llama-3** template, the wrong format for
# this model. All three at temperature 0, real answers:

# %%
small_chat = get_provider(recordings="02_api_request", model="SmolLM2-135M-Instruct")
small_llama3 = replay_completion_provider("02_api_request", "llama3", "SmolLM2-135M-Instruct")
for ticket_name, ticket in TICKETS.items():
    chatml = answers[ticket_name, "completion + ChatML"]
    via_chat, via_llama3 = summarise_ticket(small_chat, ticket), summarise_ticket(small_llama3, ticket)
    print(f"{ticket_name:8} prompt tokens: chat {via_chat.usage.prompt_tokens}, ChatML {chatml.usage.prompt_tokens}, "
          f"Llama-3 {via_llama3.usage.prompt_tokens} | ChatML answer = chat answer: {chatml.text == via_chat.text}")
    print(f"         Llama-3 template [{via_llama3.source}] → {via_llama3.text.strip()!r}")

# %% [markdown]
# With ChatML, the raw-completion adapter and the server's chat endpoint produced the same prompt (the
# same token count) and the same answer for every ticket: the adapter renders exactly what the model
# expects. With the Llama-3 template, SmolLM2 reads the special tokens as plain text (about twice the
# prompt tokens) and answers a question nobody asked. Nothing failed: no error, no HTTP status. Only
# the answers got worse, which is why a template belongs in a tested adapter, not in 50 services.
#
# SmolLM2's ChatML answers are not good summaries either: a 135M-parameter model rambles, and two of
# the three ran into the 60-token cap (`finish_reason="length"`). The adapter makes models swappable;
# it does not make them equal.
#
# What a migration buys (latency, price per request, accuracy) is a measurement, not a promise: run the
# same business calls before and after. Latency and usage are on every `ChatResult`, and lesson 08 turns
# usage into cost.
#
# ### Assistant prefill: start the answer yourself
#
# Anthropic's Messages API continues a conversation that ends with an **assistant** turn: what you put
# there is the start of the answer. Prefill `{` and the reply is JSON from its first character, with no
# "Sure! Here is…" to strip. The Anthropic adapter passes the trailing assistant turn through unchanged.
# The answers below come from the scripted stand-in server (**scripted**, no Claude model was called):
# first without a prefill, then with one.

# %%
from course_lib.lessons.l02_api_request.prefill import PREFILL, join_prefill, scripted_ticket_reply, ticket_json_messages

json_server = ScriptedAnthropicServer(scripted_ticket_reply)
claude_json = json_server.provider()
plain = claude_json.complete(ticket_json_messages(TICKETS["webhooks"], prefill=None), max_tokens=80)
prefilled = claude_json.complete(ticket_json_messages(TICKETS["webhooks"]), max_tokens=80)
print(f"no prefill  [{plain.source}] {plain.text!r}")
print(f"prefill {PREFILL!r} [{prefilled.source}] {prefilled.text!r}")
print("last turn sent:", json_server.requests[-1]["messages"][-1])

# %% [markdown]
# A common mistake: the reply holds only what comes *after* the prefill, so parsing it alone fails. Put
# the prefill back first:

# %%
for name, text in (("reply alone", prefilled.text), ("prefill + reply", join_prefill(PREFILL, prefilled.text))):
    try:
        print(f"{name:16} -> {json.loads(text)}")
    except json.JSONDecodeError as err:
        print(f"{name:16} -> JSONDecodeError: {err.msg}")

# %% [markdown]
# Prefill steers the *start* of an answer; it does not validate the rest (lesson 07 does). Not every
# API continues a trailing assistant turn the same way: OpenAI-style chat endpoints offer
# `response_format` for JSON instead, so keep prefill inside the adapter that supports it.
#
# ### Blue-green: moving traffic to the new deployment
#
# The adapter makes the switch a configuration change; a *cutover* decides how traffic moves. In a
# blue-green cutover, *blue* is the model in production and *green* the new self-hosted deployment,
# both running. A router sends a growing share of requests to green (10 %, then 50 %, then all), and each
# green request goes through the course's `FailoverProvider`, so when green errors, blue answers and the
# user never sees it. Between stages a gate checks green's error rate and rolls back if it is too high.
#
# This is a **simulation**: both models are scripted providers, and green's failures are injected by
# `FaultyProvider` on a seeded schedule. Suppose a healthy green, and a green that fails 20 % of its
# requests (a bad build, say), with a gate at 5 %:

# %%
from course_lib.lessons.l02_api_request.cutover import BlueGreenRouter, run_cutover
from course_lib.providers.faulty import FaultSchedule, FaultyProvider
from course_lib.providers.scripted import ScriptedProvider

ASK = [user_message(TICKETS["login"])]
blue = ScriptedProvider(lambda messages, params: "blue's summary", model="Llama-3.1-70B-Instruct")
healthy = ScriptedProvider(lambda messages, params: "green's summary", model="Llama-3.3-70B-Instruct")
faulty = FaultyProvider(healthy, FaultSchedule(rates={"server_error": 0.2}, seed=7))
for name, green in (("healthy green", healthy), ("green failing 20 %", faulty)):
    router = BlueGreenRouter(blue, green)
    print(f"── {name}")
    for stage in run_cutover(router, ASK, plan=(0.1, 0.5, 1.0), requests_per_stage=20, max_error_rate=0.05):
        print(f"  green share {stage.green_share:4.0%}: {stage.to_green:2} of {stage.requests} to green, "
              f"{stage.green_answered:2} answered by green, {stage.fell_back} fell back to blue "
              f"({stage.green_error_rate:.0%}) -> {stage.decision}")
    who, result = router.complete(ASK)
    print(f"  next request: answered by {who} [{result.source}] {result.text!r}")

# %% [markdown]
# The healthy green takes all the traffic in three stages. The failing one is caught at the first stage,
# while it served a tenth of the traffic, and every one of its failed requests was still answered by blue.
# Two things the simulation leaves out and a real cutover needs: a quality gate (compare green's answers
# with blue's on the same requests, as lesson 11 does) beside the error gate, and enough requests per
# stage for the error rate to mean something (two requests at 10 % is a thin sample).

# %%
from course_lib.lessons._evidence import evidence_box
from course_lib.lessons.l02_api_request.evidence import CLAIMS

evidence_box(CLAIMS)

# %% [markdown]
# ## Summary
#
# - A chat request is a list of role-tagged messages. The model is stateless: the client keeps the
#   transcript and re-sends it, so prompt tokens per turn grow with the conversation and the total with
#   its square.
# - Trim with care: keep the system prompt, start at a user message, and bound the loop; when the
#   must-keep part does not fit, fail loudly (`BudgetTooSmallError`) instead of spinning.
# - Under every chat API is a chat template. Get it byte-exact or the model sees a format it never
#   learned, and nothing tells you except worse answers.
# - Business code should speak messages to one interface and receive its provider; adapters own the
#   vendor differences (system field, special tokens, stop reasons, usage, prefill).
# - Move traffic to a new deployment in stages, with failover to the old one and a gate that rolls back.
#
# **Exercise:** `exercises/02_api_request.ipynb`: a byte-exact Llama-3 renderer, a sliding window
# that keeps the system prompt, a token-budget trimmer that terminates, and a stateful chat turn. Grade
# it with `course grade exercises/02_api_request.ipynb`.
#
# Next: **03 · Prompt engineering fundamentals** (`notebooks/03_prompt_fundamentals.ipynb`).
