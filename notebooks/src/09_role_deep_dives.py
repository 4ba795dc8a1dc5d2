# %% [markdown]
# # 09 · Role deep dives: the same system seen by five jobs
#
# **Objectives**
# - **Backend:** fan calls out in parallel and compute the speedup; bound concurrency; put a timeout on a
#   call; retry 429s and 5xx errors with backoff that honours `retry-after`, and never retry a 400.
# - **DevOps:** estimate the GPU memory a model needs by precision, KV cache included, and what the GPUs
#   to serve it cost.
# - **SRE:** read the four golden signals off a seeded workload with faults, set an SLO and spend its
#   error budget.
# - **Platform:** run an AI gateway (shared cache, per-team quotas, tiers, vendor failover, metrics) and
#   watch its cache warm up.
# - **Leadership:** compute ROI and build vs buy from stated assumptions; version prompts like code.
#
# Every section is short and stands alone. The model
# answers replayed here are **scripted** by the course (`source == "scripted"`), and every latency is
# **simulated**: the replay waits a modelled time, and the lesson prints numbers from the latency model,
# never from the wall clock (cells that show wall-clock timings say so and are not compared by the tests).

# %% [markdown]
# ## A · Backend and cloud engineer
#
# The replay provider below waits like a real API: 0.5 s before the first token, then 0.03 s per token
# (`LatencyModel`). It runs twenty times faster in real time to keep the notebook quick; every
# number printed is in simulated seconds, computed from the model and the answer's token count.

# %%
from course_lib import get_provider
from course_lib.providers.replay.transport import LatencyModel

LATENCY = LatencyModel(ttft_s=0.5, per_token_s=0.03, scale=0.05)
llm = get_provider(recordings="09_role_deep_dives", model="gpt-4o-mini", latency=LATENCY)


def simulated_s(result) -> float:
    """How long this answer takes under the latency model (simulated seconds)."""
    return LATENCY.ttft_s + LATENCY.per_token_s * result.usage.completion_tokens


# %% [markdown]
# ### Streaming: time to first token
#
# A streamed answer shows its first token after the TTFT; a blocking call shows nothing until the last.
# A common way to hand-roll a streaming endpoint frames each token as a server-sent event,
# `data: {token}\n\n`. A blank line ends an event, so a token that itself holds a blank line (a paragraph
# break) ends the event early and the client loses it. The breaking input is any answer with a
# paragraph break; encoding each token as JSON keeps it intact:

# %%
import json

tokens = ["Refund status", ":\n\n", "delayed by one day."]
raw_frames = "".join(f"data: {t}\n\n" for t in tokens)
json_frames = "".join(f"data: {json.dumps(t)}\n\n" for t in tokens)


def read_events(stream: str) -> list[str]:
    """A minimal SSE reader: events end at a blank line; keep each event's data."""
    return [event.removeprefix("data: ") for event in stream.split("\n\n") if event.startswith("data: ")]


print("raw framing: ", repr("".join(read_events(raw_frames))))
print("JSON framing:", repr("".join(json.loads(e) for e in read_events(json_frames))))

# %% [markdown]
# Two more mistakes are common in such handlers: calling the *synchronous* client inside an `async`
# generator, which blocks the server's event loop for every other user while tokens arrive, and reading
# the message from a query parameter of a POST request. Use the async client (`provider.astream`) and a
# JSON body.
#
# ### Parallel fan-out
#
# Three analyses of one customer message (sentiment, summary, entities) do not depend on each other, so
# they can run at the same time. The customer message and the three tasks:

# %%
DOC = (
    "I was charged twice for order A-20417 on 3 March and the second charge is still on my card. "
    "Your chat bot told me to wait five days; it has been nine. I need the money back before my rent "
    "is due on Friday, or I am closing my account."
)
TASKS = {
    "sentiment": "Classify the sentiment of the customer's message as positive, neutral or negative. "
    "Reply with one word.",
    "summary": "Summarise the customer's message in one sentence for the support queue.",
    "entities": "List the order numbers, dates and amounts in the customer's message as a JSON object.",
}


def task_messages(name: str) -> list[dict]:
    return [{"role": "system", "content": TASKS[name]}, {"role": "user", "content": DOC}]


# %% [markdown]
# First one after another, then all three with `asyncio.gather`, timed on the wall clock:

# %%
import asyncio
import time

start = time.perf_counter()
sequential = {name: await llm.acomplete(task_messages(name), temperature=0) for name in TASKS}
middle = time.perf_counter()
answers = await asyncio.gather(*(llm.acomplete(task_messages(name), temperature=0) for name in TASKS))
parallel = dict(zip(TASKS, answers))
end = time.perf_counter()
wall = {"sequential": middle - start, "parallel": end - middle}
print(f"same answers both ways: {all(sequential[n].text == parallel[n].text for n in TASKS)}")

# %% [markdown]
# What the latency model predicts: one after another costs the **sum** of the latencies, in parallel the
# **longest** one.

# %%
latencies = {name: simulated_s(result) for name, result in parallel.items()}
for name, result in parallel.items():
    print(f"{name:9} {result.usage.completion_tokens:3} tokens  {latencies[name]:.2f} s  [{result.source}] {result.text[:55]}")
total, longest = sum(latencies.values()), max(latencies.values())
predicted = {"sequential": total, "parallel": longest}
print(f"sequential {total:.2f} s, parallel {longest:.2f} s: {total / longest:.2f}x faster")

