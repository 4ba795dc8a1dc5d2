# %% [markdown]
# # 05 · Self-consistency: voting over samples
#
# **Objectives**
# - Sample the same prompt N times at temperature > 0, in parallel, and take a vote: a quorum read
#   over a stochastic function.
# - See why temperature is what makes the samples differ, and why voting needs that difference.
# - Measure, on a small real model (SmolLM2-135M), how accuracy, agreement and token cost change with
#   N = 1, 3, 5, 7, 11, and set the result beside what is published for large models.
# - Weight votes by the model's own confidence (token log-probabilities) and compare with a plain
#   majority on the same samples.
# - Gate on agreement: answer when the samples agree, hand the case to a person when they do not.
# - Run the checkpoint system: medical triage with red-flag rules, a seven-sample vote, confidence
#   gating and a human review queue.

# %% [markdown]
# ## One question, many answers
#
# A distributed database can read a value from three replicas and accept what the majority returns.
# Self-consistency does the same with a model: send one prompt N times, read an answer out of each
# reply, and let the most common answer win. The *share* of samples that agree is a confidence signal
# you get for free.
#
# Our replicas are samples from **SmolLM2-135M-Instruct**, recorded from the real model. The prompt is
# a small quiz with three worked examples (few-shot, lesson 03):

# %%
from course_lib import get_provider
from course_lib.lessons.l05_self_consistency.vote_eval import QUIZ, quiz_messages

small = get_provider(model="SmolLM2-135M-Instruct", recordings="05_self_consistency")
item = QUIZ[2]
messages = quiz_messages(item.question)
for m in messages:
    print(f"[{m['role']}] {m['content']}")
print("known answer:", item.gold)

# %% [markdown]
# `self_consistency` fans the prompt out to `n` samples at temperature 0.7, reads each reply with the
# question's answer reader, and votes. Every sample here says `recorded`: a real model wrote it.

# %%
from course_lib.voting import self_consistency

params = {"max_tokens": 10, "logprobs": True, "top_logprobs": 3}
result = self_consistency(small, messages, n=7, extract=item.extract, **params)
for s in result.samples:
    print(f"sample {s.index}: {s.text!r:28} -> answer {s.answer}")
print("votes:", result.vote.counts)
print(f"winner {result.vote.winner}, agreement {result.vote.agreement:.0%}, gate decision: {result.decision}")

# %% [markdown]
# Seven samples, several different answers. The winner is the *plurality* answer; whether it is
# trusted is a separate question that the **gate** answers from the agreement (more below).
#
# ## Temperature creates the diversity voting needs
#
# At temperature 0 the model always takes its most likely next token, so every sample is the same
# and a vote adds nothing. At higher temperatures the answers spread out. The same two quiz questions,
# recorded at three temperatures:

# %%
from course_lib.lessons.l05_self_consistency.vote_eval import collect_pools

demo = [q for q in QUIZ if q.question in ("What is 4 times 3?", "Is water wet? Answer yes or no.")]
by_temperature = {}
for temperature, samples in ((0.0, 5), (0.7, 21), (1.2, 21)):
    by_temperature[temperature] = collect_pools(
        small, demo, samples=samples, temperature=temperature, concurrency=samples
    )
for temperature, pools in by_temperature.items():
    print(
        f"T={temperature}: "
        + "   ".join(f"{len(set(p.answers))} distinct answers to {p.question[:20]!r}" for p in pools)
    )

# %%
import matplotlib.pyplot as plt

from course_lib.lessons.l05_self_consistency.plots import plot_vote_distributions

short = {"What is 4 times 3?": "4 times 3?", "Is water wet? Answer yes or no.": "Is water wet?"}
rows = [p for t in by_temperature for p in by_temperature[t]]
labels = [f"T={t}  {short[p.question]}" for t in by_temperature for p in by_temperature[t]]
plot_vote_distributions(rows, labels=labels, title="Same prompt, three temperatures")
plt.show()

# %% [markdown]
# Two things to notice. At T=0 the answer never changes, right or wrong, so five samples cost five
# times as much and tell you nothing new. And more temperature is not simply better: at T=1.2 the
# answers scatter so widely that the right one can lose its plurality. Voting needs *some*
# diversity, around the temperature you would sample at anyway (0.7 is common).
#
# ## Fan-out: N samples in about one sample's time
#
# The samples are independent, so they run concurrently (`asyncio.gather` behind a semaphore that caps
# how many are in flight). Under replay, sample *i* always gets the *i*-th recorded answer
# (`sample_scope(i)`), whatever order the calls finish in, so the vote is the same on every run.
#
# An ambiguous sentiment question shows the fan-out; its five answers are **scripted** (written by the
# course to show a large model's spread, `source="scripted"`). Replay can also simulate latency: here
# every call takes 0.15 s.

