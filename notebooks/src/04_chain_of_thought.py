# %% [markdown]
# # 04 · Chain of thought: paying tokens for reasoning you can check
#
# **Objectives**
# - Ask the same question for an immediate answer and step by step, and read both answers with code.
# - See what a small real model (SmolLM2-135M) does with "Is 9.11 greater than 9.8?", with and without
#   steps, and why the usual claim about chain of thought is a claim about *large* models.
# - Put a price on the steps: tokens and cost per answer.
# - Make reasoning auditable: a refund decision where the model shows its work as JSON and the code,
#   not the model, does the date arithmetic and applies the policy.
# - Stream the steps and compare, in simulated time, when the user first sees something with and
#   without streaming; start a cheap direct answer while the reasoning runs (speculative CoT).
# - Know what reasoning models do before they answer, and how their hidden reasoning is billed.

# %% [markdown]
# ## Two ways to ask
#
# A *direct* prompt asks for the answer at once. A *chain-of-thought* (CoT) prompt asks the model to
# write its reasoning first, as numbered steps, and to finish with one line `Answer: …` that code can
# find. The difference is only in the messages:

# %%
from course_lib.cot import COMPARISONS, cot_messages, direct_messages

question = COMPARISONS[0].question
for name, messages in (("direct", direct_messages(question)), ("chain of thought", cot_messages(question))):
    print(f"--- {name}")
    for m in messages:
        print(f"[{m['role']}] {m['content']}")

# %% [markdown]
# The whole flow this lesson builds, from the question to an answer someone can audit:
#
# ```mermaid
# flowchart LR
#     Q[question] --> R{needs reasoning?}
#     R -- no --> D[direct prompt] --> A1[answer]
#     R -- yes --> C["CoT prompt: numbered steps, then 'Answer: ...'"]
#     C --> M[model writes steps]
#     M -- streamed --> U[user sees each step]
#     M --> P[code parses steps and the Answer line]
#     P --> V[code recomputes dates, sums, policy]
#     V -- agrees --> A2[answer + audit trail]
#     V -- disagrees --> H[code's verdict or a person]
# ```
#
# Why can writing steps help? A model produces one token at a time, and each new token is computed
# from everything already in the context. Asked for an immediate answer, it commits to "Yes" or "No"
# in the first token. Asked for steps, it first writes intermediate results ("9.80", "0.11 < 0.80")
# into the context, and the final answer is computed with those in view.
#
# ## A large model's typical replies (scripted)
#
# The two answers below are **scripted**: the course wrote them to show the behaviour often reported
# for large models on this question (a wrong immediate "Yes", a right step-by-step "No"). They are not
# a measurement, and `source` says so.

# %%
from course_lib import get_provider
from course_lib.cot import parse_steps

large = get_provider(recordings="04_chain_of_thought", model="gpt-4o-mini")
direct = large.complete(direct_messages(question), temperature=0)
stepwise = large.complete(cot_messages(question), temperature=0)
print(f"direct [{direct.source}]: {direct.text}")
print(f"steps  [{stepwise.source}]:\n{stepwise.text}")

# %% [markdown]
# The steps are data, not just prose: `parse_steps` splits the reply into numbered steps you can log
# or show, and the answer is read from the `Answer:` line.

# %%
from course_lib.answers import extract_answer

for step in parse_steps(stepwise.text):
    print(f"step {step.number}: {step.text}")
print("final answer:", extract_answer(stepwise.text, kind="yesno"))

# %% [markdown]
# ### Reading the final answer, not the first number
#
# A CoT reply is full of numbers (step numbers, the question's own numbers, intermediate results) before
# it reaches a conclusion, so "the first number in the reply" is almost never the answer. Here is a reply
# to "Which is larger, 9.11 or 9.8?" (an example string, not a model's output):

# %%
import re

reply = "Step 1: Compare 9.11 and 9.8.\nStep 2: 9.8 = 9.80, and 0.80 > 0.11.\nAnswer: 9.8"
print("first number in the reply:", re.search(r"\d+(?:\.\d+)?", reply).group())
print("number on the Answer line:", extract_answer(reply, kind="number"))