# %% [markdown]
# Equal latencies would make three parallel calls three times faster. Latency grows with the answer's
# length, so a one-word sentiment and a JSON object do not take equally long: the parallel time is the
# slowest call's, and the speedup is smaller.
#
# The measured times, beside the prediction. Replay sleeps exactly the modelled time, scaled by
# `LATENCY.scale`, so the difference is the client's own work on each call (building the request, the
# replay lookup, parsing the JSON, scheduling the coroutine), which the model leaves out. Scaled back to
# simulated seconds, every real millisecond counts twenty times over; the difference varies from run to
# run and with the machine's load:

# %% tags=["nbval-ignore-output"]
for how in ("sequential", "parallel"):
    measured = wall[how] / LATENCY.scale
    overhead_ms = (wall[how] - predicted[how] * LATENCY.scale) * 1000
    print(f"{how:10} predicted {predicted[how]:.2f} s, measured {measured:.2f} s: "
          f"{overhead_ms:.1f} ms of real time on top, {overhead_ms / len(TASKS):.1f} ms a call")

# %%
import matplotlib.pyplot as plt

from course_lib.lessons.l09_role_deep_dives.plots import fanout_timeline

fanout_timeline(latencies)
plt.show()

# %% [markdown]
# ### N samples cost about one latency, within a concurrency bound
#
# Self-consistency (lesson 05) asks the same question N times. `sample_answers` fans the N calls out with
# at most `concurrency` in flight, the bound a rate limit or a connection pool imposes. Each sample gets
# its own recorded answer (`sample_scope`), whatever order the calls finish in.

# %%
from course_lib.voting import sample_answers

OWNER = "Which team should own this ticket: payments, platform or support? End with 'Answer: <team>'.\n\n" + DOC
owner_request = [{"role": "user", "content": OWNER}]
TEAMS = ["payments", "platform", "support"]
samples = await sample_answers(llm, owner_request, 5, concurrency=5, temperature=0.7, labels=TEAMS)
sample_s = [LATENCY.ttft_s + LATENCY.per_token_s * s.usage.completion_tokens for s in samples]
print("answers:", [s.answer for s in samples])
print("simulated latency of each sample:", [f"{x:.2f}" for x in sample_s])


def makespan(latencies: list[float], concurrency: int) -> float:
    """When the last call ends if each starts as soon as one of `concurrency` slots is free."""
    slots = [0.0] * concurrency
    for s in latencies:
        slots[slots.index(min(slots))] += s
    return max(slots)


mean = sum(sample_s) / len(sample_s)
for c in (1, 2, 5):
    print(f"concurrency {c}: {makespan(sample_s, c):.2f} s = {makespan(sample_s, c) / mean:.2f}x one sample's mean latency")

# %% [markdown]
# Five samples in parallel cost about one sample's latency (a little more: the slowest of five); with
# two slots, three waves. The same run at concurrency 2, on the wall clock, beside the makespan the model
# predicts (the difference is again the client's own work per call):

# %% tags=["nbval-ignore-output"]
start = time.perf_counter()
again = await sample_answers(llm, owner_request, 5, concurrency=2, temperature=0.7, labels=TEAMS)
measured = (time.perf_counter() - start) / LATENCY.scale
print(f"concurrency 2: predicted {makespan(sample_s, 2):.2f} s, measured {measured:.2f} s; same answers: "
      f"{[s.answer for s in again] == [s.answer for s in samples]}")

# %% [markdown]
# ### Timeouts
#
# A chat UI cannot wait for ever. `asyncio.wait_for` cancels a call that runs past its budget; here a
# post-incident report is requested with a 5-second budget for the whole answer:

# %%
REPORT = "Write the full post-incident report for this ticket: timeline, impact, cause, actions.\n\n" + DOC
BUDGET_S = 5.0
try:
    report = await asyncio.wait_for(
        llm.acomplete([{"role": "user", "content": REPORT}], temperature=0), timeout=BUDGET_S * LATENCY.scale
    )
    print(f"answered within {BUDGET_S:g} s")
except asyncio.TimeoutError:
    print(f"no answer within {BUDGET_S:g} s: cancelled; show a fallback and offer to continue in the background")
print(f"the longest answer that fits the budget: {(BUDGET_S - LATENCY.ttft_s) / LATENCY.per_token_s:.0f} tokens")

# %% [markdown]
# A budget on the *whole* answer punishes long answers, not slow servers. For chat, bound the time to the
# first token (streaming) and the gap between tokens instead, and keep a total budget for batch work.
# Retrying a call that timed out because its answer is long only times out again.
#
# ### Retries with backoff that honour `retry-after`
#
# `FaultyProvider` injects a 429 (with `retry-after: 2`) and then a 500 before the real call goes through.
# `RetryingProvider` waits between attempts: exponential backoff with full jitter, but never less than
# the server asked for. The waits are collected instead of slept.

# %%
from course_lib.providers.base import BadRequestError
from course_lib.providers.faulty import FaultyProvider
from course_lib.retry import RetryingProvider, RetryPolicy

STATUS = [{"role": "user", "content": "Write one line for the public status page about delayed refunds."}]
waits: list[float] = []
flaky = FaultyProvider(llm, ["rate_limit", "server_error"], retry_after=2.0)
retrying = RetryingProvider(flaky, RetryPolicy(max_attempts=4, base_delay=0.5, seed=9), sleep=waits.append)
status = retrying.complete(STATUS, temperature=0)
for attempt in retrying.log[-1]:
    print(f"attempt {attempt.number}: {attempt.error_type or 'answered'}, then wait {attempt.delay_s:.2f} s")