# %%
import time

from course_lib.providers.replay.scope import sample_scope
from course_lib.providers.replay.transport import LatencyModel

SENTIMENT = [
    {
        "role": "user",
        "content": "Classify the sentiment of this review as Positive, Negative or Neutral. "
        "End with 'Answer: <label>'.\n\nReview: This product is not bad for the price.",
    }
]
LABELS = ("Positive", "Negative", "Neutral")
large = get_provider(recordings="05_self_consistency")
slow = get_provider(recordings="05_self_consistency", latency=LatencyModel(ttft_s=0.15))
timings = {}
for concurrency in (1, 5):
    start = time.perf_counter()
    sentiment = self_consistency(slow, SENTIMENT, 5, labels=LABELS, concurrency=concurrency)
    timings[concurrency] = time.perf_counter() - start
with sample_scope(0):
    print("source of the answers:", large.complete(SENTIMENT, temperature=0.7).source)
print(
    "votes:",
    sentiment.vote.counts,
    f"-> {sentiment.vote.winner} with agreement {sentiment.vote.agreement:.0%}",
)
print(f"simulated: one call 0.15 s; 5 in a row {5 * 0.15:.2f} s; 5 at once about {0.15:.2f} s")

# %% tags=["nbval-ignore-output"]
print(f"measured: one at a time {timings[1]:.1f} s, five at once {timings[5]:.1f} s")

# %% [markdown]
# Latency stays near one call; **cost does not**: five samples bill five times the tokens. A naive
# report would say "Positive, 60 % confident". The default gate does not trust a 3-to-2 split at all:
# 60 % agreement is below the 70 % needed to answer, so the decision is to escalate.

# %%
print("gate decision for the sentiment vote:", sentiment.decision)
print("its answer:", sentiment.answer)

# %% [markdown]
# ## Majority vote: ties are reported, never hidden
#
# `majority_vote` counts answers; `None` (a sample with no readable answer) abstains but still counts
# in the total, so unreadable samples *lower* the agreement. A tie is always reported. A common mistake
# is `Counter(answers).most_common(1)`: on a tie it picks one of the tied answers silently, and its
# count looks like a real majority. The input that breaks it is a tie with an abstention:

# %%
from collections import Counter

from course_lib.voting import gate, majority_vote

answers = ["Positive", "Neutral", "Neutral", "Positive", None]
print("Counter.most_common:", Counter(answers).most_common(1))
vote = majority_vote(answers)
print(
    f"winner {vote.winner}, tie {vote.tie} between {vote.tied}, agreement {vote.agreement:.0%}, abstained {vote.abstained}"
)
print("gate:", gate(vote))

# %% [markdown]
# The tie is broken by a documented rule (`first_seen`: the tied answer whose first vote came from the
# lowest sample index, stable under parallel fan-out because samples are indexed by launch order), and
# the gate escalates a tie whatever the rule picked.
#
# ## The experiment: does voting make a small model more accurate?
#
# Twelve easy questions with known answers (arithmetic, yes/no, multiple choice), each sampled **21
# times** at T=0.7 with token log-probabilities, all recorded from SmolLM2-135M
# (`scripts/experiments/05_vote_accuracy.py` made the recordings). First, how often is *one* sample
# right?

# %%
from course_lib.lessons.l05_self_consistency.vote_eval import pool_accuracy

pools = collect_pools(small, samples=21, concurrency=21)
for p in pools:
    print(f"{p.question:48} known {p.gold:4} one sample right {pool_accuracy(p):4.0%}")
single = sum(pool_accuracy(p) for p in pools) / len(pools)
print(f"mean single-sample accuracy: {single:.1%} over {sum(len(p.answers) for p in pools)} recorded samples")

# %%
plot_vote_distributions(pools, title="21 recorded samples per question (SmolLM2-135M, T=0.7)")
plt.show()