# %% [markdown]
# ## What a small real model does (recorded)
#
# Now the real thing, on a model small enough to run on a laptop: **SmolLM2-135M-Instruct**. Each of
# four comparisons was asked directly and with the CoT prompt, once greedily (temperature 0) and eight
# times at temperature 0.7; every reply is replayed from the recording. The right answers are computed
# with `Decimal`, never asked of a model. First, the greedy replies:

# %%
small = get_provider(recordings="04_chain_of_thought", model="SmolLM2-135M-Instruct")
MODES = {"direct": (direct_messages, {"max_tokens": 24}), "cot": (cot_messages, {"max_tokens": 256})}

for comparison in COMPARISONS:
    print(f"{comparison.question}  (right answer: {comparison.expected})")
    for mode, (build, params) in MODES.items():
        greedy = small.complete(build(comparison.question), temperature=0, **params)
        print(f"  {mode:6} [{greedy.source}] {greedy.text[:110]!r}")

# %% [markdown]
# The replies are free text, so reading them is part of the experiment. `claimed_relation` looks for a
# leading yes/no, a bare number, or a statement such as "9.11 is greater than 9.8" or "9.11 is not
# greater than 9.8" about the two numbers (ignoring "if 9.11 is greater…", which only restates the
# question). `tally_answers` counts each sample as right, wrong, or *no answer* when the reply never
# commits to an order.

# %%
from course_lib.cot import tally_answers
from course_lib.lessons.l04_chain_of_thought.experiment import collect_samples, summarise

samples = collect_samples(small, samples=8)
by_question = {c.question: c for c in COMPARISONS}
tallies = {key: tally_answers([r.text for r in rs], by_question[key[0]]) for key, rs in samples.items()}

print(f"{'question':32} {'mode':6} right wrong none")
for (q, mode), t in tallies.items():
    print(f"{q:32} {mode:6} {t.correct:5} {t.wrong:5} {t.missing:4}")

# %%
import matplotlib.pyplot as plt

labels = [f"{q}\n{mode}" for q, mode in tallies]
right, wrong, none = (
    [getattr(t, f) for t in tallies.values()] for f in ("correct", "wrong", "missing")
)
fig, ax = plt.subplots(figsize=(8, 4.5))
ax.barh(labels, right, color="#31a354", label="right")
ax.barh(labels, wrong, left=right, color="#de2d26", label="wrong")
ax.barh(labels, none, left=[r + w for r, w in zip(right, wrong)], color="#bdbdbd", label="no answer")
ax.invert_yaxis()
ax.set_xlabel("samples out of 8 (SmolLM2-135M, temperature 0.7)")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=8, frameon=False)
ax.tick_params(axis="y", labelsize=7)
fig.tight_layout()
plt.show()

# %% [markdown]
# Added up over the four questions:

# %%
summary = summarise(samples)
for m in summary.values():
    print(f"{m.mode:6} right {m.right:2}, wrong {m.wrong:2}, no answer {m.missing:2}  (of {m.total})")
cot = summary["cot"]
print(f"CoT replies with 'Step N:' lines: {cot.with_steps} of {cot.total}; with an 'Answer:' line: {cot.with_answer_line}")

# %% [markdown]
# What the small model actually does, honestly:
#
# - **Greedy, it answers the first question right directly** ("No, 9.11 is not greater than 9.8."),
#   the opposite of the scripted large-model story above. Sampled at temperature 0.7, its direct replies
#   split (the table's first row).
# - **It does not follow the CoT format.** It writes a paragraph that starts "To determine if …",
#   rarely numbered steps, and never the `Answer:` line (the count above), so code has to dig the
#   conclusion out of prose.
# - **Most replies never commit**, with or without steps. The CoT column has a few more right answers,
#   but with 32 replies per column and most of them unreadable, that is no evidence either way.
# - **A right answer is not right reasoning.** Here is a CoT reply counted as right:

# %%
print(samples[COMPARISONS[1].question, "cot"][3].text)