print(f"[{status.source}] {status.text}")
print("backoff caps after attempts 1, 2, 3:", [retrying.policy.backoff_cap(k) for k in (1, 2, 3)], "s")

# %% [markdown]
# The first wait is the server's 2 s, even though backoff alone would have waited at most 0.5 s; the
# second is a jittered draw below 1 s. A 400 is the caller's mistake, so it is raised at once:

# %%
strict = RetryingProvider(FaultyProvider(llm, ["bad_request"]), RetryPolicy(seed=9), sleep=waits.append)
try:
    strict.complete(STATUS, temperature=0)
except BadRequestError as error:
    print(f"{type(error).__name__} after {len(strict.log[-1])} attempt(s): {error}")

# %% [markdown]
# ### The retry-after rule
#
# The server's `retry-after` wins over the backoff, even above the policy's own `max_delay`: waiting less
# than it asked only earns another 429. But one wait has two limits, and past either the call fails at
# once with `RetryAfterTooLongError` instead of sleeping:
#
# - `max_retry_after`: the absolute ceiling on a single wait (60 s unless you configure it);
# - `deadline`: how long the whole call may take from its start (no deadline unless you set one).
#
# `RetryPolicy.plan_wait` applies the rule, and the retry loop calls it after every failed attempt. Four
# requests for a pause, against a policy whose backoff never exceeds `max_delay=4` s and a call with a
# 90-second deadline:

# %%
from course_lib.providers.base import RetryAfterTooLongError

rule = RetryPolicy(base_delay=0.5, max_delay=4.0, jitter=False, max_retry_after=60.0, deadline=90.0)
for asked, elapsed in ((None, 0.0), (30.0, 0.0), (3600.0, 0.0), (45.0, 50.0)):
    situation = f"retry-after {'none' if asked is None else f'{asked:g} s'}, {elapsed:g} s into the call"
    try:
        print(f"{situation:40} wait {rule.plan_wait(1, asked, elapsed=elapsed):g} s")
    except RetryAfterTooLongError as error:
        print(f"{situation:40} fails at once: {error}")

# %% [markdown]
# The backoff alone waits 0.5 s; a server asking for 30 s gets its 30 s although that is above `max_delay`;
# an hour is above the ceiling; and 45 s more, 50 s into a 90-second call, would end past the deadline.
# The same rule through `RetryingProvider`: a vendor that answers 429 with `retry-after: 3600`. Nothing is
# slept, and the error says how many attempts were made:

# %%
waits.clear()
impatient = RetryingProvider(FaultyProvider(llm, ["rate_limit"], retry_after=3600.0), RetryPolicy(seed=9),
                             sleep=waits.append)  # fmt: skip
try:
    impatient.complete(STATUS, temperature=0)
except RetryAfterTooLongError as error:
    print(f"{type(error).__name__} after {error.attempts_made} attempt(s); slept {sum(waits):g} s; "
          f"the server asked for {error.retry_after:g} s")

# %% [markdown]
# Failing fast is the point: a request thread asleep for an hour holds a connection, a user and a slot of
# the concurrency bound. Raise `max_retry_after` for batch work that can wait; give interactive calls a
# `deadline`.
#
# ### The conversation buffer must terminate
#
# A common way to keep a conversation under a token budget drops the oldest message while the history is
# over budget, but never the system prompt. The naive loop, with a safety counter so this cell ends:

# %%
from course_lib.conversation import BudgetTooSmallError, trim_to_budget
from course_lib.tokens import count_message_tokens


def naive_buffer(history: list[dict], budget: int, safety: int = 1000) -> tuple[list[dict], int]:
    """Drop the oldest non-system message while over budget (the loop alone has no way out)."""
    history, rounds = list(history), 0
    while count_message_tokens(history, "gpt-4o") > budget and rounds < safety:
        rest = [m for m in history if m["role"] != "system"]
        if rest:
            history.remove(rest[0])
        rounds += 1
    return history, rounds


chat = [{"role": "system", "content": "Answer refund questions."}] + [
    {"role": "user", "content": f"Question {i} about my refund, with some detail."} for i in range(30)
]
kept, rounds = naive_buffer(chat, 200)
print(f"an ordinary history: {len(kept)} messages kept after {rounds} rounds")
history = [{"role": "system", "content": "Refund policy, in full. " * 200}, {"role": "user", "content": "Hi"}]
kept, rounds = naive_buffer(history, 500)
print(f"a system prompt over budget: still {count_message_tokens(kept, 'gpt-4o'):,} tokens after {rounds:,} "
      f"rounds; without the counter the loop never ends")

# %% [markdown]
# The breaking input is a system prompt that alone exceeds the budget: there is nothing left to drop, and
# the loop spins. `trim_to_budget` (lesson 02) counts real tokens, keeps the system prompt and the latest
# turn, and says what to do instead:

# %%
try:
    trim_to_budget(history, 500)
except BudgetTooSmallError as error:
    print(error)

# %% [markdown]
# ## B · DevOps: GPU memory by precision
#
# A model's weights take *parameters × bytes per weight*; serving it also needs the **KV cache**, the keys
# and values every layer keeps for each token in flight, plus overhead for activations and the runtime.
# `course_lib.lessons.l09_role_deep_dives.vram` documents the formula. First the weights alone of a
# 70-billion-parameter model at each precision, and how many cards they fill:

# %%
from course_lib.lessons.l09_role_deep_dives.vram import GPUS, MODELS, estimate_vram, gpus_needed, kv_bytes_per_token, vram_table, weights_gb