# %% [markdown]
# To learn what an N-sample vote *would* have answered, `vote_curve` draws N of the 21 recorded samples
# (without replacement, 400 seeded draws per question; for N=1 simply every sample), votes each draw,
# and averages. The majority and the weighted vote see the same draws.

# %%
from course_lib.lessons.l05_self_consistency.vote_eval import vote_curve

curve = vote_curve(pools, (1, 3, 5, 7, 11), draws=400, seed=5)
base = curve[0].majority_accuracy
for pt in curve:
    print(
        f"N={pt.n:2}: majority {pt.majority_accuracy:.1%}  weighted {pt.weighted_accuracy:.1%}  "
        f"agreement {pt.agreement:.0%}  ties {pt.tie_rate:4.0%}  tokens per question {pt.tokens_per_question:5.0f}"
    )

# %% [markdown]
# The gain over one sample, in percentage points, and what each point costs in tokens:

# %%
for pt in curve[1:]:
    gain = pt.majority_accuracy - base
    print(
        f"N={pt.n:2}: {100 * gain:+5.1f} points over one sample, "
        f"{pt.tokens_per_question / curve[0].tokens_per_question:4.1f}x the tokens"
    )

# %%
from course_lib.lessons.l05_self_consistency.plots import plot_vote_curve

plot_vote_curve(curve, title="SmolLM2-135M quiz: accuracy by N")
plt.show()

# %% [markdown]
# **Measured here.** On this model and quiz, voting helps, by the points printed above, and every step up
# in N costs its full share of tokens (right panel). These figures come from the recordings in this
# repository, so you can rerun them (`scripts/experiments/05_vote_accuracy.py`).
#
# ### What the literature reports
#
# Self-consistency was introduced for chain-of-thought reasoning on large models. **Wang et al., 2023**
# (*Self-Consistency Improves Chain of Thought Reasoning in Language Models*, ICLR) sampled many reasoning
# paths and took the majority answer: on GSM8K (grade-school maths word problems) it added 17.9 points
# over greedy chain of thought, their headline gain, and PaLM 540B reached 74.4 % with a vote over 40
# sampled paths. That is a cited result, not ours: a 135M model answering one-word quiz questions is a
# different regime. To see voting on a bigger model, run this section with `COURSE_PROVIDER=openai`
# (and `OPENAI_API_KEY`), or `COURSE_PROVIDER=openai-compatible` with `COURSE_BASE_URL` and
# `COURSE_MODEL` for a larger model on your own server; the same cells sample, vote and plot.
#
# The average also hides the real story, which the next plot shows: voting *amplifies* whatever the
# model already does most often.

# %%
from course_lib.lessons.l05_self_consistency.plots import plot_question_curves

plot_question_curves(curve, pools)
plt.show()

# %%
first, last = curve[0].per_question, curve[-1].per_question
for name, test in (
    ("better", lambda q: last[q] > first[q] + 0.05),
    ("worse", lambda q: last[q] < first[q] - 0.05),
):
    chosen = [q for q in first if test(q)]
    print(
        f"N=11 vs one sample, {name} by more than 5 points: {len(chosen)}: "
        + "; ".join(q[:24] for q in chosen)
    )

# %% [markdown]
# Where the right answer is the model's most common answer, votes push accuracy towards 100%, even when
# that answer is under half of the samples (as for "4 times 3": the wrong answers split the rest among
# themselves). Where a *wrong* answer is the most common (this model says "no" to most yes/no questions),
# voting makes the wrong answer near-certain. The right-hand plot is the textbook picture (Condorcet's
# jury theorem) for **independent** yes/no votes: the same split around p = 0.5.
#
# Suppose each sample were right 92 % of the time and the samples were independent. Then seven votes
# would almost never be wrong (the binomial arithmetic behind the right-hand plot):

# %%
from course_lib.lessons.l05_self_consistency.vote_eval import condorcet_accuracy

print(f"7 independent votes, each right 92% of the time: {condorcet_accuracy(0.92, 7):.2%} right")
print(f"7 independent votes, each right 40% of the time: {condorcet_accuracy(0.40, 7):.2%} right")

# %% [markdown]
# But samples of one model are not independent: they share its training, its biases and the prompt.
# Voting removes *noise* (a sample that wandered off), not *bias* (a belief the model holds). When a
# model is mostly wrong on a kind of question, more votes cannot fix it; a better prompt, a better model
# or a person can.
#
# ## Weighted votes: let confident samples count more
#
# A provider can return each generated token's log-probability. A sample's confidence is
# `exp(mean token logprob)`: the geometric mean of its token probabilities, a number in (0, 1] that
# does not punish longer answers. Log-probabilities are ≤ 0, so they must be exponentiated before
# they are added up as weights. One recorded sample:

# %%
import math

from course_lib.answers import logprob_confidence

with sample_scope(0):
    sample = small.complete(quiz_messages(pools[0].question), temperature=0.7, **params)
tokens = sample.choices[0].logprobs
for t in tokens:
    print(f"{t.token!r:8} logprob {t.logprob:7.3f}  probability {math.exp(t.logprob):.3f}")
by_hand = math.exp(sum(t.logprob for t in tokens) / len(tokens))
print(f"confidence by hand {by_hand:.3f}, logprob_confidence {logprob_confidence(tokens):.3f}")

# %% [markdown]
# A small example with given weights: majority and weighted vote agree on "Positive", and the weights
# widen the margin, because the Positive samples were the confident ones.

# %%
from course_lib.voting import weighted_vote

example_answers = ["Positive", "Positive", "Neutral", "Positive", "Neutral"]
example_weights = [0.92, 0.85, 0.60, 0.78, 0.55]
wv = weighted_vote(example_answers, example_weights)
print("weighted scores:", {a: round(s, 2) for a, s in wv.scores.items()}, "->", wv.winner)

# %% [markdown]
# On the recorded quiz the question is whether weighting changes the *outcome*, on the same draws:

# %%
for pt in curve[1:]:
    print(
        f"N={pt.n:2}: majority {pt.majority_accuracy:.1%}  weighted {pt.weighted_accuracy:.1%}  difference {pt.weighted_accuracy - pt.majority_accuracy:+.1%}"
    )

# %% [markdown]
# Weighting mostly breaks ties and near-ties, so it moves accuracy by a little. It only helps when the
# model is *less sure* when it is wrong; a confidently wrong model (the yes/no questions here) gets its
# wrong answer weighted up just the same.
#
# ## Confidence gating: answer, caveat or escalate
#
# The vote's agreement decides what happens next. `GatePolicy(high=0.85, moderate=0.70)`: at least 85%
# agreement is answered, at least 70% is answered with a caveat, anything lower (and any tie) goes to a
# person. For seven samples:

# %%
from course_lib.voting import GatePolicy

policy = GatePolicy(high=0.85, moderate=0.70)
for k in range(7, 2, -1):
    print(f"{k}/7 agree = {k / 7:.3f} -> {policy.level(k / 7)}")

# %% [markdown]
# Gating trades **coverage** (how many questions are answered without a person) for **accuracy of what
# is answered**. Move the sliders: more votes, stricter thresholds.

# %% tags=["nbval-ignore-output"]
from course_lib.lessons.l05_self_consistency.widgets import gate_report, gate_widget

gate_widget(pools, n=7, high=0.85, moderate=0.70, seed=5)

# %%
print(gate_report(pools, 7, 0.85, 0.70, seed=5))

# %% [markdown]
# The gate escalates the split questions and keeps accuracy among the answered ones higher than an
# ungated vote, but a model that is *confidently* wrong passes any agreement threshold: the "wrong and
# unchecked" line never reaches zero on this quiz. That is why the triage system below puts
# deterministic rules in front of the model and a person behind it.
#
# ## Early stopping: stop sampling once the outcome is fixed
#
# If the first samples already agree, the rest cannot change the winner. `stop_point` says how many of
# a run's samples, in order, were needed before the winner of a 7-sample vote was fixed (the leader's
# margin over the runner-up exceeds the samples still to come). Sampled in batches, a run can stop there.

# %%
from course_lib.voting import stop_point

needed = [stop_point(p.answers[:7], 7, rule="winner") for p in pools]
print("samples needed per question:", needed)
print(
    f"mean {sum(needed) / len(needed):.1f} of 7: {1 - sum(needed) / (7 * len(needed)):.0%} of the samples saved"
)