# %% [markdown]
# "9.8 becomes 9/10" and "9 / 10 = 2" are nonsense; the conclusion happens to be true. A
# 135-million-parameter model imitates the *look* of reasoning.
#
# ## What the literature reports about scale
#
# These are published results, cited here, not measured by this course:
#
# - **Wei et al., 2022**, *Chain-of-Thought Prompting Elicits Reasoning in Large Language Models*: with
#   eight worked examples that show their steps, PaLM 540B more than doubled its solve rate on GSM8K
#   (grade-school maths word problems) and set a new state of the art. The gain appeared only in models
#   of roughly 100 billion parameters and up; smaller models wrote fluent but illogical chains, and did
#   worse than when asked for the answer directly. That is what the 135M model shows above.
# - **Kojima et al., 2022**, *Large Language Models are Zero-Shot Reasoners*: adding only "Let's think
#   step by step", with no examples, took InstructGPT (`text-davinci-002`) from 17.7 % to 78.7 % on
#   MultiArith and from 10.4 % to 40.7 % on GSM8K.
#
# So chain of thought is a claim about *large* models. Measure it on the model you will pay for, with
# replies read by code and right answers computed by code. The cells of this section run unchanged
# against a bigger model: start JupyterLab with `COURSE_PROVIDER=openai` (and `OPENAI_API_KEY`), or with
# `COURSE_PROVIDER=openai-compatible COURSE_BASE_URL=… COURSE_MODEL=…` for a larger model on your own
# server, and compare the counts with the ones above. (`COURSE_PROVIDER=local` runs the same 135M model
# live, so expect the same picture with fresh samples.)

# %% [markdown]
# ## Trading compute for accuracy
#
# Steps cost tokens, and output tokens are the expensive ones. The recorded usage gives the small model's
# real lengths (capped by `max_tokens`: 24 direct, 256 with steps); the scripted large-model replies are
# counted with tiktoken. The price table turns the scripted lengths into the cost of 1,000 answers.

# %%
from course_lib.cost import request_cost

small_tokens = {mode: summary[mode].mean_completion_tokens for mode in MODES}
large_tokens = {"direct": direct.usage.completion_tokens, "cot": stepwise.usage.completion_tokens}
for who, tokens in (("SmolLM2 (recorded)", small_tokens), ("large model (scripted)", large_tokens)):
    ratio = tokens["cot"] / tokens["direct"]
    print(f"{who:24} direct {tokens['direct']:6.1f} tokens, CoT {tokens['cot']:6.1f} tokens: {ratio:.1f}x")
capped = sum(r.finish_reason == "length" for (q, m), rs in samples.items() if m == "direct" for r in rs)
print(f"SmolLM2 direct replies cut off at 24 tokens: {capped} of 32 ('answer only' was ignored)")
for model in ("gpt-4o-mini", "gpt-4"):
    cost = {m: 1000 * request_cost({"completion_tokens": t}, model).total for m, t in large_tokens.items()}
    print(f"{model:12} output cost of 1,000 scripted answers: direct ${cost['direct']:.4f}, CoT ${cost['cot']:.4f}")

# %% [markdown]
# When to pay for steps: multi-step problems, decisions where a mistake is expensive, and anything
# someone must be able to audit later. Not for lookups and high-volume, low-stakes labels.
#
# ## Models that reason before answering
#
# Some models are trained to do chain of thought on their own: OpenAI's o-series, for example, first
# generate reasoning tokens and then the visible answer. You do not prompt for the steps, and the API
# does not return them, but you pay for them: they are output tokens, counted inside
# `usage.completion_tokens` and broken out in `usage.completion_tokens_details.reasoning_tokens`. They
# also count against the output cap, so a tight `max_completion_tokens` can be spent entirely on
# reasoning and return an empty answer with `finish_reason="length"`.
#
# The course's `Usage` carries `reasoning_tokens` (the OpenAI adapter reads it, live or replayed), and
# `request_cost` shows them apart while billing them once. The usage block below is written by the
# course in the API's shape (an illustration, not a recorded call). The course's price table lists no
# reasoning model, so suppose this one bills at gpt-4o's rates:

# %%
usage_block = {  # written by the course, in the shape the API reports
    "prompt_tokens": 40,
    "completion_tokens": 1_200,
    "completion_tokens_details": {"reasoning_tokens": 1_120},
}
bill = request_cost(usage_block, "gpt-4o")
print(f"completion tokens {bill.completion_tokens:,}: {bill.reasoning_tokens:,} hidden reasoning + "
      f"{bill.visible_completion_tokens:,} visible answer")
print(f"output cost ${bill.output_cost:.5f}, of which reasoning ${bill.reasoning_cost:.5f} "
      f"({bill.reasoning_cost / bill.output_cost:.0%}); total ${bill.total:.5f}, reasoning billed once")