a100, a10g = GPUS["A100-80GB"], GPUS["A10G"]
print(f"an '80 GB' A100 holds {a100.memory_gb:.1f} GB; an A10G {a10g.memory_gb:.1f} GB (sizes are binary, GiB)")
for precision in ("fp32", "fp16", "int8", "int4"):
    w = weights_gb(70, precision)
    fit = {name: gpus_needed(w, name, usable_fraction=1.0, power_of_two=False) for name in ("A100-80GB", "A10G")}
    print(f"{precision}: {w:5.0f} GB   weights alone fill {fit['A100-80GB']} A100 or {fit['A10G']} A10G")

# %% [markdown]
# A common shortcut sizes the GPUs from these figures, and stops there: even 4-bit weights of a 70B model
# do not fit one 24 GB card. Serving needs more than the weights. Real models at their full
# context (one sequence), with 10 % overhead, on GPUs that give a server 90 % of their memory (vLLM's
# default), split over 1, 2, 4 or 8 GPUs (tensor parallelism):

# %%
rows = vram_table(["llama-2-7b", "llama-2-13b", "llama-3-70b"], overhead_fraction=0.10, usable_fraction=0.9)
print(f"{'model':12} {'prec':5} {'weights':>8} {'KV':>6} {'total':>7}  A100s")
for r in rows:
    print(f"{r['model']:12} {r['precision']:5} {r['weights_gb']:7.1f}G {r['kv_cache_gb']:5.1f}G {r['total_gb']:6.1f}G  {r['gpus']}")

# %% [markdown]
# Add the KV cache of one full-context sequence and the overhead, give the server 90 % of each card, and
# round up to a tensor-parallel size (a server rarely splits a model over three GPUs): the count of cards
# in service can be twice what the weights alone suggest. That count is the bill. Suppose an A100 rents at
# $3 an hour:

# %%
PER_GPU_HOUR = 3.0  # an assumption: rent of one A100 for an hour, USD
llama70 = {r["precision"]: r for r in rows if r["model"] == "Llama-3-70B"}
for precision in ("fp16", "int8", "int4"):
    r = llama70[precision]
    naive = gpus_needed(r["weights_gb"], "A100-80GB", usable_fraction=1.0, power_of_two=False)
    print(f"{precision}: weights alone {naive} A100(s), in service {r['gpus']}: ${r['gpus'] * PER_GPU_HOUR:.0f}/hour, "
          f"${r['gpus'] * PER_GPU_HOUR * 24 * 30:,.0f}/month")
fp16_cost, int4_cost = llama70["fp16"]["gpus"] * PER_GPU_HOUR, llama70["int4"]["gpus"] * PER_GPU_HOUR
print(f"int4 instead of fp16: {1 - int4_cost / fp16_cost:.0%} less")

# %% [markdown]
# What a lower precision costs in quality is not something arithmetic can tell: it depends on the model,
# the quantisation method and the task. Measure it on your own evaluation set before you bank the saving.
#
# **The KV cache is the part that grows with traffic.** Per token it is 2 × layers × KV heads × head size
# × 2 bytes. Llama-2-7B gives every query head its own keys and values; the Llama-3 models share a few
# key/value heads among all their query heads (grouped-query attention):

# %%
for key in ("llama-2-7b", "llama-3-8b", "llama-3-70b"):
    m = MODELS[key]
    print(f"{m.name:12} {m.layers} layers x {m.kv_heads:2} KV heads: {kv_bytes_per_token(m.layers, m.kv_heads, m.head_dim) / 1e6:.2f} MB per token")
for batch in (1, 8, 32):
    est = estimate_vram("llama-3-70b", "int4", batch=batch)
    print(f"Llama-3-70B int4, 8,192-token context x {batch:2}: KV {est.kv_cache_gb:5.1f} GB of "
          f"{est.total_gb:5.1f} GB → {est.gpus('A100-80GB')} A100(s)")

# %% [markdown]
# At a batch of 32 long conversations the cache outweighs the INT4 weights: quantising the weights buys
# room for more concurrent users, and the cache then decides how many fit.

# %%
from course_lib.lessons.l09_role_deep_dives.plots import vram_bars

usable = {"A10G (90%)": a10g.memory_gb * 0.9, "1x A100 (90%)": a100.memory_gb * 0.9,
          "4x A100 (90%)": 4 * a100.memory_gb * 0.9}
vram_bars(rows, capacities=usable)
plt.show()

# %% [markdown]
# ### Try it: model size × precision
#
# Pick a model, a precision, the context, the batch and a GPU; the widget calls `vram_report`. The cell
# after it calls the same function for a vLLM deployment of Llama-3-8B in 4 bits on one A10G, and the same
# model in 16 bits serving sixteen conversations at once.

# %% tags=["nbval-ignore-output"]
from course_lib.lessons.l09_role_deep_dives.widgets import vram_controls, vram_report

vram_controls()

# %%
print(vram_report("llama-3-8b", "int4", 8192, 1, "A10G"))
print(vram_report("llama-3-8b", "fp16", 8192, 16, "A10G"))

# %% [markdown]
# A detail of such a deployment: vLLM's `--quantization awq` loads a checkpoint that was already
# quantised with AWQ (the server reads its quantisation config), so the manifest must point at such a
# checkpoint, not at the full-precision `meta-llama/Meta-Llama-3-8B-Instruct`.
#
# ## C · SRE: golden signals, SLOs, incidents
#
# A workload of 600 requests at one every two seconds, on a manual clock: a stand-in vendor with
# log-normal latency (seeded), a client timeout at 5 s, and `FaultyProvider` injecting 4 % rate limits
# and 2 % server errors from a seeded schedule. `MeteredProvider` records every call; the second run adds
# retries (their waits advance the clock too). Prices come from the dated price table.