# %% [markdown]
# Early stopping saves tokens, not time: batches run one after another, so a stopped run can be *slower*
# than sending all seven at once. Use it when cost matters more than latency.
#
# ## Checkpoint: medical triage with escalation
#
# The checkpoint: a triage assistant recommends `ER_NOW`, `SCHEDULE_APPOINTMENT` or
# `MONITOR_HOME`; a missed emergency is unacceptable, an unnecessary ER visit is tolerable. The design is
# defence in depth, cheapest and most certain layer first:
#
# 1. **Red-flag rules** (regular expressions, no model): chest pain, trouble breathing, stroke signs …
#    → `ER_NOW` at once.
# 2. **Self-consistency**: seven chain-of-thought samples vote.
# 3. **Gating**: high agreement is answered, moderate agreement is answered with a caveat, anything
#    else, any tie, and any vote in which even one sample said `ER_NOW` for a milder winner, goes to …
# 4. **A human review queue**, worked by a clinician.
#
# This is teaching code, not a medical device. The rules look for signs anywhere in the text and ignore
# negation on purpose: a false alarm is the cheap mistake.

# %%
from course_lib.lessons.l05_self_consistency.triage import find_red_flags

for text in (
    "Severe chest pain radiating to the left arm",
    "No chest pain, just heartburn after a spicy dinner",
    "Sudden slurred speech and drooping face",
    "My chest feels tight when I climb stairs",
):
    print(f"{text:52} -> {find_red_flags(text) or 'no red flag: the model layer decides'}")

# %% [markdown]
# The last line is a paraphrase no rule catches: rules are precise but narrow, which is why the model
# layer and the urgent-vote rule stay behind them.
#
# Now the pipeline on eight cases. The seven samples per case are **scripted** (written by the course to
# show a large model's votes: unanimous, strong, moderate, split, tied, and an urgent minority).

# %%
from course_lib.lessons.l05_self_consistency.triage import TRIAGE_LABELS, TriagePipeline
from course_lib.review import ReviewQueue

ticks = iter(range(0, 10_000, 60))
queue = ReviewQueue(decisions=TRIAGE_LABELS, clock=lambda: float(next(ticks)))
pipeline = TriagePipeline(large, n=7, queue=queue)
CASES = [
    "Severe chest pain radiating to the left arm",
    "No chest pain, just heartburn after a spicy dinner",
    "Mild cold: runny nose, sneezing, no fever",
    "Persistent headache for 3 days, mild fever, fatigue",
    "Twisted ankle yesterday, swollen, can walk but it hurts",
    "Intermittent dizziness, occasional numbness in fingers",
    "Itchy rash on the forearm for two weeks, slowly spreading",
    "Stomach ache after a large meal, mild nausea",
]
records = [pipeline.triage(case) for case in CASES]
for r in records:
    print(f"{r.case_id} {r.tier:15} {r.recommendation:21} agree {r.confidence:4.0%}  {r.votes or ''}")

# %% [markdown]
# The model samples behind these votes say where they come from:

# %%
from course_lib.lessons.l05_self_consistency.triage import triage_messages

with sample_scope(0):
    print("source:", large.complete(triage_messages(CASES[2]), temperature=0.7).source)

# %% [markdown]
# Why each case ended where it did:

# %%
for r in records:
    print(f"{r.case_id}: {r.reason}")

# %% [markdown]
# The escalated cases wait in the review queue, oldest first, until a clinician records a decision:

# %%
for item in queue.pending():
    print(f"{item.case_id} t={item.created_at:>4.0f}s  {item.symptoms[:50]:50}  {item.votes}")
done = queue.resolve(
    queue.pending()[0].case_id, "SCHEDULE_APPOINTMENT", reviewer="dr.lee", note="neuro exam booked"
)
print(f"resolved {done.case_id} as {done.decision} by {done.reviewer}; still pending: {len(queue)}")

# %% [markdown]
# What it cost: the rule tier is free, every model-decided or escalated case paid for seven samples.
# Prices come from the dated price table (lesson 08).

# %%
from course_lib.cost import request_cost

for tier in ("rules", "model_high", "model_moderate", "human"):
    chosen = [r for r in records if r.tier == tier]
    tokens = sum(r.tokens.total_tokens for r in chosen)
    dollars = sum(request_cost(r.tokens, "gpt-4o-mini").total for r in chosen)
    print(f"{tier:15} cases {len(chosen)}  tokens {tokens:5,}  ${dollars:.5f} at gpt-4o-mini prices")

# %% [markdown]
# Try it: pick a case, change the number of votes and the thresholds. Fewer votes are cheaper, but a
# vote of one or two cannot show disagreement; stricter thresholds send more cases to a person.