# %% [markdown]
# A short visible answer can hide a long bill. Log `reasoning_tokens` beside the other counts, and cap
# the reasoning (the provider's reasoning-effort setting, the output cap) where the task does not need it.
#
# ## The refund decision with an audit trail
#
# An online shop automates refund requests. The policy has a window per reason:

# %%
from course_lib.lessons.l04_chain_of_thought.refund import RefundPolicy

policy = RefundPolicy()
print(policy.describe())

# %% [markdown]
# Every verdict depends on a day count, and day counts are where code goes wrong too. A common mistake
# is to count days from a table of month lengths, with February always 28 days. It is right inside a
# month and in most years, so it passes casual tests; the input that breaks it is a span across
# 29 February of a leap year. The fix is to subtract real dates:

# %%
from datetime import date, datetime

from course_lib.lessons.l04_chain_of_thought.refund import elapsed_days, naive_day_count

for start, end in ((date(2023, 2, 10), date(2023, 3, 12)), (date(2024, 2, 10), date(2024, 3, 12))):
    print(f"{start} -> {end}: month table {naive_day_count(start, end)} days, "
          f"date subtraction {elapsed_days(start, end):.0f} days")

# %% [markdown]
# One day matters when it crosses a window: 30 days is inside a 30-day change-of-mind window, 31 is not.
#
# The code computes days with `timedelta.total_seconds()`. Another common bug is `.seconds`, which is
# only the seconds *left over after whole days*, so it looks plausible for spans under a day and is
# badly wrong for anything longer:

# %%
delta = datetime(2024, 3, 20, 9, 0) - datetime(2024, 1, 15, 17, 30)
print(f"delta = {delta}")
print(f".seconds / 86400         = {delta.seconds / 86400:.3f} days  (whole days dropped)")
print(f".total_seconds() / 86400 = {delta.total_seconds() / 86400:.3f} days")

# %% [markdown]
# The design: the model does what it is good at (reading "Arrived with a cracked screen" and choosing
# `shipping_damage`) and shows its reasoning as JSON. The code does what code is good at: it recomputes
# the days, applies the window, and compares its verdict with the model's. A request exactly on the
# boundary (14 days for a 14-day window) is in time. Four orders, with **scripted** large-model replies:

# %%
from course_lib.lessons.l04_chain_of_thought.refund import RefundOrder, decide_refund

rows = [
    ("ORD-12345", "2024-01-15", "2024-03-20", "Product defective", "299.99"),
    ("ORD-12346", "2024-02-10", "2024-03-12", "Changed my mind, no longer needed", "89.00"),
    ("ORD-12347", "2024-04-01", "2024-04-15", "Arrived with a cracked screen", "149.50"),
    ("ORD-12348", "2024-07-01", "2024-07-09", "Ordered the wrong size", "25.00"),
]
fields = ("id", "purchased_at", "requested_at", "reason", "amount")
orders = [RefundOrder(**dict(zip(fields, row))) for row in rows]
decisions = [decide_refund(large, order, policy) for order in orders]
print(f"{'order':10} {'category':18} {'model days':>10} {'real days':>9} {'model':>7} {'code':>7}  source")
for d in decisions:
    a = d.audit
    print(f"{a.order_id:10} {a.category:18} {a.claimed_days:10} {a.days_elapsed:9.0f} {a.claimed_decision:>7} {a.decision:>7}  {d.result.source}")

# %% [markdown]
# The audit log says what the model got wrong, in words:

# %%
for d in decisions:
    print(f"{d.audit.order_id}: {'; '.join(d.audit.discrepancies) or 'model and code agree'}")

# %% [markdown]
# ORD-12346 is the case that matters: the model counted 30 days (the month-table mistake above),
# approved a change-of-mind refund "on the last day", and was wrong: 31 days elapsed, so the policy says
# DENY. Trusting the model's arithmetic would have paid it; the code caught it. ORD-12345 has the same
# slip (64 claimed, 65 elapsed) without consequence, because 65 is still inside 90 days: that is why
# such errors go unnoticed until one crosses a boundary. ORD-12348 shows the other guard: a category the
# policy does not know goes to a person (REVIEW), not to the model's guess.
#
# Is the audit worth its tokens? Suppose a decision with steps costs 300 output tokens and one without
# costs 50, at gpt-4 output prices, and the shop decides 2,000 refunds a month. The extra spend is the
# break-even point: catching one wrong refund of that size a month pays for it. This is the lesson's one
# "check the arithmetic" moment:

# %%
per_decision = {n: request_cost({"completion_tokens": n}, "gpt-4").total for n in (50, 300)}
refunds_per_month = 2_000
extra = refunds_per_month * (per_decision[300] - per_decision[50])
print(f"per decision: ${per_decision[50]:.3f} without steps, ${per_decision[300]:.3f} with steps")
print(f"extra for {refunds_per_month:,} decisions a month: ${extra:.2f}; "
      f"ORD-12346 alone would have paid out ${orders[1].amount}")

# %% [markdown]
# ## Streaming the steps (checkpoint)
#
# The checkpoint: a support chat must show something within 2 s, and a full step-by-step answer takes
# 5.8 s. Two moves: stream each step as it is produced, so the user watches the reasoning instead of a
# spinner, and route simple questions around CoT altogether. Suppose 70 % of queries are simple
# (0.8 s), 25 % medium (2.5 s) and 5 % need full reasoning (5.8 s), and a 0.1 s classifier routes every
# query:

# %%
mix = {0.8: 0.70, 2.5: 0.25, 5.8: 0.05}
routed = sum(latency * share for latency, share in mix.items())
print(f"average latency: {routed:.3f} s routed, {routed + 0.1:.3f} s with the classifier; "
      f"{5.8:.1f} s if every query used full reasoning")

# %% [markdown]
# Now the streaming. The model writes one JSON object per line, `{"step": …, "content": …}`, ending with a `final` step:

# %%
from course_lib.lessons.l04_chain_of_thought.stream import stream_messages

query = "I bought a blender on 2024-05-02 and it stopped working on 2024-06-20. Can I get my money back?"
print(stream_messages(query)[0]["content"])

# %% [markdown]
# The replay provider can simulate latency: a time to first token, then a delay per streamed piece
# (`LatencyModel`). The stream below really arrives piece by piece (at a twentieth of the simulated
# delays, to keep the notebook fast), and `iter_steps` hands out each step the moment its line is
# complete. The reply is **scripted**.

# %%
from course_lib.lessons.l04_chain_of_thought.stream import iter_steps
from course_lib.providers.replay.transport import LatencyModel

TTFT, PER_PIECE = 0.3, 0.05
latency = LatencyModel(ttft_s=TTFT, per_token_s=PER_PIECE, scale=0.05)
streamer = get_provider(recordings="04_chain_of_thought", model="gpt-4o-mini", latency=latency)
chunks = list(streamer.stream(stream_messages(query), temperature=0))
deltas = [c.delta for c in chunks if c.delta]
for step in iter_steps(deltas):
    print(f"{step['step']:8} {step['content']}")
print(f"{len(deltas)} pieces, source: {chunks[-1].result.source}")

# %% [markdown]
# When should the first step have appeared? `step_timeline` computes the replay's exact schedule
# (piece *j* arrives at TTFT + (*j*+1) × per-piece time):

# %%
from course_lib.lessons.l04_chain_of_thought.stream import step_timeline

text = "".join(deltas)
exact = step_timeline(text, ttft_s=TTFT, per_piece_s=PER_PIECE)
print(f"exact schedule: first step at {exact.first_step_s:.2f} s, whole answer at {exact.total_s:.2f} s")

# %% [markdown]
# The run above, timed on this machine and scaled back to simulated seconds, comes out later than the
# schedule and varies run to run: the machine's own work (the SDK, the parsing) is divided by the
# scale factor too, so every real millisecond counts as twenty simulated ones.

# %% tags=["nbval-ignore-output"]
arrived = [c for c in chunks if c.delta]
first_step_at = next(c.elapsed_s for c in arrived if "\n" in c.delta) / latency.scale
print(f"measured: first step after {first_step_at:.2f} s, whole answer after {chunks[-1].elapsed_s / latency.scale:.2f} s "
      f"(schedule: {exact.first_step_s:.2f} s and {exact.total_s:.2f} s)")