# %%
from course_lib.cost import request_cost
from course_lib.gateway import run_traffic, simulated_vendor, synthetic_traffic
from course_lib.guards import ManualClock
from course_lib.metrics import MeteredProvider, MetricsRecorder
from course_lib.providers.faulty import FaultSchedule

QUESTIONS = [f"How do I {action} in {product}?" for action in
             ("reset my password", "export a report", "add a user", "change my plan", "cancel an order",
              "download an invoice", "enable two-factor login", "change the currency")
             for product in ("Ledger", "Payroll", "Shop", "Insights", "Support Desk")]  # fmt: skip


def run_workload(retries: bool) -> MetricsRecorder:
    clock = ManualClock()
    vendor = simulated_vendor(clock, median_s=0.8, spread=0.75, timeout_s=5.0, seed=11)
    upstream = FaultyProvider(vendor, FaultSchedule(rates={"rate_limit": 0.04, "server_error": 0.02}, seed=12))
    if retries:
        upstream = RetryingProvider(upstream, RetryPolicy(max_attempts=3, base_delay=0.5, seed=13), sleep=clock.advance)
    recorder = MetricsRecorder(cost=lambda usage, model: request_cost(usage, model).total, clock=clock)
    service = MeteredProvider(upstream, recorder, label="with retries" if retries else "no retries", clock=clock)
    run_traffic(service, synthetic_traffic(600, QUESTIONS, rate_per_s=0.5, seed=14), clock, max_tokens=200)
    return recorder


runs = {label: run_workload(retries) for label, retries in (("no retries", False), ("with retries", True))}

# %% [markdown]
# The four golden signals, straight from `MetricsRecorder.summary()`: **latency** (percentiles, not the
# mean), **traffic**, **errors** by type, and **saturation**, which for a vendor API shows first as the
# share of calls refused with a 429.

# %%
for label, recorder in runs.items():
    s = recorder.summary()
    print(f"{label}: latency p50 {s['latency_p50']:.2f} s, p95 {s['latency_p95']:.2f} s, p99 {s['latency_p99']:.2f} s | "
          f"traffic {s['requests_per_s']:.2f} req/s | errors {s['error_rate']:.1%} {s['errors_by_type']} | "
          f"429 share {s['rate_limited_share']:.1%}")

# %% [markdown]
# Retries turn errors into latency: the error rate drops and the latency percentiles rise, because every
# retried call carries its backoff. Both show in the histogram (log scale), beside a 2-second objective:

# %%
from course_lib.lessons.l09_role_deep_dives.plots import latency_histogram

latency_histogram({label: r.latencies() for label, r in runs.items()}, slo_s=2.0)
plt.show()

# %% [markdown]
# ### An SLO and its error budget
#
# Say the objective is 99 % of requests answered, and 95 % of them within 2 s (the latency criterion of
# the support prompt in section E). The error budget is the 1 % of requests allowed to fail; the burn rate
# is how fast it is being spent (1.0 = exactly on budget).

# %%
AVAILABILITY, LATENCY_SLO_S = 0.99, 2.0
for label, recorder in runs.items():
    s = recorder.summary()
    budget = (1 - AVAILABILITY) * s["requests"]
    fast = sum(x <= LATENCY_SLO_S for x in recorder.latencies(ok_only=True)) / s["ok"]
    print(f"{label}: {s['errors']} failures against a budget of {budget:.0f} (burn rate {s['error_rate'] / (1 - AVAILABILITY):.1f}); "
          f"{fast:.1%} of answers within {LATENCY_SLO_S:g} s")

# %% [markdown]
# Without retries the error budget burns several times too fast, an incident by any definition. Retries
# bring the failures under budget, but neither run meets the latency objective: well under 95 % of answers
# arrive within 2 s. Retries cannot fix that; a faster model or tier, shorter answers or streaming can.
# Cost is a golden signal too; the recorder prices every call, so a monthly projection is one line:

# %%
s = runs["with retries"].summary()
print(f"${s['cost']:.4f} over {s['window_s'] / 60:.0f} simulated minutes → ${s['cost'] / s['window_s'] * 86_400 * 30:.2f} a month at this rate")

# %% [markdown]
# In Prometheus, two mistakes make a latency alert silent. A rule that queries a shortened name
# (`llm_ttft_seconds_bucket`) for a histogram registered as `llm_time_to_first_token_seconds` matches no
# series, and an empty query never fires; and `histogram_quantile` over the raw buckets gives the quantile
# of every request since the process started. Write
# `histogram_quantile(0.95, sum by (le) (rate(llm_time_to_first_token_seconds_bucket[5m]))) > 2`: the
# quantile of the last five minutes, on the name the histogram really exports.
#
# ### Drift checks need enough examples
#
# Suppose a drift monitor runs a fixed evaluation set daily and pages when accuracy falls 5 points below
# a 94 % baseline. How often does a set of *n* examples raise a false alarm (the model has not changed),
# and how often does it miss a real drop to 89 %? Exact binomial probabilities:

# %%
from math import ceil, comb


def prob_below(n: int, p: float, threshold: float) -> float:
    """P(accuracy measured on n examples < threshold) when the true accuracy is p."""
    cut = ceil(threshold * n - 1e-9)  # fewer than `cut` correct answers is below the threshold
    return sum(comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(cut))