# %% tags=["nbval-ignore-output"]
from course_lib.lessons.l05_self_consistency.widgets import triage_report, triage_widget

triage_widget(large, CASES[2:], n=7)

# %%
print(triage_report(large, "Twisted ankle yesterday, swollen, can walk but it hurts", 7, 0.85, 0.70))
print(triage_report(large, "Twisted ankle yesterday, swollen, can walk but it hurts", 3, 0.85, 0.70))

# %% [markdown]
# ### The same pipeline on the small model (recorded)
#
# Point the pipeline at SmolLM2-135M and the real weakness shows: most of its seven replies never reach
# an `Answer:` line, so few samples vote, agreement is low, and the gate hands the case to a person.
# That is the gate doing its job: a system that cannot tell is not allowed to guess.

# %%
weak = TriagePipeline(small, n=7, concurrency=1, max_tokens=120, queue=ReviewQueue(decisions=TRIAGE_LABELS))
r = weak.triage("Persistent headache for 3 days, mild fever, fatigue")
print(f"{r.tier}: {r.recommendation}; votes {r.votes} from {r.model_calls} samples; {r.reason}")

# %% [markdown]
# ### What the layers add up to
#
# Suppose, for 10,000 patients a month, the layers take these shares of the cases with these accuracies,
# miss rates and costs per case, and that the emergencies the system catches avoid $500,000 of harm and
# liability a month (assumptions for planning, not measurements). The overall accuracy is the
# share-weighted average of the rows, and so is the miss rate. This is the lesson's one "check the
# arithmetic" moment:

# %%
LAYERS = {  # layer: (share of patients, accuracy, false-negative rate, cost per case in USD), assumed
    "rules": (0.05, 1.000, 0.000, 0.00),
    "AI high confidence": (0.75, 0.985, 0.015, 0.14),
    "AI moderate confidence": (0.15, 0.950, 0.050, 0.14),
    "human review": (0.05, 0.999, 0.001, 50.00),
}
overall = sum(share * acc for share, acc, _, _ in LAYERS.values())
false_negatives = sum(share * fn for share, _, fn, _ in LAYERS.values())
monthly = sum(share * cost * 10_000 for share, _, _, cost in LAYERS.values())
print(f"overall accuracy {overall:.2%}, false negatives {false_negatives:.2%}")
print(f"monthly cost for 10,000 patients ${monthly:,.0f}; human review alone ${0.05 * 50 * 10_000:,.0f}")
print(f"return: $500,000 of avoided risk / ${monthly:,.0f} = {500_000 / monthly:.0f}x")

# %% [markdown]
# A layered design does not reach 99.9 % by adding layers whose rows average lower: the overall figure
# can never beat the weighted mean of its parts. And the cost shows where the money goes: almost all of
# it pays for human review, so the escalation rate, not the number of samples, is the cost lever.
#
# ## What backs each claim
#
# Every claim this lesson makes, and whether it was measured here on the real small model, cited from
# published work, or illustrated with scripted replies:

# %%
from course_lib.lessons._evidence import evidence_box
from course_lib.lessons.l05_self_consistency.evidence import CLAIMS

evidence_box(CLAIMS)

# %% [markdown]
# ## Summary
#
# - Self-consistency is a quorum read: N samples at temperature > 0, fanned out in parallel (about one
#   sample's latency, N times the tokens), a vote, and the agreement as a confidence signal.
# - Ties and unreadable samples are reported and lower the agreement; they are never hidden.
# - Measured on a 135M model, an 11-sample vote raised quiz accuracy from about 41 % to about 52 %
#   (+10 points) for 11 times the tokens. It helps where the model is right more often than not and
#   hurts where it is usually wrong: votes remove noise, not bias. On large models with chain of thought
#   the published gain is larger (Wang et al., 2023).
# - Weighted votes use `exp(mean logprob)` per sample; they refine close votes, not confident mistakes.
# - Gating turns agreement into a decision: answer, caveat or escalate. In a safety-critical system, rules
#   go first, a person goes last, and the escalation rate drives the cost.
#
# **Exercise:** `exercises/05_self_consistency.ipynb`: a majority vote that reports ties, a weighted vote
# from log-probabilities, the gate that escalates, and an early-stopping rule. Grade it with
# `course grade exercises/05_self_consistency.ipynb`.
#
# Next: **06 · The agent loop** (`notebooks/06_agent_loop.ipynb`).