# %% [markdown]
# ### A common mistake: a stream parser that loses every step
#
# A natural first parser appends each piece to a buffer and, when the buffer contains a newline, tries
# to parse the *whole buffer* as one JSON object. That only works if a piece never carries the end of one
# line and the start of the next. Real servers cut text wherever their tokens fall; the replay cuts before
# each word, so `\n{"step":` arrives as one piece:

# %%
import json


def whole_buffer_steps(pieces):
    """The common mistake: parse the whole buffer as one object once it holds a newline."""
    buffer, steps = "", []
    for piece in pieces:
        buffer += piece
        if "\n" in buffer:
            try:
                steps.append(json.loads(buffer.strip()))
                buffer = ""
            except json.JSONDecodeError:
                continue  # "incomplete JSON, keep accumulating" -- it never completes
    return steps


print("pieces holding a newline:", [d for d in deltas if "\n" in d][:2])
print("whole-buffer parser:", len(whole_buffer_steps(deltas)), "steps;  iter_steps:", len(list(iter_steps(deltas))), "steps")

# %% [markdown]
# `iter_steps` splits the buffer at every newline, parses each complete line, and keeps the unfinished
# tail. So any way of cutting the text gives the same steps. A quick check with random cut points (the
# tests check it with hypothesis):

# %%
import random

rng = random.Random(4)
expected = list(iter_steps([text]))
for trial in range(3):
    cuts = sorted(rng.sample(range(1, len(text)), 25))
    pieces = [text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)])]
    print(f"random split {trial}: {len(pieces)} pieces, same steps: {list(iter_steps(pieces)) == expected}")

# %% [markdown]
# ### When does the user see something?
#
# The exact schedule again, step by step, beside a blocking call that does the same work and shows all
# of it at the end:

# %%
from course_lib.lessons.l04_chain_of_thought.plots import plot_step_timeline

streamed = step_timeline(text, ttft_s=TTFT, per_piece_s=PER_PIECE)
blocking = step_timeline(text, ttft_s=TTFT, per_piece_s=PER_PIECE, streaming=False)
for s in streamed.steps:
    print(f"{s.label:8} visible at {s.visible_s:.2f} s")
print(f"first text piece {streamed.first_token_s:.2f} s; first step {streamed.first_step_s:.2f} s; "
      f"blocking: {blocking.first_step_s:.2f} s")
plot_step_timeline(streamed, blocking)
plt.show()

# %% [markdown]
# Two lessons hide in the picture. Streaming does not make the answer faster: the final step arrives at
# the same time either way. It makes the *wait* shorter, because the first step is on screen long before
# the end. And "0.3 s to first feedback" would be the time to first *token*: a whole step needs its
# whole line, which comes later. Keep the first step short, or show a placeholder at the first token.
#
# Turn the sliders: a slower first token delays everything equally; a slower time per piece stretches
# the gap between the first step and the end; switching streaming off pushes the first step to the end.

# %% tags=["nbval-ignore-output"]
from course_lib.lessons.l04_chain_of_thought.widgets import streaming_latency_widget

streaming_latency_widget(text, ttft_s=TTFT, per_piece_s=PER_PIECE)

# %% [markdown]
# The same function the widget calls, with streaming on and off at the lesson's settings:

# %%
from course_lib.lessons.l04_chain_of_thought.stream import latency_report

print(latency_report(text, TTFT, PER_PIECE, True))
print(latency_report(text, TTFT, PER_PIECE, False))

# %% [markdown]
# The checkpoint's 5.8 s answer, with a 0.3 s first token at this per-piece time, would be this many
# pieces long:

# %%
print(f"({5.8} - {TTFT}) / {PER_PIECE} = {(5.8 - TTFT) / PER_PIECE:.0f} pieces; this reply has {len(deltas)}")

# %% [markdown]
# ## Speculative chain of thought
#
# Streaming shows the reasoning sooner; it does not give an *answer* sooner. Speculation does: start
# the cheap direct call and the step-by-step call at the same moment, show the direct answer as
# provisional when it lands, and replace it if the reasoned answer disagrees. The user waits for the fast
# call; you pay for both. Here on the scripted large-model replies from the start of the lesson, with
# the replay's simulated latency (0.3 s to the first token, 0.05 s per token). First the exact schedule:

# %%
from course_lib.lessons.l04_chain_of_thought.plots import plot_speculative_timeline
from course_lib.lessons.l04_chain_of_thought.speculative import speculative_timeline

plan = speculative_timeline(
    direct.usage.completion_tokens, stepwise.usage.completion_tokens, ttft_s=TTFT, per_token_s=PER_PIECE
)
print(f"direct call {plan.direct_s:.2f} s ({direct.usage.completion_tokens} tokens), "
      f"step-by-step call {plan.cot_s:.2f} s ({stepwise.usage.completion_tokens} tokens)")
print(f"CoT only:         first answer at {plan.first_answer_cot_only:.2f} s")
print(f"direct, then CoT: provisional at {plan.direct_s:.2f} s, final at {plan.final_answer_sequential:.2f} s")
print(f"speculative:      provisional at {plan.first_answer_speculative:.2f} s, final at {plan.final_answer_speculative:.2f} s")
plot_speculative_timeline(plan)
plt.show()

# %% [markdown]
# The same with real async calls through the provider: `speculative_cot` starts both with `acomplete`
# and reports each answer as it lands (`sample_scope(0)` replays the same recorded sample the lesson
# used above). Time runs at a tenth of the simulated delays:

# %%
from course_lib.lessons.l04_chain_of_thought.speculative import speculative_cot
from course_lib.providers.replay.scope import sample_scope

fast = get_provider(recordings="04_chain_of_thought", model="gpt-4o-mini",
                    latency=LatencyModel(ttft_s=TTFT, per_token_s=PER_PIECE, scale=0.1))
shown = []


async def ask(q):
    with sample_scope(0):
        return await speculative_cot(fast, q, on_answer=lambda label, answer, at: shown.append((label, answer)))


run = await ask(question)  # a notebook cell can await; in a script use asyncio.run(ask(question))
for label, answer in shown:
    print(f"{label:11} answer: {answer}")
print(f"sources: direct [{run.direct.source}], steps [{run.cot.source}]; revised: {run.revised}")

# %% tags=["nbval-ignore-output"]
print(f"measured: provisional after {run.direct_at_s / 0.1:.2f} s, final after {run.cot_at_s / 0.1:.2f} s "
      f"(schedule: {plan.direct_s:.2f} s and {plan.cot_s:.2f} s)")

# %% [markdown]
# Here the provisional "yes" was wrong and the reasoned "no" replaced it, which is the risk: a user may
# act on the provisional answer. Speculate where a wrong first answer is cheap to take back (a
# suggestion, a draft, a pre-filled form), label it as provisional, and never where it triggers an
# action such as a refund.

# %% [markdown]
# ## What backs each claim
#
# Every claim this lesson makes, and whether it was measured here on the real small model, cited from
# published work, or illustrated with scripted replies:

# %%
from course_lib.lessons._evidence import evidence_box
from course_lib.lessons.l04_chain_of_thought.evidence import CLAIMS

evidence_box(CLAIMS)

# %% [markdown]
# ## Summary
#
# - Chain of thought asks the model to write intermediate results before the answer; the answer is read
#   from a marked `Answer:` line, never from the first number in the text.
# - The published gains are for large models (Wei et al., 2022; Kojima et al., 2022). Measure on your own
#   model: the 135M one here rarely writes steps, never writes the `Answer:` line, and mostly never
#   commits to an answer, steps or not.
# - Steps cost output tokens: price them per answer and use them where a mistake is expensive. Reasoning
#   models bill hidden reasoning the same way, inside the completion tokens.
# - Let the model reason and classify; let code do arithmetic and policy, and compare the two. The
#   audit trail is the durable gain: it is how the wrong day count in ORD-12346 was caught.
# - Streaming shortens the wait to the first visible step, not the answer. Parse streamed lines with a
#   buffer that keeps the unfinished tail, so any cut of the text yields the same steps.
# - Speculative CoT gives a provisional answer after the fast call; use it only where taking it back is cheap.
#
# **Exercise:** `exercises/04_chain_of_thought.ipynb`: a CoT prompt and a final-answer parser, a refund
# policy check computed in code, and a step-stream parser. Grade it with
# `course grade exercises/04_chain_of_thought.ipynb`.
#
# Next: **05 · Self-consistency** (`notebooks/05_self_consistency.ipynb`).