for n, threshold in ((100, 0.89), (300, 0.89), (1000, 0.89), (1000, 0.915)):
    print(f"n={n:5}, page below {threshold:.1%}: false alarm {prob_below(n, 0.94, threshold):6.2%}; "
          f"misses a real drop to 89%: {1 - prob_below(n, 0.89, threshold):6.1%}")

# %% [markdown]
# With 100 examples the check pages for nothing now and then, and at every size it misses a real 5-point
# drop about half the time: a threshold *at* the degraded accuracy is a coin flip there. A large set with
# a threshold between the two accuracies (last row) separates them.
#
# The course's own drift check runs lesson 11's name-extraction eval every night
# (`.github/workflows/drift.yml`): the live model against its recorded baseline, through the regression
# gate. Its size and baseline come from that eval's recorded run (SmolLM2-135M, 44 sentences x 5 epochs):

# %%
from course_lib.lessons.l11_evaluation.runs import replay_names

drift_eval = [ok for epochs in replay_names("2.0.0").values() for ok in epochs]
n, baseline = len(drift_eval), sum(drift_eval) / len(drift_eval)
for drop in (0.05, 0.10):
    threshold = baseline - drop / 2
    print(f"n={n}, baseline {baseline:.1%}, page below {threshold:.1%}: false alarm "
          f"{prob_below(n, baseline, threshold):6.2%}; misses a real drop of {drop:.0%}: "
          f"{1 - prob_below(n, baseline - drop, threshold):6.1%}")

# %% [markdown]
# At this size the nightly check catches a 10-point drop almost always and a 5-point drop only about four
# times in five, with a false alarm about one night in five: to watch for small drifts, grow the set.
#
# ## D · Platform engineering: an AI gateway
#
# The gateway in `course_lib.gateway` is built only from parts of earlier lessons, in this order:
# metrics per team → a shared cache (a hit costs nothing) → per-team token quotas → metrics per tier →
# vendor failover. Teams ask for a tier (`fast`, `smart`), never a vendor. Two simulated vendors serve the
# fast tier (the first one flaky), one the smart tier. Suppose these daily token quotas, with a
# 10,000-token default for teams not on the list.

# %%
from course_lib.cache import PromptCache
from course_lib.gateway import Gateway
from course_lib.guards import TenantQuotas

clock = ManualClock()
steps = "Open Settings, choose the option, confirm, and check the result on the overview page. " * 8


def answer(messages):
    return f"To {messages[-1]['content'][9:-1]}: {steps}"


flaky_a = FaultyProvider(simulated_vendor(clock, median_s=0.8, seed=21, reply=answer),
                         FaultSchedule(rates={"rate_limit": 0.05, "server_error": 0.02}, seed=22))  # fmt: skip
tiers = {
    "fast": {"vendor-a": flaky_a, "vendor-b": simulated_vendor(clock, median_s=1.1, seed=23, reply=answer)},
    "smart": {"vendor-c": simulated_vendor(clock, model="gpt-4o", median_s=2.0, seed=24, reply=answer)},
}
quotas = TenantQuotas({"team-eng": 1_000_000, "team-marketing": 100_000, "team-support": 500_000},
                      default_limit=10_000, clock=clock)  # fmt: skip
gateway = Gateway(tiers, quotas=quotas, cache=PromptCache(ttl_s=3600, clock=clock), clock=clock)

# %% [markdown]
# About two hours of traffic: 900 requests from three teams asking the same 40 product questions (popular ones
# far more often), plus an unlisted team whose batch job sends 80 questions no one else asks.

# %%
from course_lib.gateway import TrafficRequest

teams = {"team-eng": 0.5, "team-marketing": 0.3, "team-support": 0.2}
traffic = synthetic_traffic(900, QUESTIONS, tenants=teams, tiers={"fast": 0.85, "smart": 0.15}, rate_per_s=0.125, seed=25)
batch = [TrafficRequest(3000 + 10 * i, "team-intern", "fast", f"How do I archive ticket {i} in Support Desk?")
         for i in range(80)]  # fmt: skip
outcomes = run_traffic(gateway, sorted(traffic + batch, key=lambda r: r.t), clock, max_tokens=300)
stats = gateway.cache.stats
print(f"{len(QUESTIONS)} questions; {len(outcomes)} requests over {clock() / 3600:.1f} simulated hours: {stats.hits} cache hits, {stats.misses} misses, "
      f"{stats.expirations} expired entries, {stats.tokens_saved:,} tokens saved")

# %%
from course_lib.lessons.l09_role_deep_dives.plots import hit_rate_plot

hit_rate_plot(gateway.hit_rate_series(), gateway.hit_rate_series(window=100), window=100)
plt.show()

# %% [markdown]
# The first requests all miss; as popular questions repeat, the hit rate climbs. The dip is the batch job:
# questions nobody repeats. What each team used and spent, and what its quota left:

# %%
for row in gateway.tenant_report():
    print(f"{row['tenant']:15} {row['requests']:4} requests  spend ${row['spend']:.4f}  "
          f"tokens {row['tokens_used']:6,} of {row['quota']:9,}  refused: {row['errors'] or 'none'}")

# %% [markdown]
# The unlisted team hit its 10,000-token default partway through its batch: the quota refused the rest
# *before* any vendor was called (each call holds its prompt plus `max_tokens` until it settles). The
# other teams were not affected. Behind the cache, the vendors:

# %%
for tier, vendors in gateway.vendor_report().items():
    for name, v in vendors.items():
        print(f"{tier:5} {name:9} answered {v['answered']:3}, calls {v['calls']:3}, errors {v['errors']}")
edge, up = gateway.metrics.summary(), gateway.upstream.summary()
print(f"at the gateway: {edge['requests']} requests, p50 {edge['latency_p50']:.2f} s; "
      f"upstream: {up['requests']} calls, p50 {up['latency_p50']:.2f} s, errors {up['errors']}")

# %% [markdown]
# Every 429 and 500 from vendor A was absorbed by vendor B, so no team saw a vendor error; the gateway's
# median latency is zero because most answers came from the cache.
#
# ### A cache key that collides
#
# A shared cache is only as safe as its key. A common first version hashes the system prompt and the
# user message joined by a separator:

# %%
import hashlib

from course_lib.cache import cache_key


def naive_key(system: str, user: str) -> str:
    """The common mistake: two strings joined by a separator, nothing else."""
    return hashlib.sha256(f"{system}|{user}".encode()).hexdigest()


# %% [markdown]
# Two inputs break it. A separator that appears in the text makes two different prompts one string; and
# since the key has no place for the model or the sampling parameters, a cheap model's cached answer is
# served to a request for the strong one. `cache_key` keeps them apart:

# %%
print("naive: ('a|b', 'c') and ('a', 'b|c') share a key:", naive_key("a|b", "c") == naive_key("a", "b|c"))
split_a = [{"role": "system", "content": "a|b"}, {"role": "user", "content": "c"}]
split_b = [{"role": "system", "content": "a"}, {"role": "user", "content": "b|c"}]
question = [{"role": "user", "content": "Summarise the ticket."}]
print("cache_key: the two split prompts share a key:", cache_key("gpt-4o", split_a) == cache_key("gpt-4o", split_b))
print("cache_key: gpt-4o-mini and gpt-4o share a key:", cache_key("gpt-4o-mini", question) == cache_key("gpt-4o", question))
print("cache_key: temperature 0 and 1 share a key:",
      cache_key("gpt-4o", question, {"temperature": 0}) == cache_key("gpt-4o", question, {"temperature": 1}))

# %% [markdown]
# The fix keys the whole request: the model, the messages as structured data (serialised canonically, so
# no separator can be forged) and the parameters that change the answer. Two more mistakes are common in a
# gateway: a quota manager that checks usage but never records it (no team ever runs out; the quotas
# above hold each call's bound and settle its real usage), and a failover that swallows each error into a
# log line and raises a bare `Exception`. `FailoverProvider` raises `AllProvidersFailedError` listing what
# each vendor answered, and does not fail a 400 over (the next vendor would refuse it too).
#
# ## E · Transformation leader: ROI and build vs buy
#
# Suppose a support team handles 50,000 tickets a month, 8 minutes each, with agents at $25 an hour, and
# an AI could resolve 70 % of them at $0.05 a ticket.

# %%
from course_lib.lessons.l09_role_deep_dives.roi import Automation, BuildOption, SupportLoad, automation_roi, compare_options, crossover_month

load = SupportLoad(tickets_per_month=50_000, handle_minutes=8, agent_hourly_usd=25)
first = automation_roi(load, Automation(automated_share=0.7, ai_cost_per_ticket=0.05))
print(f"labour before ${first.labour_before:,.0f}/month ({load.labour_hours:,.0f} hours)")
print(f"after: labour ${first.labour_after:,.0f} + AI ${first.ai_monthly:,.0f} = ${first.cost_after:,.0f}/month")
print(f"saving ${first.monthly_saving:,.0f}/month, ${first.annual_saving:,.0f}/year")
print(f"saving / cost after = {first.saving_to_cost_after:.0%}; ROI on the AI spend = {first.roi:,.0%}")

# %% [markdown]
# **Check the arithmetic.** Two ratios sit side by side above, and only one is ROI. Saving divided by the
# whole bill after automation (mostly people) is not a return on anything. ROI divides the net gain by
# what was invested in the AI; with no build cost at all that figure is enormous, a sign that the
# investment is missing from the assumptions, not that the project is a bargain.
#
# So state the missing assumptions too. Suppose the API costs $15,000 a month at this volume, the build
# costs $150,000, the AI reads every ticket before handing some back, and escalated tickets take 12
# minutes (they are the hard ones):

# %%
per_ticket = 15_000 / load.tickets_per_month
honest = Automation(automated_share=0.7, ai_cost_per_ticket=per_ticket, ai_sees_every_ticket=True,
                    escalated_handle_minutes=12, one_off_usd=150_000)  # fmt: skip
r = automation_roi(load, honest)
print(f"$15,000/month is ${per_ticket:.2f} a ticket, {per_ticket / 0.05:.0f}x the first case's $0.05")
print(f"saving ${r.monthly_saving:,.0f}/month; first-year ROI {r.roi:.0%}; payback {r.payback_months:.1f} months")

# %% [markdown]
# Still a strong case, and now an honest one: every input is visible and can be argued with. Argue with
# them here: the widget recomputes the case with `roi_report`, and the cell after it calls the same
# function for the case above and for one where the AI resolves only 30 % of tickets.

# %% tags=["nbval-ignore-output"]
from course_lib.lessons.l09_role_deep_dives.widgets import roi_controls, roi_report

roi_controls()

# %%
print(roi_report(50_000, 0.7, per_ticket, 12, 150_000))
print(roi_report(50_000, 0.3, per_ticket, 12, 150_000))
#
# ### Build vs buy over time
#
# Suppose three options: API ($15,000 a month, live in 2 weeks), fine-tune ($10,000 setup + $5,000 a
# month, 8 weeks), self-host ($50,000 setup + $12,000 a month, 16 weeks). An option earns the monthly
# benefit (the agent time saved) only once it is live, so time to market is money:

# %%
options = [
    BuildOption("API", monthly_variable_usd=15_000, weeks_to_market=2),
    BuildOption("fine-tune", setup_usd=10_000, monthly_fixed_usd=5_000, weeks_to_market=8),
    BuildOption("self-host", setup_usd=50_000, monthly_fixed_usd=12_000, weeks_to_market=16),
]
benefit = r.labour_before - r.labour_after
print(f"monthly benefit (agent time saved): ${benefit:,.0f}")
for row in compare_options(options, benefit):
    print(f"{row['option']:10} cost 12m ${row['cost_12m']:9,.0f}  value 12m ${row['value_12m']:11,.0f}  "
          f"24m ${row['value_24m']:11,.0f}  36m ${row['value_36m']:11,.0f}")
for other in options[1:]:
    t = crossover_month(options[0], other, benefit)
    print(f"{other.name} passes API after {t:.1f} months" if t is not None else f"{other.name} never passes API")

# %% [markdown]
# Counted this way the API is the right choice for the first year: its earlier start (2 weeks against 8)
# earns savings that outweigh the fine-tune's lower running cost until the crossover month above. Over a
# longer horizon the fine-tune wins. And volume moves the crossover: at ten times the volume the API bill
# scales, the fine-tune's fixed cost (under these assumptions) does not:

# %%
from course_lib.lessons.l09_role_deep_dives.plots import value_curves

t10 = crossover_month(options[0], options[1], benefit * 10, volume=10)
print(f"at 10x volume the fine-tune passes the API after {t10:.1f} months")
value_curves(options, benefit, months=36)
plt.show()

# %% [markdown]
# ### Governance: prompts versioned like code
#
# A prompt library keeps each prompt in a file with a version, an owner, evaluation criteria and a change
# log. `course_lib.prompt_files` stores that record as TOML and refuses a file whose version,
# date and change log disagree. A prompt from the course's library:

# %%
from course_lib.prompt_files import load_prompt

prompt = load_prompt("customer_support_summariser")
print(f"{prompt.name} v{prompt.version}, owner {prompt.owner}, updated {prompt.last_updated}")
print("criteria:", "; ".join(str(c) for c in prompt.evaluation))
for entry in prompt.changelog:
    print(f"  {entry.version} ({entry.date}): {entry.summary}")

# %% [markdown]
# Criteria are only useful when measured. Each one names the eval that measures it, so they can be run:
# format and product-area accuracy on ten labelled tickets (the small model's recorded answers), and the
# 95th-percentile latency section C measured on the simulated vendor:

# %%
from course_lib.evals.criteria import measure_criteria

summaries = get_provider(model="SmolLM2-135M-Instruct", recordings="11_evaluation")
measured = measure_criteria(prompt, summaries, temperature=0, max_tokens=40)
measured["p95_latency_s"] = runs["with retries"].summary()["latency_p95"]  # replay's own latency is no measurement
print({metric: round(value, 2) for metric, value in measured.items()}, "→", prompt.check(measured))

# %% [markdown]
# Every criterion fails: the small model puts most tickets in the wrong area, and the latency fails as
# section C found. This version does not ship on that model and vendor. The criteria turn a release into a decision anyone can check.

# %% [markdown]
# A change is a release: a new version, a date and a change-log entry, validated. Re-using the current
# version is refused:

# %%
import datetime as dt

from pydantic import ValidationError

update = prompt.release("1.3.0", dt.date(2025, 6, 2), "Added 'security' as a product area.")
print(f"v{update.version}: {update.changelog[0].summary}")
try:
    prompt.release("1.2.0", dt.date(2025, 6, 2), "A silent change.")
except ValidationError as error:
    print("refused:", error.errors()[0]["msg"])

# %% [markdown]
# ## Evidence
#
# What backs each claim of this lesson. Nothing here is measured on a model: the answers are scripted,
# the latencies come from a latency model or simulated vendors on a manual clock, and the business figures
# follow from stated assumptions.

# %%
from course_lib.lessons._evidence import evidence_box
from course_lib.lessons.l09_role_deep_dives.evidence import CLAIMS

evidence_box(CLAIMS)

# %% [markdown]
# ## Summary
#
# - **Backend:** independent calls run in parallel and cost the slowest one, not the sum; bound the
#   concurrency; budget the first token for chat; retry 429 / 5xx / timeouts with jittered backoff that
#   waits at least `retry-after` (even above `max_delay`), fail at once when the server asks for more
#   than `max_retry_after` or the call's `deadline` allows, and never retry a 400.
# - **DevOps:** memory = weights (parameters × bits / 8) + KV cache (2 × layers × KV heads × head size ×
#   tokens × batch × bytes) + overhead; count usable memory and tensor-parallel sizes, not the box label.
# - **SRE:** watch latency percentiles, traffic, errors by type and 429 saturation; an SLO gives an error
#   budget and a burn rate; retries trade errors for tail latency; evaluation sets must be large enough.
# - **Platform:** a gateway composes a cache, per-team quotas, tiers, failover and metrics; teams name a
#   tier, never a vendor.
# - **Leadership:** state assumptions, compute savings, ROI on the investment and value over time; time to
#   market counts; version prompts with owners and measured criteria.
#
# **Exercise:** `exercises/09_role_deep_dives.ipynb`: retries with backoff that honour `retry-after`, a
# VRAM calculator, and a per-team quota manager on a fake clock. Grade it with
# `course grade exercises/09_role_deep_dives.ipynb`.
